#!/usr/bin/env bash
# The main job, end to end: start nsbrokerd (as root, default settings, default socket), then
# as an unprivileged caller (uid 1500, no passwd entry, no groups) ask it for a sandbox with a
# bwrap-style command line and show what the sandbox sees and what it refuses.
# Stops the daemon (by its PID) on exit. Exit status: 0 when every check came out as expected.
#
#   sudo bash scripts/demo.sh        (after scripts/setup-debian.sh and scripts/build.sh)
set -euo pipefail

NSB_PROG=demo
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

nsb_require_root scripts/demo.sh
nsb_require_built

SOCKET="$NSB_DEFAULT_SOCKET"
if nsb_socket_accepts "$SOCKET"; then
  nsb_die "$SOCKET is already served by another nsbrokerd (or something else); this demo starts its own daemon and kills nothing else: stop that one first"
fi
if [[ -e "$SOCKET" ]]; then
  printf 'demo: note: %s exists but accepts no connection (stale from an earlier run?)\n' "$SOCKET"
fi

WORKDIR="$(mktemp -d /tmp/nsbroker-demo.XXXXXX)"
chmod 0755 "$WORKDIR"
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  nsb_stop_daemon
  rm -rf "$WORKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

CLIENT="$(nsb_user_executable "$NSB_CLIENT_BIN" "$WORKDIR")"

printf '\n### 1. start nsbrokerd as root (default socket %s)\n' "$SOCKET"
nsb_start_daemon "$WORKDIR/nsbrokerd.log"
nsb_wait_ready "$SOCKET" 10 || exit 1
printf 'demo: nsbrokerd (pid %d) accepts connections on %s\n' "$NSB_DAEMON_PID" "$SOCKET"

# What runs inside the sandbox (POSIX sh). Each check prints what it saw; "expect" checks
# count towards the exit status.
read -r -d '' INSIDE <<'EOF' || true
unexpected=0
section() { printf '\n== %s ==\n' "$1"; }
expect() {  # expect OK|UNEXPECTED DESCRIPTION
  if [ "$1" = OK ]; then printf -- '-> as expected: %s\n' "$2"
  else printf -- '-> UNEXPECTED: %s\n' "$2"; unexpected=$((unexpected + 1)); fi
}

section "identity (id)"
id
[ "$(id -u)" = 1500 ] && [ "$(id -g)" = 1500 ] && r=OK || r=UNEXPECTED
expect $r "runs as the caller's uid/gid 1500, not as root"

section "the root directory (ls /)"
ls -l /

section "reading /etc/shadow (host file, mode 0640 root:shadow)"
if out=$(cat /etc/shadow 2>&1); then
  expect UNEXPECTED "/etc/shadow was readable"
else
  echo "$out"
  expect OK "refused: the caller could not read it outside either"
fi

section "writing to /usr (read-only bind)"
if out=$(touch /usr/nsbroker-demo 2>&1); then
  rm -f /usr/nsbroker-demo
  expect UNEXPECTED "/usr was writable"
else
  echo "$out"
  expect OK "refused"
fi

section "writing to /tmp (private tmpfs)"
before=$(ls -A /tmp | wc -l)
if echo hello >/tmp/demo && [ "$(cat /tmp/demo)" = hello ]; then
  expect OK "works; it held $before entries before: the host's /tmp is not visible"
else
  expect UNEXPECTED "/tmp was not writable"
fi

section "capabilities and no_new_privs (/proc/self/status)"
grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status
caps_zero=OK
for f in CapPrm CapEff CapBnd CapAmb; do
  v=$(sed -n "s/^$f:[[:space:]]*//p" /proc/self/status)
  [ "$v" = 0000000000000000 ] || caps_zero=UNEXPECTED
done
expect $caps_zero "permitted, effective, bounding and ambient sets are empty"
[ "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status)" = 1 ] && r=OK || r=UNEXPECTED
expect $r "no_new_privs is set"

section "creating a user namespace inside (unshare -U true)"
if out=$(unshare -U true 2>&1); then
  expect UNEXPECTED "a nested user namespace was created"
else
  echo "$out"
  expect OK "refused"
fi

section "network (ip -brief link)"
if command -v ip >/dev/null 2>&1; then ip -brief link; else ls /sys/class/net; fi
others=$(sed -n 's/^ *\([^:]*\):.*/\1/p' /proc/net/dev | grep -v '^lo$' || true)
if [ -z "$others" ]; then expect OK "only loopback: the host's interfaces are not here"
else expect UNEXPECTED "interfaces other than lo: $others"; fi

section "hostname (uname -n)"
uname -n
[ "$(uname -n)" = nsbroker-demo ] && r=OK || r=UNEXPECTED
expect $r "own UTS namespace with the requested hostname"

section "processes visible (from /proc)"
printf '%5s  %-14s %s\n' PID COMM CMDLINE
n=0
for d in /proc/[0-9]*; do
  [ -r "$d/comm" ] || continue
  n=$((n + 1))
  printf '%5s  %-14s %s\n' "${d#/proc/}" "$(cat "$d/comm" 2>/dev/null)" \
    "$(tr '\0\n' '  ' <"$d/cmdline" 2>/dev/null | cut -c1-50)"
done
[ "$n" -lt 10 ] && r=OK || r=UNEXPECTED
expect $r "own PID namespace: $n processes, none of the host's"

section "mounts (mount point, options)"
awk '{ printf "%-16s %s\n", $5, $6 }' /proc/self/mountinfo

printf '\n== summary ==\n'
if [ "$unexpected" -eq 0 ]; then echo "all checks as expected"; else echo "$unexpected check(s) UNEXPECTED"; fi
exit "$unexpected"
EOF

RUN_ARGS=(
  run
  --ro-bind /usr /usr
  --symlink usr/bin /bin --symlink usr/sbin /sbin
  --symlink usr/lib /lib --symlink usr/lib64 /lib64
  --ro-bind /etc /etc
  --proc /proc --dev /dev --tmpfs /tmp
  --unshare-all --hostname nsbroker-demo
  --die-with-parent --new-session --chdir /
  --clearenv --setenv PATH /usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin --setenv HOME /tmp
  -- /bin/sh -c "$INSIDE"
)

printf '\n### 2. as uid %d (no passwd entry, no groups), ask for a sandbox:\n' "$NSB_TEST_UID"
printf '  setpriv --reuid=%d --regid=%d --clear-groups \\\n    %s' "$NSB_TEST_UID" "$NSB_TEST_UID" "$CLIENT"
printf ' %q' "${RUN_ARGS[@]:0:${#RUN_ARGS[@]}-1}"
printf " '<the checks below>'\n"

status=0
(cd / && env -u NSBROKER_SOCKET "$(command -v setpriv)" --reuid="$NSB_TEST_UID" \
  --regid="$NSB_TEST_UID" --clear-groups -- "$CLIENT" "${RUN_ARGS[@]}") || status=$?

printf '\n### 3. result\n'
if [[ $status -eq 0 ]]; then
  printf 'demo: the sandbox ran and every check came out as expected (exit 0)\n'
else
  printf 'demo: nsbroker run exited with %d (the payload exits with the number of unexpected checks;\n' "$status"
  printf '      a refusal by the daemon or a client error also lands here)\n'
fi
printf '\n### 4. nsbrokerd log (stderr)\n'
nsb_show_log
exit "$status"
