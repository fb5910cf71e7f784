#!/usr/bin/env bash
# Test of examples/no_hooks_server.cc: starts it on an ephemeral port for two
# requests (a traced route with a W3C traceparent and a 404), sends them over
# bash's /dev/tcp, and checks the spans its console exporter printed at exit.
# With "sigterm": the example serves without a request limit and is stopped
# by SIGTERM after the requests (otelweb::StopGracefullyOnSignals): it must
# exit 0 and print the spans, which the default action of SIGTERM would lose.
# Usage: no_hooks_server_test.sh <path to the example> [sigterm]
set -u
bin=$1
mode=${2:-}
limit=2
[ "$mode" = sigterm ] && limit=-1
# timeout --foreground: our SIGTERM reaches the example once (without it,
# timeout also signals its process group: a second SIGTERM, which the
# graceful stop rightly treats as "stop now").
out=$(mktemp)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -f "$out"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- example output:"
  cat "$out"
  exit 1
}

env -u OTEL_EXPORTER_OTLP_ENDPOINT -u OTEL_EXPORTER_OTLP_TRACES_ENDPOINT -u OTEL_SDK_DISABLED \
  -u OTEL_TRACES_SAMPLER -u OTEL_CPP_EXCLUDED_URLS -u OTEL_CPP_NOHOOKS_EXCLUDED_URLS \
  OTEL_TRACES_EXPORTER=console timeout --foreground 30 "$bin" 0 "$limit" >"$out" 2>&1 &
pid=$!

port=
for _ in $(seq 1 1000); do
  port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$out")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
[ -n "$port" ] || fail "the example did not report its port"

# One request; prints the response. Bounded: the example closes after replying,
# and `timeout` covers a server that does not.
request() {
  timeout 10 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n%sConnection: close\r\n\r\n" "$2" "$1" "$3" >&3
    cat <&3' _ "$port" "$1" "$2"
}

trace=4bf92f3577b34da6a3ce929d0e0e4736
r1=$(request /hello/world "traceparent: 00-$trace-00f067aa0ba902b7-01"$'\r\n') ||
  fail "request 1 failed"
case "$r1" in *"200 OK"*"hello world"*) ;; *) fail "unexpected response 1: $r1" ;; esac
r2=$(request /nope "") || fail "request 2 failed"
case "$r2" in *"404 Not Found"*) ;; *) fail "unexpected response 2: $r2" ;; esac

# After two requests the example exits, which flushes the exporter; or
# SIGTERM stops it.
[ "$mode" = sigterm ] && kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ "$rc" = 0 ] || fail "the example exited with $rc"

grep -q "^trace $trace " "$out" || fail "no trace $trace (the client's traceparent) in the output"
grep -q 'GET /hello/:name  SERVER .*(remote parent).*http.route="/hello/:name"' "$out" ||
  fail "no SERVER span 'GET /hello/:name' with the remote parent"
grep -q 'http.response.status_code=200' "$out" || fail "no status 200 on the span"
grep -q -- '- GET  SERVER .*http.response.status_code=404' "$out" ||
  fail "no SERVER span 'GET' for the 404"
echo "PASS"
