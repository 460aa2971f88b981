// cgroup placement of the sandbox: it lives in its caller's cgroups, so every limit the
// caller's container, user slice or session is under keeps applying to it (DESIGN.md §2).
#pragma once

#include "sandbox/child_plan.h"

namespace nsbroker::sandbox {

// Moves the calling process (the outside stage, before it clones the sandbox process, which
// inherits its cgroups) into each of plan.cgroup_procs, in every hierarchy. Must run before
// joining the caller's cgroup namespace (the files are in the daemon's view). Returns the index
// of the file that failed, with errno set, or -1.
int enter_caller_cgroups(const ChildPlan& plan);

}  // namespace nsbroker::sandbox
