// The sandbox's mount namespace: a new root on tmpfs and the request's operations, in order.
#pragma once

#include "sandbox/child_plan.h"
#include "sandbox/mount_points.h"

namespace nsbroker::sandbox {

// Stops mount events from propagating back into the caller's namespace (our copy of it is
// private from here on).
bool make_mounts_private();

// Creates the proc and devpts instances the operations need. Done before the old root goes
// away: in a user namespace the kernel only allows a new proc where one is fully visible.
void prepare_fresh_instances(ChildPlan& plan);

// Mounts a staging tmpfs over "/", pivots into it and detaches the old root entirely: from
// here on nothing of the host is reachable except what the prepared trees bring. Then mounts
// the sandbox's root tmpfs at SandboxRoot::kBuildPath and opens it as `root`.
void enter_staging_root(const ChildPlan& plan, SandboxRoot& root);

// Pivots into the finished sandbox root (whatever is mounted on top of it) and detaches the
// staging root.
void enter_sandbox_root(const ChildPlan& plan);

// Applies every mount operation in request order. On failure removes what it created on the
// host, reports the step and exits.
void apply_mount_operations(ChildPlan& plan, SandboxRoot& root);

// A new tmpfs owned by the caller (as bubblewrap's, which a user namespace makes the caller's).
// Returns the fsmount fd or -1 with errno set.
int make_tmpfs(const ChildPlan& plan, int mode, std::uint64_t size_bytes);

// Attaches a prepared (detached) mount on an O_PATH mount point.
int attach(int prepared_fd, int mount_point_fd);

}  // namespace nsbroker::sandbox
