#!/usr/bin/env bash
# README command #2: install the packages, build, run the whole test suite with ctest.
#
#   sudo bash scripts/test.sh
#
# NSBROKER_TEST_SANITIZE=1 also builds build-asan/ (ASan + UBSan) and runs the suite there.
# Default: 1 when CI=true, 0 otherwise (a clean ASan build + run roughly doubles the time).
# NSBROKER_TEST_FUZZ=1 then builds the libFuzzer targets with clang (build-fuzz/) and runs
# each for NSBROKER_TEST_FUZZ_SECONDS (default 60) on a copy of its seed corpus
# (scripts/fuzz.sh). Default: 1 when CI=true, 0 otherwise.
# Exits non-zero if any build step, any test or any fuzz target fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -z "${NSBROKER_TEST_SANITIZE:-}" ]]; then
  if [[ "${CI:-}" == "true" ]]; then NSBROKER_TEST_SANITIZE=1; else NSBROKER_TEST_SANITIZE=0; fi
fi
if [[ -z "${NSBROKER_TEST_FUZZ:-}" ]]; then
  if [[ "${CI:-}" == "true" ]]; then NSBROKER_TEST_FUZZ=1; else NSBROKER_TEST_FUZZ=0; fi
fi
fuzz_seconds="${NSBROKER_TEST_FUZZ_SECONDS:-60}"
start=$SECONDS
phase() { printf '\n===== %s  [%ds]\n' "$*" "$((SECONDS - start))"; }

phase "install Debian packages (scripts/setup-debian.sh)"
if [[ "$(id -u)" -eq 0 ]]; then
  bash scripts/setup-debian.sh
else
  printf 'test.sh: not root: skipping the package install; tests that need root will be skipped\n'
fi

# ctest fails on an empty suite too, so a broken test registration cannot pass silently.
CTEST_ARGS=(--output-on-failure --no-tests=error)

phase "build build/ (scripts/build.sh)"
bash scripts/build.sh

phase "test build/ (ctest)"
normal=0
ctest --test-dir build "${CTEST_ARGS[@]}" || normal=$?

asan=skipped
if [[ "$NSBROKER_TEST_SANITIZE" == "1" ]]; then
  phase "build build-asan/ (scripts/build.sh --sanitize)"
  asan=0
  if bash scripts/build.sh --sanitize; then
    phase "test build-asan/ (ctest, ASan + UBSan)"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
    ctest --test-dir build-asan "${CTEST_ARGS[@]}" || asan=$?
  else
    asan=build-failed
  fi
fi

fuzz=skipped
if [[ "$NSBROKER_TEST_FUZZ" == "1" ]]; then
  phase "fuzz build-fuzz/ (scripts/fuzz.sh $fuzz_seconds: clang, libFuzzer, ${fuzz_seconds}s per target)"
  fuzz=0
  bash scripts/fuzz.sh "$fuzz_seconds" </dev/null || fuzz=$?
fi

phase "summary"
printf 'test.sh: build/      ctest exit %s\n' "$normal"
case "$asan" in
  skipped) printf 'test.sh: build-asan/ not built (NSBROKER_TEST_SANITIZE=%s)\n' "$NSBROKER_TEST_SANITIZE" ;;
  build-failed) printf 'test.sh: build-asan/ BUILD FAILED\n' ;;
  *) printf 'test.sh: build-asan/ ctest exit %s\n' "$asan" ;;
esac
case "$fuzz" in
  skipped) printf 'test.sh: build-fuzz/ not built (NSBROKER_TEST_FUZZ=%s)\n' "$NSBROKER_TEST_FUZZ" ;;
  0) printf 'test.sh: build-fuzz/ fuzz.sh: no crashes (%ss per target)\n' "$fuzz_seconds" ;;
  *) printf 'test.sh: build-fuzz/ fuzz.sh FAILED (exit %s: a build failure or a crash, see above)\n' "$fuzz" ;;
esac
if [[ "$normal" != 0 || ( "$asan" != 0 && "$asan" != skipped ) || ( "$fuzz" != 0 && "$fuzz" != skipped ) ]]; then
  printf 'test.sh: FAILED\n'
  exit 1
fi
printf 'test.sh: all tests passed\n'
