#include "sandbox/fds.h"

#include <fcntl.h>
#include <unistd.h>

#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {

void close_unneeded_fds(const ChildPlan& plan) {
  // keep_fds is sorted: close each gap between two kept fds.
  unsigned next = 0;
  for (int fd : plan.keep_fds) {
    if (static_cast<unsigned>(fd) > next) sys::close_range(next, static_cast<unsigned>(fd) - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  sys::close_range(next, ~0U, 0);
}

bool install_caller_stdio(ChildPlan& plan) {
  // The received fds are all above 2 (the daemon keeps 0-2 open on /dev/null), and 0-2 were
  // just closed by close_unneeded_fds, so dup2 cannot clobber anything we still need.
  for (int target = 0; target < 3; ++target) {
    int source = plan.fds.stdio[target];
    if (source <= 2 || ::dup2(source, target) < 0) return false;
  }
  for (int target = 0; target < 3; ++target) {
    ::close(plan.fds.stdio[target]);
    plan.fds.stdio[target] = target;
  }
  return true;
}

void close_all_but_stdio_on_exec() { sys::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); }

}  // namespace nsbroker::sandbox
