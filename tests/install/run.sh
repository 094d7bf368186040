#!/usr/bin/env bash
# The install_consumer test: tracewire as an installed package.
#   run.sh SOURCE_DIR BUILD_DIR
# 1. Installs BUILD_DIR (static libraries, the daemon and the CLI) into a
#    temporary prefix with `cmake --install --prefix`.
# 2. Builds examples/consumer with tracewire's source tree added by
#    add_subdirectory (the libraries and examples: no GoogleTest, no daemon),
#    as shared libraries (-DBUILD_SHARED_LIBS=ON), and installs that build's
#    tracewire (-DTRACEWIRE_INSTALL=ON) into a second prefix: one build
#    checks both the add_subdirectory use and the shared libraries.
# For each prefix it builds and runs examples/consumer (find_package), the
# same program through pkg-config, and tests/install/proto_clash (the
# program's own generated OTLP classes next to tracewire; static prefix only),
# and checks that no
# generated protobuf code and, for the shared library, nothing but the
# tracewire API is exported.
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tw-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
jobs=$(nproc)
fail() { echo "install_consumer: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

# Builds and runs the consumers against PREFIX; LABEL names the build dirs.
check_prefix() {
  local prefix=$1 label=$2 static_flag=$3
  step "[$label] examples/consumer with find_package(tracewire)"
  cmake -S "$src/examples/consumer" -B "$work/consumer-$label" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=None >/dev/null
  cmake --build "$work/consumer-$label" -j"$jobs" >/dev/null
  "$work/consumer-$label/consumer" | tee "$work/out"
  grep -q '^consumer: ok ' "$work/out" || fail "[$label] consumer"

  step "[$label] the same program through pkg-config ($static_flag)"
  local pcdir
  pcdir=$(dirname "$(find "$prefix" -name tracewire-sdk.pc | head -n 1)")
  [ -f "$pcdir/tracewire-sdk.pc" ] || fail "[$label] no tracewire-sdk.pc"
  [ -f "$pcdir/tracewire-exporter.pc" ] || fail "[$label] no tracewire-exporter.pc"
  # shellcheck disable=SC2046
  c++ -O1 "$src/examples/consumer/main.cc" -o "$work/consumer-pc-$label" \
    $(PKG_CONFIG_PATH="$pcdir" pkg-config $static_flag --cflags --libs tracewire-sdk) \
    -Wl,-rpath,"$(dirname "$pcdir")"
  "$work/consumer-pc-$label" | grep -q '^consumer: ok ' || fail "[$label] pkg-config consumer"

  # The program's own OTLP classes next to tracewire's, once (against the
  # static libraries, where a clash would show at link time); for the shared
  # ones the check below that they hold no generated protobuf code suffices.
  if [ "$label" = static ]; then
  step "[$label] proto_clash: the program's own OTLP classes next to tracewire"
  cmake -S "$src/tests/install/proto_clash" -B "$work/clash-$label" \
    -DCMAKE_PREFIX_PATH="$prefix" -DOTLP_PROTO_DIR="$src/proto" -DCMAKE_BUILD_TYPE=None >/dev/null
  cmake --build "$work/clash-$label" -j"$jobs" >/dev/null
  "$work/clash-$label/proto_clash" | tee "$work/out"
  grep -q '^proto_clash: ok' "$work/out" || fail "[$label] proto_clash"
  fi

  step "[$label] no generated protobuf code in the libraries"
  local lib
  for lib in "$(dirname "$pcdir")"/libtracewire_*; do
    [ -L "$lib" ] && continue
    if nm -C "$lib" 2>/dev/null | grep -E ' [A-Za-z] .*(opentelemetry::proto|google::rpc)::' | head -n 3 |
      grep .; then
      fail "$lib holds generated protobuf code"
    fi
  done
}

step "static: cmake --install $build --prefix $work/static"
cmake --install "$build" --prefix "$work/static" >/dev/null
for f in bin/tracewired bin/tracewire include/tracewire/trace.h include/tracewire/version.h \
  include/tracewire/export.h etc/tracewire/tracewired.yaml lib/cmake/tracewire/tracewireConfig.cmake \
  lib/systemd/system/tracewired.service; do
  [ -e "$work/static/$f" ] || fail "static: $f not installed"
done
ls "$work/static"/lib/libtracewire_sdk.a "$work/static"/lib/libtracewire_exporter.a >/dev/null ||
  fail "static: libraries not installed"
# Public headers only: nothing from src/.
if grep -rhE '#include "(common|wire|propagation|exporter|sdk|pipeline|receiver|tools)/' \
  "$work/static/include/tracewire"; then
  fail "an installed header includes an internal one"
fi
"$work/static/bin/tracewired" --validate-config "$work/static/etc/tracewire/tracewired.yaml" ||
  fail "the installed default configuration does not validate"
check_prefix "$work/static" static --static

# A unity build (one translation unit per 8 files parses gRPC's and abseil's
# headers once, not 8 times): compiling the library file by file made this
# the longest test of `make test`. It also checks that file-local names do
# not clash between files.
step "add_subdirectory + shared: examples/consumer with tracewire's source tree, -DBUILD_SHARED_LIBS=ON"
cmake -S "$src/examples/consumer" -B "$work/consumer-subdir" -DTRACEWIRE_SOURCE_DIR="$src" \
  -DCMAKE_BUILD_TYPE=None -DBUILD_SHARED_LIBS=ON -DTRACEWIRE_INSTALL=ON \
  -DTRACEWIRE_BUILD_EXAMPLES=ON -DCMAKE_UNITY_BUILD=ON >"$work/subdir.log" ||
  { cat "$work/subdir.log"; fail "add_subdirectory configure"; }
if grep -qE '^(GTest_DIR|benchmark_DIR|yaml-cpp_DIR):' "$work/consumer-subdir/CMakeCache.txt"; then
  fail "add_subdirectory looked for GoogleTest, Google Benchmark or yaml-cpp"
fi
cmake --build "$work/consumer-subdir" -j"$jobs" >/dev/null
"$work/consumer-subdir/consumer" | grep '^consumer: ok ' || fail "add_subdirectory consumer"
cmake --install "$work/consumer-subdir" --prefix "$work/shared" >/dev/null
so="$work/shared/lib/libtracewire_sdk.so"
version=$(sed -n 's/^#define TRACEWIRE_VERSION_STRING "\(.*\)"/\1/p' "$work/shared/include/tracewire/version.h")
[ -L "$so" ] || fail "shared: no $so link"
[ -f "$so.$version" ] || fail "shared: no $so.$version"
readelf -d "$so" | grep -q "SONAME.*libtracewire_sdk.so.0" || fail "shared: SONAME is not libtracewire_sdk.so.0"
# The examples were built against the shared library inside its build tree.
example=$(find "$work/consumer-subdir" -type f -name custom_propagator_example | head -n 1)
[ -n "$example" ] || fail "custom_propagator_example was not built"
"$example" >/dev/null || fail "custom_propagator_example (shared)"
step "shared: only the tracewire API is exported"
# lib=required,symbols: each library exports its API (a class whose first
# declaration was hidden would lose its members).
for entry in "sdk=tracewire::Span::End(;tracewire::TracerProvider::Create(;tracewire::OtlpExporter::Create(;tracewire::MakeTraceContextPropagator(;tracewire::Version(" \
  "exporter=tracewire::OtlpExporter::Create(;tracewire::OtlpExporterOptions::FromEnv(;tracewire::Version("; do
  lib="$work/shared/lib/libtracewire_${entry%%=*}.so"
  nm -D --defined-only "$lib" | awk '{print $3}' | c++filt > "$work/exports"
  IFS=';' read -r -a wanted <<<"${entry#*=}"
  for sym in "${wanted[@]}"; do
    grep -qF "$sym" "$work/exports" || fail "$lib does not export $sym"
  done
  # Internal namespaces and third-party code stay hidden.
  if grep -E '^(vtable for |typeinfo for |typeinfo name for |guard variable for )?(tracewire::(wire|sdk|exporter|common|propagation|instrumentation)::|absl::|grpc|google::)' \
    "$work/exports" | head -n 5 | grep .; then
    fail "$lib exports internals"
  fi
done
check_prefix "$work/shared" shared ""
echo "install_consumer: ok (static, shared, add_subdirectory)"
