#!/usr/bin/env bash
# The docs_snippets test: reports what was extracted and skipped, then builds
# every snippet target (tests/docs/CMakeLists.txt). Usage: run_snippets.sh BUILD OUT
set -uo pipefail
build=$1
out=$2
if [ -s "$out/extract_errors.txt" ]; then
  cat "$out/extract_errors.txt"
  exit 1
fi
echo "snippets: $(grep -c '^program' "$out/index.txt") programs, $(grep -c '^fragment' "$out/index.txt") fragments"
if [ -s "$out/skipped.txt" ]; then
  echo "not compiled (tagged '// not compiled:'):"
  sed 's/^/  /' "$out/skipped.txt"
fi
exec timeout --kill-after=10 540 cmake --build "$build" --target otelweb_docs_snippets
