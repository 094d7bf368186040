#!/usr/bin/env bash
# Interop test: OpenTelemetry JS SDK (OTLP/gRPC and OTLP/HTTP exporters) -> tracewired -> file sink.
#
# usage: tests/interop/run.sh <bindir>      (<bindir>/tracewired is the daemon,
#                                            <bindir>/interop_shape_peer and
#                                            <bindir>/interop_http_peer the C++ peers)
#
# Six rounds, each with its own daemon on 127.0.0.1 (port 0):
#   plain      - insecure gRPC
#   gzip       - insecure gRPC, gzip-compressed requests
#   tls        - TLS (self-signed cert for 127.0.0.1/localhost used as the CA)
#                and a bearer token; wrong/missing tokens and plaintext must be
#                refused
#   http-proto - OTLP/HTTP, binary protobuf (the daemon's OTLP/HTTP port, read
#                from its "tracewired: OTLP/HTTP on http://HOST:PORT" stderr line)
#   http-json  - OTLP/HTTP, OTLP/JSON, gzip-compressed bodies
#   http-tls   - OTLP/HTTP protobuf over https with the bearer token, as tls
# and then a seventh:
#   shape  - <bindir>/interop_shape_peer (tracewire's C++ SDK) emits the same
#            instruments and log records as the JS sender to a daemon of its
#            own; `node interop.mjs shape` compares what the two daemons
#            wrote (the JS side from the plain round): names, types,
#            temporality, buckets, value types, log field types
# and the store round (the plain round's telemetry into the store sink, read
# back with `tracewire trace/logs/metrics --json`, store_compare.mjs), and two
# without the JS SDK's sender:
#   http-exporter - <bindir>/interop_http_peer (tracewire's OTLP/HTTP exporter)
#            sends to a receiver built with protobufjs and the official OTLP
#            protos (otlp_receiver.mjs), over http/protobuf, gzip'ed
#            http/protobuf and http/json; compared field by field
#   browser  - headless chromium loads a page (browser_page.js bundled with
#            esbuild) that sends a span through the JS SDK's OTLP/HTTP
#            exporter to a tracewired of its own on another origin, through
#            CORS; a not-allowed origin gets nothing stored (browser.mjs;
#            a missing chromium is a FAIL)
# Each round: start the daemon, `node interop.mjs send`, SIGTERM the daemon
# (it must flush and exit 0), `node interop.mjs compare` the file sink with
# what the SDK sent. Ends with a "N passed, M failed" line; exits non-zero on
# any failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BINDIR=${1:?usage: run.sh <bindir>}
BINDIR=$(cd "$BINDIR" 2>/dev/null && pwd) || { echo "run.sh: bindir $1 does not exist" >&2; exit 2; }
DAEMON="$BINDIR/tracewired"
START_TIMEOUT=30   # seconds for the daemon to print its "listening on" line
STOP_TIMEOUT=30    # seconds for the daemon to exit after SIGTERM
SEND_TIMEOUT=180   # seconds for the node sender

for tool in node npm openssl timeout sha256sum; do
  command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is required but not installed" >&2; exit 2; }
done
[[ -x "$DAEMON" ]] || { echo "run.sh: $DAEMON does not exist or is not executable" >&2; exit 2; }

# Only loopback traffic; make sure no OTEL_* environment reconfigures the exporters.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^OTEL_' || true)
export NO_PROXY='*' no_proxy='*'
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy GRPC_PROXY grpc_proxy

# ---------------------------------------------------------------- node_modules
stamp_of() { cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1; }
STAMP_FILE="$HERE/node_modules/.interop-stamp"
if [[ ! -d "$HERE/node_modules" || ! -f "$STAMP_FILE" || "$(cat "$STAMP_FILE")" != "$(stamp_of)" ]]; then
  echo "run.sh: installing the JS SDK (npm ci) in $HERE"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || { echo "run.sh: npm ci failed" >&2; exit 2; }
  stamp_of >"$STAMP_FILE"
fi

# ---------------------------------------------------------------- state
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tracewire-interop.XXXXXX")
DAEMON_PID=""
SUMMARY_PRINTED=""
PASSED=0
FAILED=0

cleanup() {
  local rc=$?
  if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  if [[ $rc -eq 0 && -z "${KEEP_INTEROP_TMP:-}" ]]; then
    rm -rf "$WORK"
  elif [[ -z "$SUMMARY_PRINTED" ]]; then
    echo "run.sh: work files kept in $WORK" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; }
show() { # show <file> <label>: indent the last lines of a log file
  [[ -s "$1" ]] || return 0
  echo "     --- $2 (last 40 lines) ---"
  tail -n 40 "$1" | sed 's/^/     | /'
}

# ---------------------------------------------------------------- TLS material
TOKEN="interop-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
  -keyout "$WORK/server.key" -out "$WORK/server.crt" \
  -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -addext "extendedKeyUsage=serverAuth" >"$WORK/openssl.log" 2>&1 \
  || { cat "$WORK/openssl.log" >&2; echo "run.sh: openssl could not create the test certificate" >&2; exit 2; }

# ---------------------------------------------------------------- one round
start_daemon() { # start_daemon <rounddir> [extra daemon args...]; sets DAEMON_PID, PORT
  # With WANT_HTTP=http|https also waits for the daemon's
  # "tracewired: OTLP/HTTP on <scheme>://127.0.0.1:PORT" stderr line; sets HTTP_PORT.
  # With STORE_DB=<file> the sink is the store (the default of tracewired)
  # instead of the file sink.
  local dir=$1; shift
  mkdir -p "$dir/sink"
  local sink_args=(--sink file --file-dir "$dir/sink")
  if [[ -n ${STORE_DB:-} ]]; then sink_args=(--sink store --store-path "$STORE_DB"); fi
  "$DAEMON" --listen 127.0.0.1:0 "${sink_args[@]}" --metrics-listen 127.0.0.1:0 "$@" \
    >"$dir/daemon.stdout" 2>"$dir/daemon.stderr" </dev/null &
  DAEMON_PID=$!
  PORT="" HTTP_PORT=""
  local deadline=$((SECONDS + START_TIMEOUT)) line
  while ((SECONDS < deadline)); do
    if [[ -z $PORT ]] && line=$(grep -m1 -E '^tracewired listening on 127\.0\.0\.1:[0-9]+$' "$dir/daemon.stdout" 2>/dev/null); then
      PORT=${line##*:}
      if ! ((PORT > 0 && PORT < 65536)); then echo "     bad port in: $line"; return 1; fi
    fi
    if [[ -n $PORT && -n ${WANT_HTTP:-} && -z $HTTP_PORT ]] &&
       line=$(grep -m1 -E "^tracewired: OTLP/HTTP on ${WANT_HTTP}://127\.0\.0\.1:[0-9]+\$" "$dir/daemon.stderr" 2>/dev/null); then
      HTTP_PORT=${line##*:}
      if ! ((HTTP_PORT > 0 && HTTP_PORT < 65536 && HTTP_PORT != PORT)); then echo "     bad OTLP/HTTP port in: $line"; return 1; fi
    fi
    if [[ -n $PORT && ( -z ${WANT_HTTP:-} || -n $HTTP_PORT ) ]]; then return 0; fi
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      local rc=0
      wait "$DAEMON_PID" || rc=$?
      DAEMON_PID=""
      echo "     tracewired exited with status $rc before printing its 'listening on' line"
      return 1
    fi
    sleep 0.1
  done
  if [[ -z $PORT ]]; then
    echo "     no 'tracewired listening on 127.0.0.1:PORT' line on stdout within ${START_TIMEOUT}s"
  else
    echo "     no 'tracewired: OTLP/HTTP on ${WANT_HTTP}://127.0.0.1:PORT' line on stderr within ${START_TIMEOUT}s"
  fi
  return 1
}

stop_daemon() { # SIGTERM, bounded wait; returns the exit status (124 = did not exit)
  local pid=$DAEMON_PID rc=0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    DAEMON_PID=""
    return 124
  fi
  wait "$pid" || rc=$?
  DAEMON_PID=""
  return $rc
}

round() { # round <mode>
  local mode=$1 dir="$WORK/$1"
  mkdir -p "$dir"
  echo "=== round: $mode"
  local extra=() send_extra=() want_http="" transport="OTLP/gRPC"
  if [[ $mode == tls || $mode == http-tls ]]; then
    extra=(--tls-cert "$WORK/server.crt" --tls-key "$WORK/server.key" --bearer-token "$TOKEN")
    send_extra=("$WORK/server.crt" "$TOKEN")
  fi
  if [[ $mode == http-* ]]; then
    want_http=http transport="OTLP/HTTP"
    if [[ $mode == http-tls ]]; then want_http=https; fi
  fi

  if WANT_HTTP=$want_http start_daemon "$dir" "${extra[@]}"; then
    pass "$mode: tracewired started and announced 127.0.0.1:$PORT${want_http:+ and OTLP/HTTP on $want_http://127.0.0.1:$HTTP_PORT}"
  else
    fail "$mode: tracewired did not start"
    show "$dir/daemon.stderr" "tracewired stderr"
    if [[ -n "$DAEMON_PID" ]]; then kill -KILL "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""; fi
    return 0
  fi

  local send_rc=0
  local endpoint="127.0.0.1:$PORT"
  if [[ -n $want_http ]]; then endpoint="127.0.0.1:$HTTP_PORT"; fi
  timeout -k 5 "$SEND_TIMEOUT" node --no-deprecation "$HERE/interop.mjs" send "$endpoint" "$mode" "$dir" "${send_extra[@]}" \
    >"$dir/send.log" 2>&1 || send_rc=$?
  sed 's/^/     /' "$dir/send.log"
  if [[ $send_rc -eq 0 ]]; then
    pass "$mode: JS SDK exported traces, metrics and logs over $transport"
  else
    fail "$mode: JS SDK send step failed (exit $send_rc)"
  fi

  local stop_rc=0
  stop_daemon || stop_rc=$?
  if [[ $stop_rc -eq 0 ]]; then
    pass "$mode: tracewired exited 0 on SIGTERM"
  elif [[ $stop_rc -eq 124 ]]; then
    fail "$mode: tracewired did not exit within ${STOP_TIMEOUT}s of SIGTERM (killed)"
  else
    fail "$mode: tracewired exited with status $stop_rc on SIGTERM (want 0)"
  fi
  local lines
  lines=$(wc -l <"$dir/daemon.stdout")
  if [[ $lines -eq 1 ]]; then
    pass "$mode: tracewired printed exactly one line on stdout"
  else
    fail "$mode: tracewired printed $lines newline-terminated lines on stdout (want exactly 1)"
    show "$dir/daemon.stdout" "tracewired stdout"
  fi
  if [[ $stop_rc -ne 0 || $send_rc -ne 0 ]]; then show "$dir/daemon.stderr" "tracewired stderr"; fi

  if [[ ! -f "$dir/sent.json" ]]; then
    fail "$mode: nothing to compare (sender wrote no sent.json)"
    return 0
  fi
  local cmp_rc=0
  node "$HERE/interop.mjs" compare "$dir/sink" "$dir" >"$dir/compare.log" 2>&1 || cmp_rc=$?
  cat "$dir/compare.log"
  if [[ -f "$dir/compare-result.json" ]]; then
    local p f
    read -r p f < <(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.passed,r.failed)' "$dir/compare-result.json")
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    if [[ $cmp_rc -ne 0 && $f -eq 0 ]]; then fail "$mode: compare exited $cmp_rc"; fi
  else
    fail "$mode: compare step crashed (exit $cmp_rc)"
  fi
  if [[ -d "$dir/sink" ]]; then echo "     sink files: $(find "$dir/sink" -maxdepth 1 -type f -printf '%f (%s bytes) ')"; fi
}

# The shape round: tracewire's own SDK (interop_shape_peer, built beside
# tracewired) emits the JS sender's instruments and log records to a daemon
# of its own; `interop.mjs shape` compares the shapes it wrote with what the
# plain round's daemon wrote for the JS SDK.
shape_round() {
  local dir="$WORK/shape" peer="$BINDIR/interop_shape_peer"
  mkdir -p "$dir"
  echo "=== round: shape"
  if [[ ! -x "$peer" ]]; then
    fail "shape: $peer does not exist or is not executable (build the interop_shape_peer target)"
    return 0
  fi
  if start_daemon "$dir"; then
    pass "shape: tracewired started and announced 127.0.0.1:$PORT"
  else
    fail "shape: tracewired did not start"
    show "$dir/daemon.stderr" "tracewired stderr"
    if [[ -n "$DAEMON_PID" ]]; then kill -KILL "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""; fi
    return 0
  fi
  local peer_rc=0
  timeout -k 5 "$SEND_TIMEOUT" "$peer" "127.0.0.1:$PORT" >"$dir/peer.log" 2>&1 || peer_rc=$?
  sed 's/^/     /' "$dir/peer.log"
  if [[ $peer_rc -eq 0 ]]; then
    pass "shape: tracewire's C++ SDK exported metrics and logs over OTLP/gRPC"
  else
    fail "shape: interop_shape_peer failed (exit $peer_rc)"
  fi
  local stop_rc=0
  stop_daemon || stop_rc=$?
  if [[ $stop_rc -eq 0 ]]; then
    pass "shape: tracewired exited 0 on SIGTERM"
  else
    fail "shape: tracewired exited with status $stop_rc on SIGTERM (want 0; 124: killed after ${STOP_TIMEOUT}s)"
    show "$dir/daemon.stderr" "tracewired stderr"
  fi
  local cmp_rc=0
  node "$HERE/interop.mjs" shape "$WORK/plain/sink" "$dir/sink" "$dir" >"$dir/compare.log" 2>&1 || cmp_rc=$?
  cat "$dir/compare.log"
  if [[ -f "$dir/compare-result.json" ]]; then
    local p f
    read -r p f < <(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.passed,r.failed)' "$dir/compare-result.json")
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    if [[ $cmp_rc -ne 0 && $f -eq 0 ]]; then fail "shape: compare exited $cmp_rc"; fi
  else
    fail "shape: shape comparison crashed (exit $cmp_rc)"
  fi
}

# A round run by one node script that writes <dir>/compare-result.json
# ({passed, failed}) and prints its own PASS/FAIL lines.
node_round() { # node_round <name> <script> <args...>
  local name=$1 script=$2; shift 2
  local dir="$WORK/$name" rc=0
  mkdir -p "$dir"
  echo "=== round: $name"
  timeout -k 5 "$SEND_TIMEOUT" node --no-deprecation "$HERE/$script" "$@" "$dir" >"$dir/round.log" 2>&1 || rc=$?
  tally "$name" "$script" "$dir" "$dir/round.log" "$rc"
}

# Shows a node script's log (less its total line) and adds its
# <dir>/compare-result.json counts to the totals.
tally() { # tally <name> <script> <dir> <log> <exit status>
  local name=$1 script=$2 dir=$3 log=$4 rc=$5
  grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$log" || true
  if [[ -f "$dir/compare-result.json" ]]; then
    local p f
    read -r p f < <(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.passed,r.failed)' "$dir/compare-result.json")
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    if [[ $rc -ne 0 && $f -eq 0 ]]; then fail "$name: $script exited $rc"; fi
  else
    fail "$name: $script crashed (exit $rc)"
  fi
}

for mode in plain gzip tls http-proto http-json http-tls; do
  round "$mode"
done
shape_round
# tracewire's OTLP/HTTP exporter (interop_http_peer) -> a receiver made of
# protobufjs and the official OTLP protos (otlp_receiver.mjs).
if [[ -x "$BINDIR/interop_http_peer" ]]; then
  node_round http-exporter otlp_receiver.mjs "$BINDIR/interop_http_peer"
else
  echo "=== round: http-exporter"
  fail "http-exporter: $BINDIR/interop_http_peer does not exist or is not executable (build the interop_http_peer target)"
fi
# The store round: the JS SDK's plain-round telemetry into tracewired's
# store sink, read back with the CLI (`tracewire trace ID --json`, `logs
# --trace`, `metrics`) and compared field by field (store_compare.mjs).
store_round() {
  local dir="$WORK/store"
  mkdir -p "$dir"
  echo "=== round: store"
  if ! STORE_DB="$dir/store.db" start_daemon "$dir"; then
    fail "store: tracewired did not start"
    show "$dir/daemon.stderr" "tracewired stderr"
    return 0
  fi
  local send_rc=0 stop_rc=0 rc=0
  timeout -k 5 "$SEND_TIMEOUT" node --no-deprecation "$HERE/interop.mjs" send "127.0.0.1:$PORT" plain "$dir" \
    >"$dir/send.log" 2>&1 || send_rc=$?
  stop_daemon || stop_rc=$?
  if [[ $send_rc -eq 0 && $stop_rc -eq 0 ]]; then
    pass "store: JS SDK exported to tracewired's store sink, which exited 0 on SIGTERM"
  else
    fail "store: send exit $send_rc, tracewired exit $stop_rc"
    sed 's/^/     /' "$dir/send.log"
    show "$dir/daemon.stderr" "tracewired stderr"
  fi
  node "$HERE/store_compare.mjs" "$BINDIR/tracewire" "$dir/store.db" "$dir" >"$dir/compare.log" 2>&1 || rc=$?
  tally store store_compare.mjs "$dir" "$dir/compare.log" "$rc"
}
store_round

# Headless chromium: a page sends a span with the JS SDK's OTLP/HTTP
# exporter to tracewired on another origin, through CORS (browser.mjs).
node_round browser browser.mjs "$DAEMON"

echo
if ((FAILED > 0)); then
  echo "run.sh: interop test FAILED; see the FAIL lines above; work files kept in $WORK"
elif [[ -n "${KEEP_INTEROP_TMP:-}" ]]; then
  echo "run.sh: work files kept in $WORK"
fi
SUMMARY_PRINTED=1
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
