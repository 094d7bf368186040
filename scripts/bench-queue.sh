#!/usr/bin/env bash
# The persistent queue's cost in the receive scenario (RELIABILITY.md): each
# configuration is started afresh, loaded for SECONDS by tracewire-bench
# (4 streams of 512-span requests), and stopped; the configurations run in
# turn, ROUNDS times, so that their ratios come from the same invocation.
#   [STREAMS=4] [CONFIGS="..."] scripts/bench-queue.sh [ROUNDS] [SECONDS]
set -u
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-10}
BIN=build/bin
TMP=$(mktemp -d /tmp/tw-bench-queue-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

start() {  # start NAME ARGS... -> sets PID, ADDR
  local name=$1; shift
  "$BIN/tracewired" --listen 127.0.0.1:0 --metrics-listen '' "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PID=$!
  for _ in $(seq 200); do
    ADDR=$(sed -n 's/^tracewired listening on //p' "$TMP/$name.out")
    [ -n "$ADDR" ] && return 0
    sleep 0.05
  done
  echo "cannot start $name" >&2; cat "$TMP/$name.err" >&2; exit 1
}

run() {  # run CONFIG
  local cfg=$1
  local d="$TMP/$cfg-$RANDOM" hop_pid=""
  mkdir -p "$d"
  case $cfg in
    file-memory) start gw --sink file --file-dir "$d" --queue-persistent false ;;
    file-persistent-batch) start gw --sink file --file-dir "$d" ;;
    file-persistent-none) start gw --sink file --file-dir "$d" --queue-fsync none ;;
    forward-memory|forward-persistent-batch|forward-persistent-interval|forward-persistent-none)
      start hop --sink none; hop_pid=$PID; local hop=$ADDR
      local extra=(--queue-persistent false)
      [ "$cfg" = forward-persistent-batch ] && extra=(--queue-dir "$d/queue")
      [ "$cfg" = forward-persistent-interval ] && extra=(--queue-dir "$d/queue" --queue-fsync interval)
      [ "$cfg" = forward-persistent-none ] && extra=(--queue-dir "$d/queue" --queue-fsync none)
      start gw --sink forward --forward-endpoint "http://$hop" "${extra[@]}" ;;
  esac
  local line
  line=$("$BIN/tracewire-bench" --scenario receive --endpoint "$ADDR" --receiver-pid "$PID" \
         --seconds "$SECONDS_PER_RUN" --streams "${STREAMS:-4}" | grep '^scenario=receive' | tail -1)
  echo "config=$cfg $line"
  kill -TERM "$PID"; wait "$PID" 2>/dev/null
  if [ -n "$hop_pid" ]; then kill -TERM "$hop_pid"; wait "$hop_pid" 2>/dev/null; fi
  rm -rf "$d"
}

CONFIGS=${CONFIGS:-"file-memory file-persistent-batch file-persistent-none forward-memory forward-persistent-batch forward-persistent-interval forward-persistent-none"}
for r in $(seq "$ROUNDS"); do
  for c in $CONFIGS; do run "$c"; done
done
