#!/usr/bin/env bash
# Installs everything nsbroker needs to build, test and run its demo, from Debian 12 packages.
# Idempotent: when every package is already installed it changes nothing and needs no network.
#
#   sudo bash scripts/setup-debian.sh
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config
  # libraries (headers + what the build links)
  libboost-dev protobuf-compiler libprotobuf-dev libseccomp-dev
  libsdbus-c++-dev libsdbus-c++-bin libspdlog-dev libfmt-dev libsystemd-dev
  # tests
  libgtest-dev googletest
  # the fuzz targets (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes, and
  # llvm-symbolizer (llvm-14) for readable stack traces in their reports
  clang-14 libclang-rt-14-dev llvm-14
  # the comparison sandbox (bench, compat tests) and the tools the scripts and tests call:
  # setpriv/unshare (util-linux), ip/ss (iproute2), ps (procps)
  bubblewrap iproute2 util-linux procps
  # unit files and the D-Bus front are checked against these
  systemd dbus-daemon
  # the .deb (CPack runs dpkg-shlibdeps and file) and the unit checks (systemd-analyze verify
  # looks up the Documentation= man pages with man)
  dpkg-dev file man-db
)

say() { printf 'setup-debian: %s\n' "$*"; }
run() {
  printf '+ %s\n' "$*"
  "$@"
}

if [[ "$(id -u)" -ne 0 ]]; then
  say "run as root (sudo bash scripts/setup-debian.sh)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  say "this script needs a Debian 12 system with apt-get and dpkg-query" >&2
  exit 1
fi
if [[ -r /etc/os-release ]]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  if [[ "${ID:-}" != "debian" || "${VERSION_ID:-}" != "12" ]]; then
    say "warning: written for Debian 12, this is ${PRETTY_NAME:-unknown}; trying anyway" >&2
  fi
fi

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == "installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  say "all ${#PACKAGES[@]} packages already installed; nothing to do"
  exit 0
fi

say "missing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-o DPkg::Lock::Timeout=600)
run apt-get "${APT_OPTS[@]}" update
run apt-get install -y --no-install-recommends "${APT_OPTS[@]}" "${missing[@]}"

still_missing=()
for pkg in "${missing[@]}"; do
  is_installed "$pkg" || still_missing+=("$pkg")
done
if [[ ${#still_missing[@]} -ne 0 ]]; then
  say "still not installed after apt-get: ${still_missing[*]}" >&2
  exit 1
fi
say "installed: ${missing[*]}"
