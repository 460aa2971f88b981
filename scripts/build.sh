#!/usr/bin/env bash
# Configures and builds nsbroker.
#
#   bash scripts/build.sh              # -> build/       (RelWithDebInfo)
#   bash scripts/build.sh --sanitize   # -> build-asan/  (-DNSBROKER_SANITIZE=ON: ASan + UBSan)
#
# Extra arguments after the options are passed to the cmake configure step, e.g.
#   bash scripts/build.sh -- -DCMAKE_BUILD_TYPE=Debug
set -euo pipefail

usage() {
  sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

sanitize=OFF
build_dir=build
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sanitize) sanitize=ON; build_dir=build-asan ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) printf 'build.sh: unknown argument: %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# The test suite and the demo run binaries from the build tree as an unprivileged uid; they
# copy what they need to a 0755 temp dir, but say it early when the tree is not reachable.
d="$repo"
while [[ "$d" != "/" ]]; do
  if (( (8#$(stat -c %a "$d") & 1) == 0 )); then
    printf 'build.sh: note: %s is not world-searchable (mode %s); unprivileged test users cannot reach %s directly\n' \
      "$d" "$(stat -c %a "$d")" "$repo" >&2
    break
  fi
  d="$(dirname "$d")"
done

jobs="$(nproc)"
start=$SECONDS
printf '+ cmake -S . -B %s -DNSBROKER_SANITIZE=%s %s\n' "$build_dir" "$sanitize" "${extra[*]}"
cmake -S . -B "$build_dir" -DNSBROKER_SANITIZE="$sanitize" "${extra[@]}"
printf '+ cmake --build %s -j%s\n' "$build_dir" "$jobs"
cmake --build "$build_dir" -j"$jobs"
printf 'build.sh: %s built in %ds\n' "$build_dir" "$((SECONDS - start))"
