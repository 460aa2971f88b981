// Masks: what a bind brings along but the profile denies — a path of mounts.deny inside the
// tree (the daemon's socket inside --ro-bind / /), or another user's home inside a bind of
// the homes root — is covered in the sandbox by an empty, read-only, mode 000 file or
// directory, right after the bind is attached.
#pragma once

#include <cstddef>

#include "sandbox/child_plan.h"
#include "sandbox/mount_points.h"

namespace nsbroker::sandbox {

// Outside stage: lists the homes under the homes root that are not the caller's, into
// plan.other_homes, when some bind source contains the homes root. False (errno set) when
// the homes root cannot be listed: then nothing could be hidden, so the request must fail.
bool find_other_users_homes(ChildPlan& plan);

// Sandbox stage: covers what must be hidden inside bind `mount`. False with errno set.
bool mask_inside_bind(const ChildPlan& plan, SandboxRoot& root, std::size_t mount);

}  // namespace nsbroker::sandbox
