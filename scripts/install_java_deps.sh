#!/usr/bin/env bash
# Installs, from Debian packages, what the Java client and the ImageJ/QuPath/Icy logic need to
# build and test: a JDK, protoc with the grpc-java plugin, the runtime jars and ImageJ 1.x; and the
# X libraries Qt's xcb platform plugin links against, without which napari cannot open a window.
# Idempotent: only missing packages are installed (apt-get update runs only when something is).
set -euo pipefail

PACKAGES=(
  default-jdk-headless          # javac and jar (Java 17 on Debian 12)
  protobuf-compiler             # protoc 3.21
  protobuf-compiler-grpc-java-plugin  # protoc-gen-grpc-java 1.41
  libprotobuf-java              # protobuf-java 3.21, matches protoc
  libgrpc-java                  # grpc-api/core/stub/protobuf/netty 1.41
  libnetty-java                 # transport used by grpc-netty
  libperfmark-java              # grpc-core needs perfmark at run time
  libgoogle-gson-java           # grpc-core's JSON service config parser
  libguava-java
  libjsr305-java                # javax.annotation.Nullable in generated stubs' deps
  libanimal-sniffer-java        # annotation referenced by grpc classes
  liberror-prone-java           # error-prone annotations referenced by grpc and guava
  imagej                        # ImageJ 1.x: /usr/share/java/ij.jar
  default-jre                   # the AWT (non-headless) runtime ImageJ needs under Xvfb
  fonts-dejavu-core             # AWT needs at least one font to build ImageJ's menus
  xvfb                          # ImageJ builds its AWT menus even in -batch mode: tests run it under xvfb-run
  xauth                         # needed by xvfb-run
  # Qt 6's xcb platform plugin (libqxcb.so and libQt6XcbQpa), for a real napari window
  libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0
  libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "java dependencies already installed"
fi
