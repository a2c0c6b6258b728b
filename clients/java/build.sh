#!/usr/bin/env bash
# Builds the Java client: protoc + grpc-java generate the stubs from protos/bioclass/v1, javac compiles
# them with the hand-written API, and the outputs are
#   build/bioclass-client.jar  the client (generated stubs included)
#   build/classpath.txt        its dependency jars, one per line (Debian's /usr/share/java + py4j)
#   build/test-classes/        the checks tests/java runs (src/test)
# Skips all work when the jar is newer than every source. Needs scripts/install_java_deps.sh.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUILD="$HERE/build"
JAR="$BUILD/bioclass-client.jar"
JAVA_LIB="${JAVA_LIB:-/usr/share/java}"

# grpc-java 1.41 with netty 4.1 and protobuf-java 3.21 (the versions Debian 12 ships together).
DEPENDENCIES=(
  grpc-api grpc-context grpc-core grpc-stub grpc-protobuf grpc-protobuf-lite grpc-netty
  protobuf guava perfmark-api gson jsr305 error-prone-annotations animal-sniffer-annotations
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-codec-socks netty-common
  netty-handler netty-handler-proxy netty-resolver netty-transport
)

py4j_jar() {
  local venv="${BIOCLASS_VENV:-$REPO/.venv}"
  local found
  found=$(ls "$venv"/share/py4j/py4j*.jar 2>/dev/null | head -n1 || true)
  [[ -n "$found" ]] || { echo "py4j jar not found under $venv/share/py4j (pip install py4j)" >&2; exit 1; }
  echo "$found"
}

write_classpath() {
  local jar
  : > "$BUILD/classpath.txt"
  for jar in "${DEPENDENCIES[@]}"; do
    [[ -f "$JAVA_LIB/$jar.jar" ]] || { echo "missing $JAVA_LIB/$jar.jar: run scripts/install_java_deps.sh" >&2; exit 1; }
    readlink -f "$JAVA_LIB/$jar.jar" >> "$BUILD/classpath.txt"
  done
  py4j_jar >> "$BUILD/classpath.txt"
}

up_to_date() {
  [[ -f "$JAR" && -f "$BUILD/classpath.txt" ]] || return 1
  [[ -z $(find "$REPO/protos" "$HERE/src" "$HERE/build.sh" -newer "$JAR" -type f | head -n1) ]]
}

if up_to_date; then
  echo "bioclass-client.jar is up to date"
  exit 0
fi

rm -rf "$BUILD"
mkdir -p "$BUILD/generated" "$BUILD/classes"
write_classpath

protoc --proto_path="$REPO/protos" \
  --plugin=protoc-gen-grpc-java="$(command -v grpc_java_plugin || command -v protoc-gen-grpc-java)" \
  --java_out="$BUILD/generated" --grpc-java_out="$BUILD/generated" \
  "$REPO"/protos/bioclass/v1/*.proto

# src/netty: the JDK-ALPN helper for Debian's unshaded Netty (GrpcBioclassClient loads it by name; the
# QuPath and Icy builds, on grpc-netty-shaded, leave it out).
find "$BUILD/generated" "$HERE/src/main/java" "$HERE/src/netty/java" -name '*.java' > "$BUILD/sources.txt"
javac --release 8 -nowarn -encoding UTF-8 -d "$BUILD/classes" \
  -cp "$(paste -sd: "$BUILD/classpath.txt")" @"$BUILD/sources.txt"
jar --create --file "$JAR" -C "$BUILD/classes" .

# The checks tests/java runs against a real server (not part of the client jar).
mkdir -p "$BUILD/test-classes"
javac --release 8 -nowarn -encoding UTF-8 -d "$BUILD/test-classes" \
  -cp "$JAR:$(paste -sd: "$BUILD/classpath.txt")" $(find "$HERE/src/test/java" -name '*.java')
echo "built $JAR"
