#!/usr/bin/env bash
# Issue 18's A/B experiments, every arm interleaved with the others round by
# round (so drifting machine load hits all arms alike), then one table per
# program. About 5 minutes with the defaults.
#
#   bench/ab18.sh [build folder, default build]
#
# Environment: AB18_ROUNDS (default 3), AB18_PACED_SECONDS (2), AB18_HTTP_SECONDS (2),
# AB18_RATE (paced spans per second, 100000), AB18_ONLY=paced|http (one part).
# Arms: the OTELWEB_AB_* variables of bench/ab_env.h (same binaries, no
# rebuild). Paced: `otelweb_paced_cpu RATE S` whole-process CPU as % of a
# core, and per span after subtracting the harness-alone arm of the same
# round. HTTP: `otelweb_http_overhead --rounds 1 --pin 1 --control 0` per arm and round
# (one plain and one traced measurement each); "added" = traced - plain
# server CPU per request. The `base` arm appears twice (base, base-again):
# their difference is the noise floor of the run.
# Prints the host, the date (UTC) and the load average before and after: say
# them with any figure you quote (docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${AB18_ROUNDS:-3}
ps=${AB18_PACED_SECONDS:-2}
hs=${AB18_HTTP_SECONDS:-2}
rate=${AB18_RATE:-100000}
only=${AB18_ONLY:-}
paced=$build/bench/otelweb_paced_cpu
http=$build/bench/otelweb_http_overhead
for exe in "$paced" "$http"; do
  [ -x "$exe" ] || { echo "bench/ab18.sh: $exe is missing; build it: ninja -C $build otelweb_paced_cpu otelweb_http_overhead" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/ab18.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "host $(hostname), $(date -u '+%Y-%m-%d %H:%M:%S') UTC, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rounds $rounds (arms interleaved within each round)"

# name|environment (space-separated VAR=value, or "-" for none)
# The arms both programs run (the library's switches).
common_arms=(
  "simple(kept-on-thread)|OTELWEB_AB_PROCESSOR=simple"
  "handback-free|OTELWEB_AB_HANDBACK=free"
  "wake-timer-5ms|OTELWEB_AB_WAKE=timer"
  "wake-every|OTELWEB_AB_WAKE=every"
  "layout-padded|OTELWEB_AB_LAYOUT=padded"
  "attrs-off|OTELWEB_AB_ATTRS=off"
)
paced_arms=(
  "harness|-" "base|-" "base-again|-"
  "export-off|OTELWEB_AB_EXPORT=off" "export-read|OTELWEB_AB_EXPORT=read"
  "${common_arms[@]}"
)
http_arms=(
  "base(read-noop)|-" "base-again|-"
  "export-off|OTELWEB_AB_EXPORT=off" "export-noop|OTELWEB_AB_EXPORT=noop"
  "${common_arms[@]}"
  "httplib-1-thread|OTELWEB_AB_HTTP_THREADS=1"
  "otlp-grpc|--otlp grpc"
  "otlp-http|--otlp http/protobuf"
)

# median min max of the numbers on stdin
stats() { sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "- - -"; exit} m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f %.3f %.3f\n", m, v[1], v[NR]}'; }

run_arm() {  # kind, arm spec, round
  local kind=$1 spec=$2 r=$3 name env args=()
  name=${spec%%|*}
  env=${spec#*|}
  local vars=()
  if [ "$env" != "-" ]; then
    if [ "${env#--}" != "$env" ]; then read -r -a args <<<"$env"; else read -r -a vars <<<"$env"; fi
  fi
  local key
  key=$(echo "$name" | tr -c 'A-Za-z0-9\n' '_')
  if [ "$kind" = paced ]; then
    local rt=$rate
    [ "$name" = harness ] && rt=0
    env "${vars[@]}" "$paced" "$rt" "$ps" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
    sed -n 's/.*cpu_pct_of_core=\([0-9.]*\)%.*dropped=\([0-9]*\).*/\1 \2/p' "$tmp/out" >>"$tmp/paced.$key"
  else
    env "${vars[@]}" "$http" --seconds "$hs" --rounds 1 --pin 1 --control 0 --otlp none "${args[@]}" >"$tmp/out" 2>"$tmp/err" ||
      { cat "$tmp/out" "$tmp/err" >&2; return 1; }
    # round 0: plain N req X us/req | traced N req Y us/req | ratio R
    sed -n 's/^round 0: plain [0-9]* req \([0-9.]*\) us\/req | traced [0-9]* req \([0-9.]*\) us\/req | ratio \([0-9.]*\)$/\1 \2 \3/p' \
      "$tmp/out" >>"$tmp/http.$key"
    grep -q '^round 0:' "$tmp/out" || { echo "arm $name: no result" >&2; cat "$tmp/out" "$tmp/err" >&2; return 1; }
  fi
}

for ((r = 0; r < rounds; ++r)); do
  if [ "$only" != http ]; then
    # Rotate the order each round so no arm always follows the same one.
    n=${#paced_arms[@]}
    for ((i = 0; i < n; ++i)); do run_arm paced "${paced_arms[(i + r) % n]}" "$r"; done
  fi
  if [ "$only" != paced ]; then
    n=${#http_arms[@]}
    for ((i = 0; i < n; ++i)); do run_arm http "${http_arms[(i + r) % n]}" "$r"; done
  fi
  echo "round $r done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
done

if [ "$only" != http ]; then
  echo
  echo "paced CPU, $rate spans/s for ${ps}s, whole process (% of one core; median min max over rounds);"
  echo "per span = (arm - harness) median, in us of CPU"
  h=$(cut -d' ' -f1 "$tmp/paced.harness" | stats | cut -d' ' -f1)
  printf '%-24s %8s %8s %8s %10s %8s\n' arm median min max us/span dropped
  for spec in "${paced_arms[@]}"; do
    name=${spec%%|*}
    key=$(echo "$name" | tr -c 'A-Za-z0-9\n' '_')
    read -r m lo hi < <(cut -d' ' -f1 "$tmp/paced.$key" | stats)
    d=$(awk '{s+=$2} END {print s+0}' "$tmp/paced.$key")
    per=$(awk -v m="$m" -v h="$h" -v r="$rate" 'BEGIN {if (r>0) printf "%.3f", (m-h)/100/r*1e6; else print "-"}')
    [ "$name" = harness ] && per=-
    printf '%-24s %8s %8s %8s %10s %8s\n' "$name" "$m" "$lo" "$hi" "$per" "$d"
  done
fi
if [ "$only" != paced ]; then
  echo
  echo "HTTP server CPU per request (us), wrk -t1 -c4 keep-alive, ${hs}s per measurement, --pin 1;"
  echo "added = traced - plain (median over rounds of the per-round difference); ratio traced/plain: median min max"
  printf '%-24s %8s %8s %8s %8s %8s %8s\n' arm plain traced added ratio min max
  for spec in "${http_arms[@]}"; do
    name=${spec%%|*}
    key=$(echo "$name" | tr -c 'A-Za-z0-9\n' '_')
    p=$(cut -d' ' -f1 "$tmp/http.$key" | stats | cut -d' ' -f1)
    t=$(cut -d' ' -f2 "$tmp/http.$key" | stats | cut -d' ' -f1)
    a=$(awk '{print $2-$1}' "$tmp/http.$key" | stats | cut -d' ' -f1)
    read -r m lo hi < <(cut -d' ' -f3 "$tmp/http.$key" | stats)
    printf '%-24s %8s %8s %8s %8s %8s %8s\n' "$name" "$p" "$t" "$a" "$m" "$lo" "$hi"
  done
fi
echo
echo "end $(date -u '+%H:%M:%S') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
