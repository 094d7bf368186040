#!/usr/bin/env bash
# Cross-language gRPC test: tracewire's instrumented C++ and Node.js with the
# official @opentelemetry/instrumentation-grpc, both exporting to tracewired.
#
# usage: tests/interop_grpc/run.sh <bindir>   (tracewired, grpc_interop_peer)
#
#   1. a Node.js client calls the C++ server (cpp_peer.cc);
#   2. the C++ client calls a Node.js server (node_peer.mjs);
# each exchange (Unary, ServerStream) must be one trace in tracewired's file
# sink: caller's span -> CLIENT span -> SERVER span, across the languages
# (node_peer.mjs compare). Ends with "N passed, M failed".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BINDIR=$(cd "${1:?usage: run.sh <bindir>}" && pwd)
for tool in node npm timeout sha256sum; do
  command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is required" >&2; exit 2; }
done
for bin in tracewired grpc_interop_peer; do
  [[ -x "$BINDIR/$bin" ]] || { echo "run.sh: $BINDIR/$bin is missing" >&2; exit 2; }
done
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^OTEL_' || true)
export NO_PROXY='*' no_proxy='*'
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy GRPC_PROXY grpc_proxy

stamp=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$HERE/node_modules/.stamp" 2>/dev/null)" != "$stamp" ]]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || { echo "run.sh: npm ci failed" >&2; exit 2; }
  echo "$stamp" >"$HERE/node_modules/.stamp"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tracewire-interop-grpc.XXXXXX")
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else echo "run.sh: work files kept in $WORK" >&2; fi
}
trap cleanup EXIT

wait_for() { # wait_for <what> <seconds> <command...>: polls the command every 0.1 s
  local what=$1 limit=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    if ((SECONDS >= deadline)); then echo "run.sh: no $what within ${limit}s" >&2; return 1; fi
    sleep 0.1
  done
}
stop() { # stop <pid> <name>: SIGTERM, then up to 20 s for a clean exit
  local pid=$1 rc=0
  kill -TERM "$pid"
  wait_for "exit of $2" 20 bash -c "! kill -0 $pid 2>/dev/null" || { kill -KILL "$pid"; return 1; }
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || { echo "run.sh: $2 exited $rc" >&2; return 1; }
}

mkdir -p "$WORK/sink"
"$BINDIR/tracewired" --listen 127.0.0.1:0 --sink file --file-dir "$WORK/sink" \
  >"$WORK/daemon.out" 2>"$WORK/daemon.err" </dev/null &
DAEMON=$!
PIDS+=("$DAEMON")
wait_for "tracewired address" 30 grep -qE '^tracewired listening on 127\.0\.0\.1:[0-9]+$' "$WORK/daemon.out"
OTLP=$(sed -nE 's/^tracewired listening on (127\.0\.0\.1:[0-9]+)$/\1/p' "$WORK/daemon.out")

echo "=== node client -> C++ server"
"$BINDIR/grpc_interop_peer" server "$OTLP" "$WORK/cpp.port" >"$WORK/cpp-server.log" 2>&1 &
CPP_SERVER=$!
PIDS+=("$CPP_SERVER")
wait_for "C++ server port" 30 test -s "$WORK/cpp.port"
timeout -k 5 120 node "$HERE/node_peer.mjs" client "$OTLP" "127.0.0.1:$(cat "$WORK/cpp.port")" \
  "$WORK/node-client.json" || { cat "$WORK/cpp-server.log"; exit 1; }
stop "$CPP_SERVER" "the C++ server" || { cat "$WORK/cpp-server.log"; exit 1; }

echo "=== C++ client -> node server"
node "$HERE/node_peer.mjs" server "$OTLP" "$WORK/node.port" >"$WORK/node-server.log" 2>&1 &
NODE_SERVER=$!
PIDS+=("$NODE_SERVER")
wait_for "node server port" 60 test -s "$WORK/node.port"
timeout -k 5 120 "$BINDIR/grpc_interop_peer" client "$OTLP" "127.0.0.1:$(cat "$WORK/node.port")" \
  "$WORK/cpp-client.json" || { cat "$WORK/node-server.log"; exit 1; }
stop "$NODE_SERVER" "the node server" || { cat "$WORK/node-server.log"; exit 1; }

stop "$DAEMON" tracewired || { cat "$WORK/daemon.err"; exit 1; }
node "$HERE/node_peer.mjs" compare "$WORK/sink" "$WORK/node-client.json" "$WORK/cpp-client.json"
