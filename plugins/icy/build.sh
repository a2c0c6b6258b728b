#!/usr/bin/env bash
# Compiles what can be compiled without Icy: the plain-Java logic (every source that does not import
# icy.* or plugins.adufour.*) and its checks, against clients/java. The plugin itself is built by
# users with Maven (pom.xml), which needs Icy's jars from Icy's Nexus.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
exec bash "$HERE/../../clients/java/build_plain.sh" "$HERE" '^import (icy|plugins\.adufour)\.'
