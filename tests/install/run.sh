#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a consumer
# with find_package(otelweb) and another with pkg-config.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/consumer" -B "$tmp/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
"$tmp/cmake-build/consumer"
pcdir=$(dirname "$(find "$tmp/prefix" -name otelweb.pc | head -1)")
PKG_CONFIG_PATH="$pcdir" c++ -o "$tmp/pc-consumer" "$src/consumer/main.cc" \
  $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs otelweb) -lpthread
"$tmp/pc-consumer"
