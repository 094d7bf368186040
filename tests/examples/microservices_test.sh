#!/usr/bin/env bash
# The microservices example (examples/microservices/run.sh) end to end, as
# `make demo` runs it: every request answered, every trace whole in the
# store across HTTP and three gRPC hops, the failing request's tree with its
# log record, the three services, service-b's counter and the rpc metrics.
#
#   tests/examples/microservices_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: microservices_test.sh BUILD_DIR}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tw-microservices-XXXXXX")
trap 'rm -rf "$work"' EXIT
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^OTEL_' || true)
fail() {
  echo "microservices_test: FAILED: $*" >&2
  cat "$work/out" >&2
  exit 1
}
expect() {  # expect PATTERN WHAT
  grep -qE -- "$1" "$work/out" || fail "$2 (no line matching '$1')"
}

STORE="$work/store.db" timeout 120 bash "$here/../../examples/microservices/run.sh" "$build" \
  >"$work/out" 2>&1 || fail "run.sh exited with $?"
expect '/order/get +-> get: 1$' "the unary request's answer"
expect '/order/list +-> list: 3$' "the server-streaming request's answer"
expect '/order/upload +-> upload: 4$' "the client-streaming request's answer"
expect '/order/fail +-> error: service-c fails' "the failing request's answer"
[ "$(grep -cE '^[0-9-]+ [0-9:.]+ +[0-9a-f]{32} .* 6 spans +gateway GET /order/\{kind\}' "$work/out")" = 4 ] ||
  fail "tracewire traces does not list 4 whole traces of 6 spans rooted at the gateway"
# The failing trace's tree: each hop under the one before, the log record
# under service-b's INTERNAL span.
for hop in 'gateway GET /order/\{kind\} \[server\].*ERROR' \
  'gateway tracewire.example.ServiceB/Handle \[client\]' \
  'service-b tracewire.example.ServiceB/Handle \[server\]' \
  'service-b prepare order \[internal\]' \
  '> log ERROR order failed: service-c fails this one on purpose' \
  'service-b tracewire.example.ServiceC/Fail \[client\]' \
  'service-c tracewire.example.ServiceC/Fail \[server\].*rpc.grpc.status_code=13'; do
  expect "$hop" "the failing trace's tree"
done
for svc in gateway service-b service-c; do
  expect "^$svc +[0-9]+ +25.0%" "tracewire services: $svc with 1 error in 4"
done
expect 'order.kind=fail outcome=failed' "service-b's orders.handled counter"

# The rpc metrics of both sides of both gRPC hops reached the store.
"$build/bin/tracewire" metrics --name rpc.server.duration --store "$work/store.db" >"$work/out" ||
  fail "tracewire metrics --name rpc.server.duration"
expect 'service=service-b' "rpc.server.duration of service-b"
expect 'service=service-c' "rpc.server.duration of service-c"
expect 'rpc.method=Fail .*rpc.grpc.status_code=13|rpc.grpc.status_code=13 .*rpc.method=Fail' \
  "rpc.server.duration of the failing call"
"$build/bin/tracewire" metrics --name rpc.client.duration --store "$work/store.db" >"$work/out" ||
  fail "tracewire metrics --name rpc.client.duration"
expect 'service=gateway' "rpc.client.duration of the gateway"
echo "microservices_test: ok"
