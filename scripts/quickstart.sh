#!/usr/bin/env bash
# README command #1 on a fresh Debian 12 machine: install the packages, build, run the demo.
#
#   sudo bash scripts/quickstart.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

printf '\n===== 1/3 install Debian packages (scripts/setup-debian.sh)\n'
bash scripts/setup-debian.sh
printf '\n===== 2/3 build (scripts/build.sh)\n'
bash scripts/build.sh
printf '\n===== 3/3 demo (scripts/demo.sh)\n'
exec bash scripts/demo.sh
