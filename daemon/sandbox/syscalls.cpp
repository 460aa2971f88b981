#include "sandbox/syscalls.h"

#include <cerrno>

namespace nsbroker::sys {

pid_t clone_process(std::uint64_t flags, int* pidfd_out) {
  int pidfd = -1;
  clone_args args{};
  args.flags = flags | (pidfd_out ? CLONE_PIDFD : 0);
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  // With CLONE_PARENT the child inherits our exit signal; clone3 insists on 0 then.
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0 && errno == ENOSYS) {
    // clone(2) on x86_64: (flags, stack, parent_tid, child_tid, tls); with CLONE_PIDFD the
    // pidfd is stored through parent_tid. Stack 0 = fork semantics.
    unsigned long legacy = (flags | (pidfd_out ? CLONE_PIDFD : 0) | SIGCHLD);
    pid = ::syscall(SYS_clone, legacy, 0UL, &pidfd, nullptr, 0UL);
  }
  if (pid > 0 && pidfd_out) *pidfd_out = pidfd;
  return static_cast<pid_t>(pid);
}

}  // namespace nsbroker::sys
