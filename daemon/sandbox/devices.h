// bubblewrap's --dev layout: a tmpfs with the safe device nodes bound from the caller's /dev,
// the usual symlinks, shm/, a new devpts instance on pts/ and the caller's terminal as console.
#pragma once

#include "sandbox/child_plan.h"
#include "sandbox/mount_points.h"

namespace nsbroker::sandbox {

// Returns false with errno set.
bool mount_dev(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount);

}  // namespace nsbroker::sandbox
