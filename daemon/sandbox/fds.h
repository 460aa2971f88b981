// File descriptors in the setup processes: what the command inherits and nothing else.
#pragma once

#include "sandbox/child_plan.h"

namespace nsbroker::sandbox {

// Closes every fd of the outside stage that is not in plan.keep_fds (the daemon's listening
// socket, other clients' connections, its event loop...).
void close_unneeded_fds(const ChildPlan& plan);

// Puts the caller's stdin/stdout/stderr on 0, 1, 2 (inheritable) and updates the plan.
bool install_caller_stdio(ChildPlan& plan);

// Marks every fd above 2 close-on-exec, so the command gets exactly stdio.
void close_all_but_stdio_on_exec();

}  // namespace nsbroker::sandbox
