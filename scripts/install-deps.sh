#!/usr/bin/env bash
# Installs the Debian packages tracewire builds and tests with. Idempotent:
# does nothing when every package is already installed. Runs as root in CI.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libssl-dev zlib1g-dev libyaml-cpp-dev libcpp-httplib-dev libcli11-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  openssl nodejs npm curl
  clang-14 python3 dpkg-dev file binutils libspdlog-dev libsqlite3-dev sqlite3 libzstd-dev
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node/npm may come from elsewhere than Debian (e.g. a preinstalled nodejs);
# accept them when the commands exist.
filtered=()
for p in "${missing[@]}"; do
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    curl) command -v curl >/dev/null 2>&1 && continue ;;
  esac
  filtered+=("$p")
done

if [ ${#filtered[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${filtered[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${filtered[@]}"
