// CallerContext: what confines the caller's process besides its ids, read from the kernel when
// a request arrives — its root directory (a chroot), resource limits, nice value, umask,
// cgroups and the PID namespaces it lives in. A sandbox inherits all of it and policy may only
// tighten it (DESIGN.md §2: a sandbox never has more than its caller already had).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <string>
#include <vector>

#include "auth/caller.h"
#include "auth/cgroup_mounts.h"
#include "core/result.h"
#include "wire/unique_fd.h"

namespace nsbroker::auth {

struct CallerContext {
  UniqueFd root;  // O_PATH: the caller's root directory (its chroot, or its namespace's root)
  std::array<rlimit, RLIM_NLIMITS> rlimits{};  // soft and hard, every resource
  int nice = 0;
  mode_t umask = 022;
  std::vector<std::string> cgroup_procs;  // the caller's cgroups, as cgroup.procs files (daemon's view)
  // The caller's PID namespace, then each parent up to (not including) the daemon's own: a
  // request from a descendant of a sandbox's namespace names that namespace here.
  std::vector<ino_t> pid_namespaces;
};

// Reads the context of the process behind `caller.pidfd` through the daemon's /proc. Race-free:
// everything is read through /proc/PID (or by pid) and the pidfd is checked to be alive
// afterwards, so a recycled pid cannot lend us another process's context.
Result<CallerContext> read_caller_context(int proc_dir_fd, const Caller& caller,
                                          const CgroupMounts& cgroups);

}  // namespace nsbroker::auth
