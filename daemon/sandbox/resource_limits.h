// The caller's resource limits and nice value, given to the sandbox process before it runs a
// single instruction of its setup (DESIGN.md §2: the sandbox inherits the caller's rlimits,
// soft and hard, and its nice value; a fork bomb stays inside the caller's RLIMIT_NPROC).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>

namespace nsbroker::sandbox {

using ResourceLimits = std::array<rlimit, RLIM_NLIMITS>;

// Sets every limit and the nice value of `pid` (the daemon's unreleased child, so the pid
// cannot have been reused). Done by the daemon: raising a hard limit above the daemon's own, or
// a nice value below it, needs capabilities the setup processes no longer hold. Returns false
// with errno set.
bool impose_caller_limits(pid_t pid, const ResourceLimits& limits, int nice);

}  // namespace nsbroker::sandbox
