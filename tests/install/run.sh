#!/usr/bin/env bash
# Installs a build tree into a temporary prefix, moves the prefix (the package
# must be relocatable), then builds and runs tests/install/consumer two ways:
# with find_package(otelweb) and with pkg-config. Every step is time-bounded.
# Usage: run.sh <otelweb build dir>
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelweb-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

step() { echo "--- $*"; }
bounded() { timeout --kill-after=10 "${STEP_TIMEOUT:-240}" "$@"; }

cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
[ -n "$cxx" ] || cxx=c++
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

step "cmake --install $build"
bounded cmake --install "$build" --prefix "$tmp/staging" >"$tmp/install.log" || {
  cat "$tmp/install.log"; exit 1; }
mv "$tmp/staging" "$tmp/prefix"
prefix=$tmp/prefix
for f in include/otelweb/otelweb.h include/otelweb/tracer.h; do
  [ -f "$prefix/$f" ] || { echo "missing $f in the installed tree"; exit 1; }
done

step "find_package(otelweb) consumer"
bounded cmake -S "$src/consumer" -B "$tmp/cmake-build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" 2>&1 || {
  cat "$tmp/configure.log"; exit 1; }
bounded cmake --build "$tmp/cmake-build"
bounded "$tmp/cmake-build/consumer"
bounded "$tmp/cmake-build/consumer_all"

step "pkg-config consumers"
pcdir=$(dirname "$(find "$prefix" -name otelweb.pc | head -1)")
export PKG_CONFIG_PATH="$pcdir"
# The umbrella module alone gives everything main.cc uses (Install, OTLP).
flags=$(pkg-config --cflags --libs otelweb)
echo "otelweb: $flags"
bounded "$cxx" -Wall -Wextra -Werror -o "$tmp/pc-otelweb" "$src/consumer/main.cc" $flags
bounded "$tmp/pc-otelweb"
# Every component's .pc resolves and links.
all=$(cd "$pcdir" && ls otelweb*.pc | sed 's/\.pc$//' | tr '\n' ' ')
flags=$(pkg-config --cflags --libs $all)
echo "all ($all): $flags"
bounded "$cxx" -o "$tmp/pc-all" "$src/consumer/main.cc" $flags
bounded "$tmp/pc-all"
echo "install test: ok"
