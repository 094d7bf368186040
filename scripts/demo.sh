#!/usr/bin/env bash
# Shows tracewired working: starts it with the file sink, sends each signal
# with the CLI (some items invalid on purpose), prints what was stored, stops it.
set -euo pipefail
BIN=${1:-build/bin}
DIR=$(mktemp -d /tmp/tracewire-demo.XXXXXX)
OUT="$DIR/tracewired.out"
"$BIN/tracewired" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --sink file \
  --file-dir "$DIR/data" >"$OUT" 2>"$DIR/tracewired.err" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$OUT" 2>/dev/null && break
  sleep 0.1
done
ADDR=$(sed -n 's/^tracewired listening on //p' "$OUT")
[ -n "$ADDR" ] || { echo "tracewired did not start:"; cat "$DIR/tracewired.err"; exit 1; }
echo "== tracewired listening on $ADDR, writing to $DIR/data"
echo "== tracewire send: 5 spans, 3 metrics, 4 log records, 1 invalid item each, gzip"
"$BIN/tracewire" send --endpoint "http://$ADDR" --traces 5 --metrics 3 --logs 4 --invalid 1 --gzip
echo "== stopping tracewired (SIGTERM)"
kill -TERM $PID
wait $PID
trap - EXIT
echo "== stored (OTLP/JSON, one Export request per line):"
for f in traces metrics logs; do
  printf -- "-- %s.jsonl (%s bytes): " "$f" "$(wc -c <"$DIR/data/$f.jsonl")"
  head -c 400 "$DIR/data/$f.jsonl"
  echo " ..."
done
echo "== demo data left in $DIR"
