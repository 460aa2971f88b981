// Starting the command: PATH lookup and execve, and the small init that stays PID 1 of the
// sandbox (unless --as-pid-1) to reap orphans and forward signals, as bubblewrap's does.
#pragma once

#include <climits>

#include "sandbox/child_plan.h"
#include "sandbox/child_text.h"

namespace nsbroker::sandbox {

// Blocks the forwarded signals and SIGCHLD. Called before the sandbox process is cloned, so it
// starts with them blocked: a signal that arrives during setup stays pending for the init
// instead of being dropped (PID 1 ignores signals it has no handler for).
void block_forwarded_signals();

using CommandPath = TextBuffer<PATH_MAX>;

// Finds the command as execvp would, with the command's own PATH, inside the sandbox and
// with the caller's fs identity: an executable regular file. Returns 0 or an errno value.
int resolve_command(const ChildPlan& plan, CommandPath& out);

// Reads each client seccomp program from its fd (a whole number of BPF instructions, at
// most BPF_MAXINSNS). False with errno set (EINVAL for a malformed program).
bool read_client_filters(ChildPlan& plan);

// Unblocks them again (exec_command does this for the command), loads the seccomp filter and executes the command; on failure reports and exits.
[[noreturn]] void exec_command(const ChildPlan& plan, const char* path);

// Forks the command and stays as its init: forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT,
// SIGUSR1, SIGUSR2 and SIGWINCH to it, reaps every process of the sandbox, and exits with the
// command's exit code or 128+signal when the command ends.
[[noreturn]] void run_as_init(const ChildPlan& plan, const char* path);

}  // namespace nsbroker::sandbox
