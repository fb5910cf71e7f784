#!/usr/bin/env bash
# Smoke test of otelweb_http_overhead (not a timing test: no figure is
# checked): two short rounds with the A/A control, then one with --control 0
# as bench/ab18.sh runs it; checks the output's shape that scripts and
# docs/performance.md rely on. Exit 77 (skipped) without wrk.
#   bench/http_overhead_smoke.sh <otelweb_http_overhead> [wrk]
set -euo pipefail
exe=$1
wrk=${2:-/usr/bin/wrk}
[ -x "$wrk" ] || { echo "skipped: $wrk missing (Debian package wrk)"; exit 77; }
out=$(mktemp /tmp/http_overhead_smoke.XXXXXX)
trap 'rm -f "$out"' EXIT
fail() { echo "http_overhead_smoke: $1"; cat "$out"; exit 1; }

"$exe" --seconds 1 --rounds 2 --otlp none --wrk "$wrk" >"$out" 2>&1 || fail "three-arm run exited with $?"
n='[0-9]+(\.[0-9]+)?'
grep -Eq "^round 0 \(A A' B\): plain [0-9]+ req $n us/req \| plain' [0-9]+ req $n us/req \| traced [0-9]+ req $n us/req \| ratio $n \| control $n\$" "$out" ||
  fail "no three-arm line for round 0"
grep -Eq "^round 1 \(A' B A\): " "$out" || fail "round 1 did not rotate the order to A' B A"
grep -Eq "^  B/A   traced / plain +$n \($n-$n\)" "$out" || fail "no B/A line with its CI"
grep -Eq "^  A'/A  plain / plain control +$n \($n-$n\)" "$out" || fail "no A'/A line with its CI"
grep -Eq '^verdict: (inconclusive|goal met|goal not met|undecided)' "$out" || fail "no verdict line"
tail -n 1 "$out" | grep -Eq "^ratio $n $n $n\$" || fail "the last line is not 'ratio <median> <min> <max>'"

"$exe" --seconds 1 --rounds 1 --control 0 --otlp none --wrk "$wrk" >"$out" 2>&1 || fail "--control 0 run exited with $?"
grep -Eq "^round 0: plain [0-9]+ req $n us/req \| traced [0-9]+ req $n us/req \| ratio $n\$" "$out" ||
  fail "--control 0: no two-arm round line (bench/ab18.sh parses it)"
tail -n 1 "$out" | grep -Eq "^ratio $n $n $n\$" || fail "--control 0: the last line is not 'ratio ...'"

if "$exe" --control 1 --only other >"$out" 2>&1; then fail "--only other was accepted"; fi
if "$exe" --control yes >"$out" 2>&1; then fail "--control yes was accepted"; fi
echo "http_overhead_smoke: ok"
