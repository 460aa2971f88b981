// Probes of the hostile-caller suite, run by the test binary itself in helper mode
// (`nsb-helper --nsb-helper PROBE ARGS...`), inside sandboxes or as uid 1500 on the host.
// Each prints `key=value` lines and exits 0 unless it could not run at all (then 2).
//
//   ns-escape USERNS NETNS   the nested-sandbox escape of issue 8: setns into a user (and
//                            network) namespace held by the same user outside the sandbox,
//                            then unshare each namespace kind. Prints setns_own_user,
//                            setns_own_net, setns_user, setns_net, unshare_<kind> for mnt,
//                            pid, net, ipc, uts, cgroup, time, user (each in a fresh child
//                            that first tried the setns into USERNS), and unshare_fs /
//                            unshare_files (plain, must keep working): ok or the errno name
//                            (open:ERRNO when the namespace file itself could not be opened)
//   hold-userns              unshare(CLONE_NEWUSER|CLONE_NEWNET), print held=ok (or the
//                            errno name and exit), then wait (at most 60 s) to be killed
//   connect PATH             connect=ok or the errno name, for a SOCK_SEQPACKET socket
//   raw-lock-pid1 SOCKET PATH
//                            speaks the wire protocol directly: a Spawn with --ro-bind / /,
//                            --proc /proc, --lock-file PATH and as_pid_1 (the combination the
//                            client refuses); prints reply=started, reply=error with code= and
//                            message=, or reply=none with why=
//   pidns-descendant-run NSFILE UID -- COMMAND...
//                            run as root: joins the pid namespace NSFILE (setns + fork), makes
//                            a new pid namespace below it (unshare + fork), prints
//                            descendant_pidns=INODE, drops to UID (no groups) and execs
//                            COMMAND there; exits with COMMAND's status
#pragma once

#include <optional>

namespace nsbroker::sectest {

// The exit code when argv[2] names one of the probes above, std::nullopt otherwise.
std::optional<int> run_security_probe(int argc, char** argv);

}  // namespace nsbroker::sectest
