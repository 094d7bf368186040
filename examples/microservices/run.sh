#!/usr/bin/env bash
# The microservices example end to end: starts tracewired with the store sink
# and the three services on free loopback ports, sends a handful of requests
# through the gateway (one of each streaming kind and a failing one), stops
# everything with SIGTERM, then shows what tracewired stored with the
# tracewire CLI: the traces, the failing request's tree (with its logs), the
# services, and service-b's order counter.
#
#   examples/microservices/run.sh [BUILD_DIR]   (default: build)
#   KEEP=1 keeps the store; STORE=PATH puts it there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:-$here/../../build}" && pwd)/bin
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n "${KEEP:-}" ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# start NAME COMMAND...: runs it in the background (from this shell, so
# that its pid is ours to stop), waits for its "... listening on HOST:PORT"
# line (at most 10 s) and sets $addr to HOST:PORT.
start() {
  local name=$1
  shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    addr=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$work/$name.out" | head -1)
    [[ -n "$addr" ]] && return
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$work/$name.err" >&2
  exit 1
}

db=${STORE:-$work/tracewire.db}
start tracewired "$bin/tracewired" --listen 127.0.0.1:0 --sink store --store-path "$db" \
  --metrics-listen ''
collector=$addr
export OTEL_EXPORTER_OTLP_ENDPOINT="http://$collector"
OTEL_SERVICE_NAME=service-c start service-c "$bin/ms_service_c" 0
c=$addr
OTEL_SERVICE_NAME=service-b start service-b "$bin/ms_service_b" 0 "$c"
b=$addr
OTEL_SERVICE_NAME=gateway start gateway "$bin/ms_gateway" 0 "$b"
gw=$addr
echo "tracewired $collector, service-c $c, service-b $b, gateway $gw"

for kind in get list upload fail; do
  printf 'GET /order/%-7s -> ' "$kind"
  curl -s "http://$gw/order/$kind"
done

# Stop the services first (each flushes its spans, metrics and logs), then
# the receiver (it drains into the store and closes it).
n=${#pids[@]}
for ((i = n - 1; i >= 0; i--)); do
  kill -TERM "${pids[$i]}"
  wait "${pids[$i]}" || true
done
pids=()

cli() {
  echo
  echo "\$ tracewire $*"
  "$bin/tracewire" "$@" --store "$db"
}
cli traces
failing=$("$bin/tracewire" traces --errors --limit 1 --json --store "$db" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["trace_id"])')
cli trace "$failing"
cli services
cli metrics --name orders.handled
