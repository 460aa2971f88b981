# Shared helpers for scripts/demo.sh and tests/bench/bench_run.sh. Source it; do not run it.
# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this

NSB_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NSB_TEST_UID=1500                         # unprivileged caller; needs no passwd entry
NSB_DEFAULT_SOCKET=/run/nsbroker/nsbroker.sock
NSB_BUILD_DIR="${NSB_BUILD_DIR:-$NSB_REPO/build}"
NSB_DAEMON_BIN="$NSB_BUILD_DIR/daemon/nsbrokerd"
NSB_CLIENT_BIN="$NSB_BUILD_DIR/client/nsbroker"
NSB_CONNECT_BIN="$NSB_BUILD_DIR/tests/tools/nsbroker-test-connect"
NSB_DAEMON_PID=""
NSB_DAEMON_LOG=""

nsb_die() {
  printf '%s: %s\n' "${NSB_PROG:-nsbroker}" "$*" >&2
  exit 1
}

nsb_require_root() {
  [[ "$(id -u)" -eq 0 ]] || nsb_die "run as root (sudo bash $1): it starts nsbrokerd and switches to uid $NSB_TEST_UID"
}

nsb_require_built() {
  local bin
  for bin in "$NSB_DAEMON_BIN" "$NSB_CLIENT_BIN"; do
    [[ -x "$bin" ]] || nsb_die "$bin not found: build first (bash scripts/build.sh)"
  done
  command -v setpriv >/dev/null || nsb_die "setpriv not found: install util-linux (sudo bash scripts/setup-debian.sh)"
}

# Runs "$@" as the unprivileged test uid with no supplementary groups.
nsb_as_user() {
  setpriv --reuid="$NSB_TEST_UID" --regid="$NSB_TEST_UID" --clear-groups -- "$@"
}

# Prints a path to BIN that the test uid can execute: BIN itself when it can, otherwise a
# copy in DIR (which must be 0755). A build tree under /root (0700) needs the copy.
nsb_user_executable() {
  local bin="$1" dir="$2"
  if nsb_as_user test -x "$bin" 2>/dev/null; then
    printf '%s\n' "$bin"
  else
    install -m 0755 "$bin" "$dir/$(basename "$bin")"
    printf '%s\n' "$dir/$(basename "$bin")"
  fi
}

# True when a SOCK_SEQPACKET socket at PATH accepts a connection (our readiness test).
# Uses the connect probe from tests/tools; falls back to "is someone listening on that name"
# (ss) when the tests were not built.
nsb_socket_accepts() {
  local path="$1"
  if [[ -x "$NSB_CONNECT_BIN" ]]; then
    "$NSB_CONNECT_BIN" -q "$path"
  else
    [[ -n "$(ss -xlH src "$path" 2>/dev/null)" ]]
  fi
}

# Starts nsbrokerd in the background with ARGS, stderr to LOG. Sets NSB_DAEMON_PID.
nsb_start_daemon() {
  NSB_DAEMON_LOG="$1"
  shift
  printf '+ %s %s 2>%s &\n' "$NSB_DAEMON_BIN" "$*" "$NSB_DAEMON_LOG"
  "$NSB_DAEMON_BIN" "$@" 2>"$NSB_DAEMON_LOG" </dev/null &
  NSB_DAEMON_PID=$!
}

# Waits until SOCKET accepts a connection; fails if the daemon exits or TIMEOUT seconds pass.
nsb_wait_ready() {
  local socket="$1" timeout="${2:-10}"
  local deadline=$((SECONDS + timeout))
  while ! nsb_socket_accepts "$socket"; do
    if ! kill -0 "$NSB_DAEMON_PID" 2>/dev/null; then
      local status=0
      wait "$NSB_DAEMON_PID" || status=$?
      NSB_DAEMON_PID=""
      printf '%s: nsbrokerd exited (status %d) before %s accepted connections; its log:\n' \
        "${NSB_PROG:-nsbroker}" "$status" "$socket" >&2
      nsb_show_log >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      printf '%s: nsbrokerd (pid %d) did not accept connections on %s within %ds; its log:\n' \
        "${NSB_PROG:-nsbroker}" "$NSB_DAEMON_PID" "$socket" "$timeout" >&2
      nsb_show_log >&2
      return 1
    fi
    sleep 0.05
  done
}

nsb_show_log() {
  if [[ -s "$NSB_DAEMON_LOG" ]]; then
    sed 's/^/    | /' "$NSB_DAEMON_LOG"
  else
    printf '    | (empty)\n'
  fi
}

# Stops the daemon we started, by its PID only: SIGTERM, then SIGKILL after 5 s.
nsb_stop_daemon() {
  local pid="$NSB_DAEMON_PID"
  [[ -n "$pid" ]] || return 0
  NSB_DAEMON_PID=""
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    printf '%s: nsbrokerd (pid %d) ignored SIGTERM for 5s; sending SIGKILL\n' "${NSB_PROG:-nsbroker}" "$pid" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
