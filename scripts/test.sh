#!/usr/bin/env bash
# README command #2: install the packages, build, run the whole test suite with ctest.
#
#   sudo bash scripts/test.sh
#
# NSBROKER_TEST_SANITIZE=1 also builds build-asan/ (ASan + UBSan) and runs the suite there.
# Default: 1 when CI=true, 0 otherwise (a clean ASan build + run roughly doubles the time).
# Exits non-zero if any build step or any test fails, in either tree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -z "${NSBROKER_TEST_SANITIZE:-}" ]]; then
  if [[ "${CI:-}" == "true" ]]; then NSBROKER_TEST_SANITIZE=1; else NSBROKER_TEST_SANITIZE=0; fi
fi
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

phase "summary"
printf 'test.sh: build/      ctest exit %s\n' "$normal"
case "$asan" in
  skipped) printf 'test.sh: build-asan/ not built (NSBROKER_TEST_SANITIZE=%s)\n' "$NSBROKER_TEST_SANITIZE" ;;
  build-failed) printf 'test.sh: build-asan/ BUILD FAILED\n' ;;
  *) printf 'test.sh: build-asan/ ctest exit %s\n' "$asan" ;;
esac
if [[ "$normal" != 0 || ( "$asan" != 0 && "$asan" != skipped ) ]]; then
  printf 'test.sh: FAILED\n'
  exit 1
fi
printf 'test.sh: all tests passed\n'
