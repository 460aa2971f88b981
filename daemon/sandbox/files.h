// Files a request creates or touches inside the sandbox: --file, --bind-data, --ro-bind-data
// (data read from the caller's fd), --chmod and --lock-file. All of it with the caller's fs
// identity, beneath the sandbox root.
#pragma once

#include "sandbox/child_plan.h"
#include "sandbox/mount_points.h"

namespace nsbroker::sandbox {

// Each returns false with errno set.
bool write_data_file(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount);
bool bind_data_file(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount, int index);
bool change_mode(SandboxRoot& root, const ChildMount& mount);
bool take_lock(ChildPlan& plan, SandboxRoot& root, const ChildMount& mount);

}  // namespace nsbroker::sandbox
