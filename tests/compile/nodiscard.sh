#!/bin/sh
# Dropping the handle returned by otelweb::InstallTracing or otelweb::Install
# is a compile-time error under -Werror (the handles are [[nodiscard]]), and
# keeping it compiles warning-free under -Wall -Wextra -Werror.
# Usage: nodiscard.sh <c++ compiler> <include dir>
set -u
cxx=$1
inc=$2
dir=$(cd "$(dirname "$0")" && pwd)
flags="-std=c++20 -fsyntax-only -Wall -Wextra -Werror -I$inc"
if ! out=$("$cxx" $flags "$dir/keeps_handles.cc" 2>&1); then
  echo "FAIL: keeps_handles.cc does not compile cleanly:"; echo "$out"; exit 1
fi
if out=$("$cxx" $flags "$dir/drops_handles.cc" 2>&1); then
  echo "FAIL: drops_handles.cc compiled: dropping a handle must be an error under -Werror"; exit 1
fi
rc=0
for want in "keep the tracing handle alive" "keep the telemetry handle alive"; do
  if ! printf '%s\n' "$out" | grep -q "$want"; then
    echo "FAIL: no '$want' diagnostic"; rc=1
  fi
done
[ "$(printf '%s\n' "$out" | grep -c 'nodiscard')" -ge 2 ] || { echo "FAIL: expected two nodiscard diagnostics"; rc=1; }
[ $rc = 0 ] && echo "ok: dropping either handle fails to compile under -Werror" || printf '%s\n' "$out"
exit $rc
