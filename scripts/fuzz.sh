#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang into build-fuzz/ and runs each one for
# SECONDS (default 60) on a temporary copy of its seed corpus (tests/fuzz/corpus/<target>/,
# which is never modified).
#
#   bash scripts/fuzz.sh [SECONDS]
#
# NSBROKER_FUZZ_TARGETS="evaluate bwrap_argv" runs only those targets (default: all four).
# Prints, per target, the executions and the crashes; exits non-zero if the build fails or any
# target crashed, and keeps the crashing input (its path is printed) under build-fuzz/fuzz-runs/.
# Needs clang-14 and libclang-rt-14-dev (scripts/setup-debian.sh installs them). Reads no stdin;
# each run is stopped by libFuzzer's -max_total_time, and by `timeout` should that fail.
set -euo pipefail

usage() {
  sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

seconds=60
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *[!0-9]*) printf 'fuzz.sh: SECONDS must be a whole number, not %s\n' "$1" >&2; usage >&2; exit 2 ;;
  *) seconds="$1" ;;
esac
if [[ $# -gt 1 ]]; then
  printf 'fuzz.sh: one argument at most\n' >&2
  usage >&2
  exit 2
fi
if (( seconds < 1 )); then
  printf 'fuzz.sh: SECONDS must be at least 1\n' >&2
  exit 2
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
build_dir=build-fuzz
read -r -a targets <<<"${NSBROKER_FUZZ_TARGETS:-record_decoder policy_loader bwrap_argv evaluate}"

for tool in clang-14 clang++-14; do
  if ! command -v "$tool" >/dev/null; then
    printf 'fuzz.sh: %s not found: install clang-14 and libclang-rt-14-dev (sudo bash scripts/setup-debian.sh)\n' "$tool" >&2
    exit 1
  fi
done

start=$SECONDS
printf '+ cmake -S . -B %s -DNSBROKER_FUZZ=ON -DNSBROKER_BUILD_TESTS=OFF (clang-14)\n' "$build_dir"
mkdir -p "$build_dir"
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build_dir" -DNSBROKER_FUZZ=ON -DNSBROKER_BUILD_TESTS=OFF \
  -DCMAKE_CXX_COMPILER=clang++-14 >"$build_dir/configure.log" 2>&1 || {
  cat "$build_dir/configure.log" >&2
  printf 'fuzz.sh: configuring %s failed\n' "$build_dir" >&2
  exit 1
}
jobs="$(nproc)"
printf '+ cmake --build %s --target nsbroker_fuzz_targets -j%s\n' "$build_dir" "$jobs"
cmake --build "$build_dir" --target nsbroker_fuzz_targets -j"$jobs"
printf 'fuzz.sh: %s built in %ds\n' "$build_dir" "$((SECONDS - start))"

# Readable stack traces in the sanitizers' reports; UBSan findings stop the run like crashes.
if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" && -x /usr/lib/llvm-14/bin/llvm-symbolizer ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

runs="$build_dir/fuzz-runs"
mkdir -p "$runs"
failed=0
summary=()
for target in "${targets[@]}"; do
  binary="$build_dir/tests/fuzz/fuzz_$target"
  seeds="tests/fuzz/corpus/$target"
  if [[ ! -x "$binary" || ! -d "$seeds" ]]; then
    printf 'fuzz.sh: unknown target %s (no %s or no %s)\n' "$target" "$binary" "$seeds" >&2
    summary+=("$(printf '%-15s  NOT RUN (unknown target)' "$target")")
    failed=1
    continue
  fi
  work="$(mktemp -d "$runs/$target.XXXXXX")"
  mkdir "$work/corpus"
  cp -R "$seeds/." "$work/corpus/"
  log="$work/fuzz.log"
  printf '\n+ %s -max_total_time=%s %s  (log: %s)\n' "$binary" "$seconds" "$work/corpus" "$log"
  status=0
  # -timeout: one input taking longer is a finding too. `timeout` only guards against a hang
  # of libFuzzer itself.
  timeout --kill-after=30 "$((seconds + 300))" \
    "$binary" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/corpus" </dev/null >"$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
  mapfile -t artifacts < <(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' \
    -o -name 'oom-*' -o -name 'leak-*' -o -name 'slow-unit-*' \) | sort)
  crashes="${#artifacts[@]}"
  if [[ "$status" -ne 0 && "$crashes" -eq 0 ]]; then crashes=1; fi
  corpus_files="$(find "$work/corpus" -type f | wc -l)"
  line="$(printf '%-15s  %10s executions  %6s/s  corpus %5s  crashes: %s' \
    "$target" "${execs:-?}" "${rate:-?}" "$corpus_files" "$crashes")"
  if [[ "$crashes" -ne 0 ]]; then
    failed=1
    printf 'fuzz.sh: %s FAILED (exit %s); the end of its log:\n' "$target" "$status"
    tail -n 60 "$log" | sed 's/^/    | /'
    for artifact in "${artifacts[@]}"; do
      printf 'fuzz.sh: %s: crash input kept at %s\n' "$target" "$artifact"
      line+="  input: $artifact"
    done
    printf 'fuzz.sh: reproduce with: %s %s\n' "$binary" "${artifacts[0]:-$log}"
  else
    # Nothing to keep: the corpus copy goes, the log stays next to it for a look.
    cp "$log" "$runs/$target.log"
    rm -rf "$work"
    line+="  (log: $runs/$target.log)"
  fi
  printf 'fuzz.sh: %s\n' "$line"
  summary+=("$line")
done

printf '\nfuzz.sh: %ss per target, %ds in all\n' "$seconds" "$((SECONDS - start))"
for line in "${summary[@]}"; do printf 'fuzz.sh: %s\n' "$line"; done
if [[ "$failed" -ne 0 ]]; then
  printf 'fuzz.sh: FAILED\n'
  exit 1
fi
printf 'fuzz.sh: no crashes\n'
