#!/usr/bin/env bash
# The store's sustained insert rate through tracewired: the receive scenario
# with every span a new trace (--unique-ids) against tracewired with the store
# sink (persistent queue in front, as by default), then SIGTERM, which drains
# the queue into the store; the rate is the spans in the store over the time
# from the first call to the end of the drain (so the queue's absorption of
# a burst does not count).
#
#   scripts/store_rate.sh BINDIR [SECONDS] [RUNS]
#
# Prints a line per run: stored= seconds= stored_per_s= accepted_per_s=
# Loopback only; every step is bounded by a timeout.
set -euo pipefail
BIN=${1:-build/bin}
SECS=${2:-20}
RUNS=${3:-3}
command -v sqlite3 >/dev/null || { echo "store_rate.sh: needs the sqlite3 command" >&2; exit 2; }
WORK=$(mktemp -d /tmp/tracewire-store-rate.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
for run in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/data"
  "$BIN/tracewired" --listen 127.0.0.1:0 --metrics-listen '' --sink store \
    --store-path "$WORK/data/tracewire.db" >"$WORK/out" 2>"$WORK/err" &
  PID=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$WORK/out" && break
    sleep 0.1
  done
  ADDR=$(sed -n 's/^tracewired listening on //p' "$WORK/out" | head -n 1)
  [ -n "$ADDR" ] || { echo "store_rate.sh: tracewired did not start" >&2; cat "$WORK/err" >&2; exit 1; }
  T0=$(date +%s.%N)
  LINE=$(timeout $((SECS + 60)) "$BIN/tracewire-bench" --scenario receive --endpoint "$ADDR" \
    --streams 4 --seconds "$SECS" --spans-per-request 512 --receiver-pid "$PID" --unique-ids \
    2>/dev/null | tail -n 1)
  kill -TERM "$PID"
  for _ in $(seq 1 1200); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  wait "$PID" 2>/dev/null || true
  PID=""
  T1=$(date +%s.%N)
  STORED=$(sqlite3 "$WORK/data/tracewire.db" "SELECT coalesce(sum(spans), 0) FROM span_blocks")
  ACCEPTED=$(echo "$LINE" | sed -n 's/.* spans_per_s=\([0-9]*\).*/\1/p')
  awk -v s="$STORED" -v t0="$T0" -v t1="$T1" -v a="$ACCEPTED" -v r="$run" \
    'BEGIN { printf "run=%d stored=%d seconds=%.1f stored_per_s=%.0f accepted_per_s=%s\n", r, s, t1 - t0, s / (t1 - t0), a }'
done
