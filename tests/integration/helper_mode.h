// The test executable doubles as a probe that runs *inside* sandboxes (and as uid 1500 on the
// host): `nsb-helper --nsb-helper PROBE`. A probe prints `key=value` lines on stdout and
// reports what the kernel says directly, without depending on which tools the host has.
//
//   lo      interfaces (if_nameindex), flags of "lo" (SIOCGIFFLAGS) and a TCP round trip
//           over 127.0.0.1
//   fds     the open fds of the process, without the one used to list them
//   userns  whether a user namespace can be created (unshare(CLONE_NEWUSER) in a child), and
//           the errno name when not
//
// Run under the name `codex-linux-sandbox` (as Codex's inner helper is, through bwrap's
// --argv0 or a file of that name), it stands in for that helper: it prints what the real one
// checks, as "probe:KEY=VALUE" lines (argv0, uid, gid, CapEff, CapPrm, CapBnd, NoNewPrivs,
// Seccomp, pid, cwd, and one "probe:mount=POINT FSTYPE ro|rw" per mount), then runs the
// command after the last "--" of its arguments in a child and exits with that command's status
// (its code, or 128 + the signal that ended it), as the real helper passes it on.
#pragma once

#include <string_view>

namespace nsbroker::itest {

inline constexpr const char* kHelperFlag = "--nsb-helper";
inline constexpr std::string_view kCodexProbeName = "codex-linux-sandbox";

// Runs the probe named by argv[2]; returns the process exit code.
int run_helper(int argc, char** argv);

// True when argv[0] names the Codex helper stand-in (its last path component).
bool is_codex_probe(const char* argv0);

// The Codex helper stand-in; does not return.
[[noreturn]] void run_codex_probe(int argc, char** argv);

}  // namespace nsbroker::itest
