#!/usr/bin/env bash
# The debian_packages test: `cpack -G DEB` in BUILD_DIR makes
# libtracewire-dev (libraries, headers, CMake and pkg-config files) and
# tracewired (daemon, CLI, systemd unit, /etc/tracewire/tracewired.yaml).
#   packages.sh BUILD_DIR
# Checks their metadata and contents, that apt resolves their dependencies
# (apt-get install --simulate), that the packaged daemon accepts the packaged
# configuration, and that examples/consumer builds against the packaged
# library.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
work=$(mktemp -d "${TMPDIR:-/tmp}/tw-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "debian_packages: FAILED: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack -G DEB"; }
dev=$(ls "$work"/out/libtracewire-dev_*.deb)
daemon=$(ls "$work"/out/tracewired_*.deb)
echo "packages: $(basename "$dev") $(basename "$daemon")"

dpkg-deb --field "$daemon" Depends | tee "$work/depends"
grep -q 'libgrpc++' "$work/depends" || fail "tracewired does not depend on libgrpc++"
dpkg-deb --field "$dev" Depends | grep -q 'libgrpc++-dev' || fail "libtracewire-dev depends"
dpkg-deb --ctrl-tarfile "$daemon" | tar -xO ./conffiles | grep -qx /etc/tracewire/tracewired.yaml ||
  fail "the configuration is not a conffile"

dpkg-deb -x "$daemon" "$work/root"
dpkg-deb -x "$dev" "$work/root"
for f in usr/bin/tracewired usr/bin/tracewire etc/tracewire/tracewired.yaml \
  usr/lib/systemd/system/tracewired.service usr/include/tracewire/trace.h \
  usr/include/tracewire/version.h; do
  [ -e "$work/root/$f" ] || fail "$f is not in the packages"
done
find "$work/root" -name 'libtracewire_sdk.a' | grep -q . || fail "no libtracewire_sdk.a"
find "$work/root" -name 'tracewireConfig.cmake' | grep -q . || fail "no tracewireConfig.cmake"
grep -q '^ExecStart=/usr/bin/tracewired --config /etc/tracewire/tracewired.yaml' \
  "$work/root/usr/lib/systemd/system/tracewired.service" || fail "unit's ExecStart"
"$work/root/usr/bin/tracewired" --validate-config "$work/root/etc/tracewire/tracewired.yaml" ||
  fail "the packaged configuration does not validate"

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  apt-get install --simulate --no-install-recommends "$dev" "$daemon" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log"; fail "apt cannot install the packages"; }
  grep -E '^Inst (tracewired|libtracewire-dev)' "$work/apt.log"
fi

cmake -S "$src/examples/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/root/usr" \
  -DCMAKE_BUILD_TYPE=None >/dev/null
cmake --build "$work/consumer" -j"$(nproc)" >/dev/null
"$work/consumer/consumer" | grep '^consumer: ok ' || fail "consumer against the packaged library"
echo "debian_packages: ok"
