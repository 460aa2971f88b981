// Credentials and capabilities of the setup processes and of the command.
#pragma once

#include "sandbox/child_plan.h"

namespace nsbroker::sandbox {

// During mount setup the sandbox process keeps CAP_SYS_ADMIN and friends but never the
// capabilities that bypass file permissions: every path it touches is checked as the caller.
bool limit_setup_capabilities();

// Raises or lowers CAP_DAC_OVERRIDE in the effective set. Only for creating entries inside
// the sandbox's own tmpfs instances (a --perms 111 tmpfs still gets its mount points, as in
// bubblewrap); never around anything that resolves host paths.
bool set_file_permission_override(bool enabled);

// The command's identity: the caller's uid/gid (its groups were set by the outside stage),
// no capabilities in any set, securebits locked, no_new_privs. Returns false with errno set.
bool drop_to_caller(const ChildPlan& plan);

}  // namespace nsbroker::sandbox
