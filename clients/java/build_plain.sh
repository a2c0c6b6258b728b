#!/usr/bin/env bash
# Shared by plugins/qupath and plugins/icy: compiles a plugin's app-independent sources (those whose
# imports do not match APP_IMPORTS) and its src/test checks against the client jar, into
# PLUGIN/build/classes and PLUGIN/build/test-classes. Skips the work when they are up to date.
# Usage: build_plain.sh PLUGIN_DIR APP_IMPORTS_REGEX
set -euo pipefail
PLUGIN="$1"
APP_IMPORTS="$2"
CLIENT="$(cd "$(dirname "$0")" && pwd)/build"
BUILD="$PLUGIN/build"
STAMP="$BUILD/plain.stamp"

bash "$(dirname "$0")/build.sh"
if [[ -f "$STAMP" && -z $(find "$PLUGIN/src" "$PLUGIN/build.sh" "$0" "$CLIENT/bioclass-client.jar" -newer "$STAMP" \
      -type f | head -n1) ]]; then
  echo "$(basename "$PLUGIN") plain classes are up to date"
  exit 0
fi

rm -rf "$BUILD"
mkdir -p "$BUILD/classes" "$BUILD/test-classes"
CLASSPATH_JARS="$CLIENT/bioclass-client.jar:$(paste -sd: "$CLIENT/classpath.txt")"
mapfile -t plain < <(grep -L -E "$APP_IMPORTS" $(find "$PLUGIN/src/main/java" -name '*.java'))
javac --release 8 -nowarn -encoding UTF-8 -d "$BUILD/classes" -cp "$CLASSPATH_JARS" "${plain[@]}"
javac --release 8 -nowarn -encoding UTF-8 -d "$BUILD/test-classes" -cp "$BUILD/classes:$CLASSPATH_JARS" \
  $(find "$PLUGIN/src/test/java" -name '*.java')
touch "$STAMP"
echo "built $(basename "$PLUGIN") plain classes: ${plain[*]##*/}"
