#include "sandbox/cgroups.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace nsbroker::sandbox {

int enter_caller_cgroups(const ChildPlan& plan) {
  for (std::size_t i = 0; i < plan.cgroup_procs.size(); ++i) {
    // Why this is safe: the paths were built from the kernel's /proc/PID/cgroup of the caller
    // (no ".." components, below the daemon's own cgroup mounts); "0" moves only ourselves.
    int fd = ::open(plan.cgroup_procs[i], O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && ::write(fd, "0", 1) == 1;
    int saved = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) {
      errno = saved;
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace nsbroker::sandbox
