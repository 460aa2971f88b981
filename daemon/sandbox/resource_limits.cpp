#include "sandbox/resource_limits.h"

#include <cerrno>

namespace nsbroker::sandbox {
namespace {

// Exactly the caller's limit; where that would raise the hard limit above what the sandbox
// process inherited from the daemon and the daemon may not (no CAP_SYS_RESOURCE), the
// inherited hard limit stays: tighter than the caller's, never looser.
bool impose(pid_t pid, int resource, const rlimit& wanted) {
  auto which = static_cast<__rlimit_resource>(resource);
  if (::prlimit(pid, which, &wanted, nullptr) == 0) return true;
  rlimit current{};
  if (errno != EPERM || ::prlimit(pid, which, nullptr, &current) < 0) return false;
  if (wanted.rlim_max <= current.rlim_max) return errno = EPERM, false;
  rlimit clamped{wanted.rlim_cur < current.rlim_max ? wanted.rlim_cur : current.rlim_max,
                 current.rlim_max};
  return ::prlimit(pid, which, &clamped, nullptr) == 0;
}

}  // namespace

bool impose_caller_limits(pid_t pid, const ResourceLimits& limits, int nice) {
  for (int resource = 0; resource < RLIM_NLIMITS; ++resource) {
    if (!impose(pid, resource, limits[static_cast<std::size_t>(resource)])) return false;
  }
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(pid), nice) == 0) return true;
  // A caller nicer than the daemon may not be: without CAP_SYS_NICE the sandbox keeps the
  // daemon's (lower) priority, which again is less, not more.
  errno = 0;
  int current = ::getpriority(PRIO_PROCESS, static_cast<id_t>(pid));
  return errno == 0 && current >= nice;
}

}  // namespace nsbroker::sandbox
