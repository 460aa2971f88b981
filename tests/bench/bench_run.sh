#!/usr/bin/env bash
# Side-by-side start-up latency: nsbroker vs Debian's bwrap vs /bin/true (DESIGN.md §5).
#
#   sudo bash tests/bench/bench_run.sh          # BENCH_N=200 rounds by default
#   sudo BENCH_N=50 bash tests/bench/bench_run.sh
#
# As root it starts its own nsbrokerd on a temporary socket (build/daemon/nsbrokerd, or
# $NSB_BUILD_DIR), then as uid 1500 runs, round-robin so that noise hits every command alike:
#   /bin/true
#   nsbroker run  --ro-bind / / --dev /dev --tmpfs /tmp --unshare-pid --unshare-net
#                 --unshare-ipc --new-session --die-with-parent -- /bin/true
#   bwrap         the same argv plus --unshare-user (bwrap's user-namespace mode)
#   nsbroker --help
#   bwrap --help
#   Codex's main call (the "ws" vector of ../shared/testdata/codex-bwrap-vectors.json, its
#   paths re-rooted into a scratch tree, the command replaced by /bin/true) through
#   nsbroker's bwrap front, and through Debian's bwrap (without --argv0 when that bwrap
#   lacks it, as Codex then sends it)
#   nsbroker's bwrap front --help (Codex's probe before every command)
# and prints the mean (and median) per run, the ratio to /bin/true and the ratio to bwrap on
# the same job. Ratios, not absolute times, are the result: they are measured in one run.
# The issue's goals are checked at the end: the front at most 0.6x Debian's bwrap on Codex's
# call, and its --help at most 1.2x /bin/true (reported, not enforced).
# A command that fails its trial run is reported and left out (e.g. bwrap where unprivileged
# user namespaces are not allowed). The daemon is stopped by its PID on exit.
set -euo pipefail

NSB_PROG=bench
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

N="${BENCH_N:-200}"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || nsb_die "BENCH_N must be a positive integer, not '$N'"
WARMUP=5

nsb_require_root tests/bench/bench_run.sh
nsb_require_built

WORKDIR="$(mktemp -d /tmp/nsbroker-bench.XXXXXX)"
chmod 0755 "$WORKDIR"
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  nsb_stop_daemon
  rm -rf "$WORKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The client is copied (not only when it must be) so that its location is the same kind of
# directory as bwrap's and no 0700 parent can get in the way.
CLIENT="$WORKDIR/nsbroker"
install -m 0755 "$NSB_CLIENT_BIN" "$CLIENT"
SOCKET="$WORKDIR/nsbroker.sock"
BWRAP="$(command -v bwrap || true)"
FRONT="$WORKDIR/front/bwrap"  # a file named bwrap, as Codex finds it
mkdir -m 0755 "$WORKDIR/front"
FRONT_BIN="$NSB_BUILD_DIR/client/bwrap/nsbroker-bwrap"
if [[ -x "$FRONT_BIN" ]]; then install -m 0755 "$FRONT_BIN" "$FRONT"; else FRONT=""; fi

nsb_start_daemon "$WORKDIR/nsbrokerd.log" --socket "$SOCKET" --log-level warn
nsb_wait_ready "$SOCKET" 10 || exit 1

# --- the commands ------------------------------------------------------------------------------
SANDBOX_ARGV=(--ro-bind / / --dev /dev --tmpfs /tmp --unshare-pid --unshare-net --unshare-ipc
              --new-session --die-with-parent -- /bin/true)
BWRAP_ARGV=(--ro-bind / / --dev /dev --tmpfs /tmp --unshare-user --unshare-pid --unshare-net
            --unshare-ipc --new-session --die-with-parent -- /bin/true)

# Codex's main call, from the captured vectors, re-rooted into $CODEX_TREE (the integration
# test executable reads the JSON: no python or jq needed). Empty when unavailable.
CODEX_TREE="$WORKDIR/codex"
CODEX_VECTORS="${NSB_SHARED_DIR:-$NSB_REPO/../shared}/testdata/codex-bwrap-vectors.json"
CODEX_READER="$NSB_BUILD_DIR/tests/integration/nsbroker_integration_tests"
CODEX_ARGV=()
CODEX_DEBIAN_ARGV=()
CODEX_SKIP=""
if [[ -z "$FRONT" ]]; then
  CODEX_SKIP="$FRONT_BIN is not built"
elif [[ ! -r "$CODEX_VECTORS" ]]; then
  CODEX_SKIP="$CODEX_VECTORS is absent (set NSB_SHARED_DIR)"
elif [[ ! -x "$CODEX_READER" ]]; then
  CODEX_SKIP="$CODEX_READER is not built (it reads the vectors)"
else
  mapfile -d '' CODEX_ARGV < <("$CODEX_READER" --nsb-helper codex-argv "$CODEX_VECTORS" ws main "$CODEX_TREE")
  if [[ ${#CODEX_ARGV[@]} -eq 0 || "${CODEX_ARGV[0]}" == unknown* ]]; then
    CODEX_SKIP="no \"ws main\" call in $CODEX_VECTORS"
    CODEX_ARGV=()
  else
    # The tree the call expects: the project with its .git, Codex's daemon and mount-target
    # directories, /tmp world-writable; uid 1500 owns what Codex would own.
    install -d -m 0755 "$CODEX_TREE" "$CODEX_TREE/home"
    install -d -m 1777 "$CODEX_TREE/tmp"
    install -d -m 0755 -o "$NSB_TEST_UID" -g "$NSB_TEST_UID" "$CODEX_TREE/home/alice" \
      "$CODEX_TREE/home/alice/project" "$CODEX_TREE/home/alice/project/.git" \
      "$CODEX_TREE/tmp/codex-bwrap-synthetic-mount-targets-0"
    install -d -m 0700 -o "$NSB_TEST_UID" -g "$NSB_TEST_UID" "$CODEX_TREE/tmp/codex-daemon-0"
    CODEX_ARGV+=(-- /bin/true)
    # Codex leaves --argv0 out for a bwrap whose --help does not list it (Debian 12's 0.8).
    for ((i = 0; i < ${#CODEX_ARGV[@]}; i++)); do
      if [[ "${CODEX_ARGV[i]}" == --argv0 ]] && [[ -n "$BWRAP" ]] && ! "$BWRAP" --help 2>&1 | grep -q -- --argv0; then
        i=$((i + 1))
        continue
      fi
      CODEX_DEBIAN_ARGV+=("${CODEX_ARGV[i]}")
    done
  fi
fi

# One key per command; the timing loop below (run as uid 1500) knows how to run each key.
KEYS=(true nsb_run bwrap_run nsb_help bwrap_help codex_front codex_bwrap front_help)
declare -A LABEL=(
  [true]="/bin/true"
  [nsb_run]="nsbroker run (netns, Codex-like)"
  [bwrap_run]="bwrap (userns, same argv)"
  [nsb_help]="nsbroker --help"
  [bwrap_help]="bwrap --help"
  [codex_front]="bwrap front (Codex main call)"
  [codex_bwrap]="Debian bwrap (Codex main call)"
  [front_help]="bwrap front --help"
)
declare -A SAME_JOB_BWRAP=([nsb_run]=bwrap_run [bwrap_run]=bwrap_run [nsb_help]=bwrap_help [bwrap_help]=bwrap_help
                          [codex_front]=codex_bwrap [codex_bwrap]=codex_bwrap [front_help]=bwrap_help)

# The timing loop. Runs as uid 1500 under bash; $1 = rounds, $2 = warm-up rounds, then the keys
# to run. Prints "key microseconds exit-status" per timed run. Every command goes through the
# same function and redirections, so the harness overhead is the same for all of them.
read -r -d '' LOOP <<'EOF' || true
rounds=$1 warmup=$2
shift 2
keys=("$@")
run_one() {
  case "$1" in
    true)       /bin/true ;;
    nsb_run)    "$CLIENT" run "${SANDBOX_ARGV[@]}" ;;
    bwrap_run)  "$BWRAP" "${BWRAP_ARGV[@]}" ;;
    nsb_help)   "$CLIENT" --help ;;
    bwrap_help) "$BWRAP" --help ;;
    codex_front) (cd "$CODEX_CWD" && exec "$FRONT" "${CODEX_ARGV[@]}") ;;
    codex_bwrap) (cd "$CODEX_CWD" && exec "$BWRAP" "${CODEX_DEBIAN_ARGV[@]}") ;;
    front_help) "$FRONT" --help ;;
  esac >/dev/null 2>&1 </dev/null
}
k=${#keys[@]}
for ((r = 0; r < warmup + rounds; r++)); do
  for ((j = 0; j < k; j++)); do
    key=${keys[(r + j) % k]}          # rotate the order each round
    t0=${EPOCHREALTIME//[.,]/}
    run_one "$key"
    rc=$?
    t1=${EPOCHREALTIME//[.,]/}
    if ((r >= warmup)); then printf '%s %d %d\n' "$key" "$((t1 - t0))" "$rc"; fi
  done
done
EOF

as_user_loop() {  # as_user_loop ROUNDS WARMUP KEY...
  # shellcheck disable=SC2016  # expanded by the inner bash
  (cd / && env NSBROKER_SOCKET="$SOCKET" CLIENT="$CLIENT" BWRAP="$BWRAP" FRONT="$FRONT" \
      CODEX_CWD="$CODEX_TREE/home/alice/project" \
      SANDBOX_ARGV_Q="$(printf '%q ' "${SANDBOX_ARGV[@]}")" \
      BWRAP_ARGV_Q="$(printf '%q ' "${BWRAP_ARGV[@]}")" \
      CODEX_ARGV_Q="$(printf '%q ' "${CODEX_ARGV[@]}")" \
      CODEX_DEBIAN_ARGV_Q="$(printf '%q ' "${CODEX_DEBIAN_ARGV[@]}")" \
      "$(command -v setpriv)" --reuid="$NSB_TEST_UID" --regid="$NSB_TEST_UID" --clear-groups -- \
      /bin/bash -c 'eval "SANDBOX_ARGV=($SANDBOX_ARGV_Q)"; eval "BWRAP_ARGV=($BWRAP_ARGV_Q)";
                    eval "CODEX_ARGV=($CODEX_ARGV_Q)"; eval "CODEX_DEBIAN_ARGV=($CODEX_DEBIAN_ARGV_Q)"; '"$LOOP" \
      bench-loop "$@")
}

# --- trial run: which commands work here? ------------------------------------------------------
trial() {  # trial KEY: run once as uid 1500, print the output on failure
  local key="$1" out status=0
  case "$key" in
    true)       out="$(cd / && nsb_as_user /bin/true 2>&1)" || status=$? ;;
    nsb_run)    out="$(cd / && nsb_as_user env NSBROKER_SOCKET="$SOCKET" "$CLIENT" run "${SANDBOX_ARGV[@]}" 2>&1)" || status=$? ;;
    bwrap_run)  out="$(cd / && nsb_as_user "$BWRAP" "${BWRAP_ARGV[@]}" 2>&1)" || status=$? ;;
    nsb_help)   out="$(cd / && nsb_as_user "$CLIENT" --help 2>&1)" || status=$? ;;
    bwrap_help) out="$(cd / && nsb_as_user "$BWRAP" --help 2>&1)" || status=$? ;;
    codex_front) out="$(cd "$CODEX_TREE/home/alice/project" && nsb_as_user env NSBROKER_SOCKET="$SOCKET" "$FRONT" "${CODEX_ARGV[@]}" 2>&1)" || status=$? ;;
    codex_bwrap) out="$(cd "$CODEX_TREE/home/alice/project" && nsb_as_user "$BWRAP" "${CODEX_DEBIAN_ARGV[@]}" 2>&1)" || status=$? ;;
    front_help) out="$(cd / && nsb_as_user "$FRONT" --help 2>&1)" || status=$? ;;
  esac
  if [[ $status -ne 0 ]]; then
    printf 'bench: skipping "%s": its trial run as uid %d exited %d:\n' "${LABEL[$key]}" "$NSB_TEST_UID" "$status"
    printf '%s\n' "$out" | head -n 5 | sed 's/^/    | /'
    return 1
  fi
}

ENABLED=()
for key in "${KEYS[@]}"; do
  if [[ ( "$key" == bwrap_* || "$key" == codex_bwrap ) && -z "$BWRAP" ]]; then
    printf 'bench: skipping "%s": bwrap is not installed (apt-get install bubblewrap)\n' "${LABEL[$key]}"
    continue
  fi
  if [[ "$key" == front_help && -z "$FRONT" ]]; then
    printf 'bench: skipping "%s": %s is not built\n' "${LABEL[$key]}" "$FRONT_BIN"
    continue
  fi
  if [[ "$key" == codex_* && -n "$CODEX_SKIP" ]]; then
    printf 'bench: skipping "%s": %s\n' "${LABEL[$key]}" "$CODEX_SKIP"
    continue
  fi
  if [[ "$key" == bwrap_run ]] && [[ -u "$BWRAP" ]]; then
    printf 'bench: note: %s is setuid root; its timings are setuid mode, not user-namespace mode\n' "$BWRAP"
  fi
  if trial "$key"; then ENABLED+=("$key"); fi
done
[[ " ${ENABLED[*]} " == *" true "* ]] || nsb_die "/bin/true cannot run as uid $NSB_TEST_UID; nothing to compare against"
if [[ " ${ENABLED[*]} " != *" bwrap_run "* ]]; then
  printf 'bench: bwrap cannot run unprivileged here; its column is left out\n'
fi

# --- measure -----------------------------------------------------------------------------------
printf 'bench: %d rounds (+%d warm-up) of %d commands, round-robin, as uid %d; nsbrokerd pid %d, socket %s\n' \
  "$N" "$WARMUP" "${#ENABLED[@]}" "$NSB_TEST_UID" "$NSB_DAEMON_PID" "$SOCKET"
SAMPLES="$WORKDIR/samples.txt"
bench_start=$SECONDS
as_user_loop "$N" "$WARMUP" "${ENABLED[@]}" >"$SAMPLES"
printf 'bench: measured in %ds on %d cores (%s)\n\n' "$((SECONDS - bench_start))" "$(nproc)" "$(uname -r)"

# --- report ------------------------------------------------------------------------------------
declare -A MEAN MEDIAN RUNS FAILS
for key in "${ENABLED[@]}"; do
  read -r runs fails mean < <(
    awk -v k="$key" '$1 == k { n++; s += $2; if ($3 != 0) f++ }
                     END { printf "%d %d %.3f\n", n, f, (n ? s / n / 1000 : 0) }' "$SAMPLES")
  RUNS[$key]=$runs FAILS[$key]=$fails MEAN[$key]=$mean
  MEDIAN[$key]="$(awk -v k="$key" '$1 == k { print $2 }' "$SAMPLES" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "0"; else if (NR % 2) printf "%.3f", v[(NR + 1) / 2] / 1000;
                               else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2000 }')"
done

ratio() {  # ratio A B -> A/B with 2 decimals, or "-" when B is absent
  if [[ -z "${2:-}" ]]; then printf '%s' "-"; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; fi
}

printf '%-34s %5s %5s %9s %9s %12s %9s\n' "command" "runs" "fail" "mean ms" "median ms" "x /bin/true" "x bwrap"
printf '%-34s %5s %5s %9s %9s %12s %9s\n' "-------" "----" "----" "-------" "---------" "-----------" "-------"
for key in "${ENABLED[@]}"; do
  ref="${SAME_JOB_BWRAP[$key]:-}"
  ref_mean=""
  if [[ -n "$ref" && -n "${MEAN[$ref]:-}" ]]; then ref_mean="${MEAN[$ref]}"; fi
  printf '%-34s %5d %5d %9s %9s %12s %9s\n' "${LABEL[$key]}" "${RUNS[$key]}" "${FAILS[$key]}" \
    "${MEAN[$key]}" "${MEDIAN[$key]}" "$(ratio "${MEAN[$key]}" "${MEAN[true]}")" "$(ratio "${MEAN[$key]}" "$ref_mean")"
done
printf '\n"x bwrap" compares with bwrap doing the same job (run vs run, --help vs --help).\n'

# The issue's goals for the bwrap front.
goal() {  # goal LABEL VALUE LIMIT
  if [[ "$2" == "-" ]]; then
    printf 'goal: %-44s not measured\n' "$1"
  elif awk -v v="$2" -v l="$3" 'BEGIN { exit !(v <= l) }'; then
    printf 'goal: %-44s %5sx (at most %sx): met\n' "$1" "$2" "$3"
  else
    printf 'goal: %-44s %5sx (at most %sx): MISSED\n' "$1" "$2" "$3"
  fi
}
mean_ratio() {  # mean_ratio KEY REFERENCE-KEY -> ratio of the means, or "-" if either is missing
  if [[ -z "${MEAN[$1]:-}" || -z "${MEAN[$2]:-}" ]]; then printf '%s' "-"; else ratio "${MEAN[$1]}" "${MEAN[$2]}"; fi
}
printf '\n'
goal "bwrap front vs Debian bwrap, Codex main call" "$(mean_ratio codex_front codex_bwrap)" 0.6
goal "bwrap front --help vs /bin/true" "$(mean_ratio front_help true)" 1.2

total_fail=0
for key in "${ENABLED[@]}"; do total_fail=$((total_fail + FAILS[$key])); done
if ((total_fail > 0)); then
  printf 'bench: %d timed runs exited non-zero: their times are not comparable; nsbrokerd log:\n' "$total_fail"
  nsb_show_log
  exit 1
fi
if [[ " ${ENABLED[*]} " != *" nsb_run "* ]]; then
  printf 'bench: "nsbroker run" could not be measured (see its trial run above); nsbrokerd log:\n'
  nsb_show_log
  exit 1
fi
