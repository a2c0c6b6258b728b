#!/usr/bin/env bash
# Builds the ImageJ 1.x / Fiji plugin as an update-site layout:
#   build/site/plugins/bioclass_.jar   the plugin classes and plugins.config (menu Plugins>bioclass)
#   build/site/jars/                   bioclass-client.jar and the jars it needs
# Compiles against Debian's ImageJ (/usr/share/java/ij.jar, or $IJ_JAR) and clients/java.
# Skips all work when bioclass_.jar is newer than every source.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUILD="$HERE/build"
IJ_JAR="${IJ_JAR:-/usr/share/java/ij.jar}"
CLIENT="$REPO/clients/java/build"
PLUGIN_JAR="$BUILD/site/plugins/bioclass_.jar"

# Fiji's updater tells versions apart by file name: give Debian's unversioned jars their package version.
versioned_name() {
  local jar="$1" name package version
  name="$(basename "$jar" .jar)"
  if [[ "$name" =~ [0-9]+\.[0-9]+ ]] || ! package="$(dpkg-query -S "$jar" 2>/dev/null | cut -d: -f1)"; then
    echo "$name.jar"
    return
  fi
  version="$(dpkg-query -W -f='${Version}' "$package" | sed -e 's/^[0-9]*://' -e 's/[-+~].*$//')"
  echo "$name-$version.jar"
}

bash "$REPO/clients/java/build.sh"
[[ -f "$IJ_JAR" ]] || { echo "missing $IJ_JAR: run scripts/install_java_deps.sh" >&2; exit 1; }

if [[ -f "$PLUGIN_JAR" && -z $(find "$HERE/src" "$HERE/build.sh" "$CLIENT/bioclass-client.jar" \
      -newer "$PLUGIN_JAR" -type f | head -n1) ]]; then
  echo "bioclass_.jar is up to date"
  exit 0
fi

rm -rf "$BUILD"
mkdir -p "$BUILD/classes" "$BUILD/site/plugins" "$BUILD/site/jars"
javac --release 8 -nowarn -encoding UTF-8 -d "$BUILD/classes" \
  -cp "$IJ_JAR:$CLIENT/bioclass-client.jar:$(paste -sd: "$CLIENT/classpath.txt")" \
  $(find "$HERE/src/main/java" -name '*.java')
cp "$HERE/src/main/resources/plugins.config" "$BUILD/classes/"
jar --create --file "$PLUGIN_JAR" -C "$BUILD/classes" .

cp "$CLIENT/bioclass-client.jar" "$BUILD/site/jars/"
while read -r dependency; do
  cp "$dependency" "$BUILD/site/jars/$(versioned_name "$dependency")"
done < "$CLIENT/classpath.txt"
echo "built $PLUGIN_JAR"
