#!/usr/bin/env bash
# Installs a build tree into a temporary prefix, moves the prefix (the package
# must be relocatable), then builds and runs tests/install/consumer two ways:
# with find_package(otelweb) and with pkg-config, as a user would: with
# -Wall -Wextra -Werror and no -std flag of its own (the packages carry C++20).
# Then every ```cmake block of README.md and docs/*.md is built as a project
# against the installed tree (its main.cc: the nearest complete C++ program
# above it on the same page, else the first below). Every step is time-bounded.
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
for f in include/otelweb/otelweb.h include/otelweb/tracer.h include/otelweb/testing/memory_tracing.h \
         include/otelweb/testing/span_stub.h include/otelweb/trace/tracer_provider.h; do
  [ -f "$prefix/$f" ] || { echo "missing $f in the installed tree"; exit 1; }
done

step "find_package(otelweb) consumer"
warn="-Wall -Wextra -Werror"
bounded cmake -S "$src/consumer" -B "$tmp/cmake-build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$warn" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" 2>&1 || {
  cat "$tmp/configure.log"; exit 1; }
bounded cmake --build "$tmp/cmake-build"
bounded "$tmp/cmake-build/consumer"
bounded "$tmp/cmake-build/consumer_all"

step "pkg-config consumers"
pcdir=$(dirname "$(find "$prefix" -name otelweb.pc | head -1)")
export PKG_CONFIG_PATH="$pcdir"
for pcs in "otelweb otelweb-testing"; do
  flags=$(pkg-config --cflags --libs $pcs)
  echo "$pcs: $flags"
  name=pc-${pcs// /+}
  bounded "$cxx" $warn -o "$tmp/$name" "$src/consumer/main.cc" $flags
  bounded "$tmp/$name"
done
# Every component's .pc resolves and links; the old include paths compile.
all=$(cd "$pcdir" && ls otelweb*.pc | sed 's/\.pc$//' | tr '\n' ' ')
flags=$(pkg-config --cflags --libs $all)
echo "all ($all): $flags"
bounded "$cxx" $warn -DCONSUMER_OLD_PATHS -o "$tmp/pc-all" "$src/consumer/main.cc" "$src/consumer/old_paths.cc" $flags
bounded "$tmp/pc-all"

step "docs: cmake blocks against the installed tree"
bash "$src/../docs/extract_snippets.sh" "$src/../.." "$tmp/snippets" 2>"$tmp/extract.log" || true
n=0
for block in "$tmp"/snippets/*.cmake; do
  [ -e "$block" ] || continue
  b=$(basename "$block" .cmake)
  origin=$(awk -v f="$b.cmake" '$2 == f { print $3 }' "$tmp/snippets/index.txt")
  doc=${b%_*}
  # main.cc: the nearest complete program above the block on the same page, else the first below.
  line=${origin##*:}
  program=$(awk -v d="$doc" -v l="$line" '
    $1 == "program" && index($2, d "_") == 1 {
      n = $3; sub(/.*:/, "", n); n += 0
      if (n < l && n > before) { before = n; bf = $2 }
      if (n > l && (after == 0 || n < after)) { after = n; af = $2 }
    }
    END { print (bf != "" ? bf : af) }' "$tmp/snippets/index.txt")
  proj=$tmp/docs-cmake/$b
  mkdir -p "$proj"
  cp "$block" "$proj/CMakeLists.txt"
  if [ -n "$program" ]; then
    cp "$tmp/snippets/$program" "$proj/main.cc"
  else
    echo 'int main() { return 0; }' >"$proj/main.cc"
  fi
  echo "$origin (main.cc: ${program:-empty})"
  bounded cmake -S "$proj" -B "$proj/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$warn" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$proj/configure.log" 2>&1 || { echo "$origin: configure failed"; cat "$proj/configure.log"; exit 1; }
  bounded cmake --build "$proj/build" >"$proj/build.log" 2>&1 || {
    echo "$origin: build failed"; cat "$proj/build.log"; exit 1; }
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no cmake block found in the docs"; exit 1; }
echo "install test: ok"
