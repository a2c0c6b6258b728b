#!/usr/bin/env bash
# Compiles what can be compiled without QuPath: the plain-Java logic (every source that does not
# import qupath.* or javafx.*) and its checks, against clients/java. The extension itself is built by
# users with Gradle (build.gradle), which needs QuPath's jars from maven.scijava.org.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
exec bash "$HERE/../../clients/java/build_plain.sh" "$HERE" '^import (qupath|javafx)\.'
