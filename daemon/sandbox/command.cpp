#include "sandbox/command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

#include "sandbox/child_text.h"
#include "sandbox/identity.h"
#include "sandbox/seccomp.h"
#include "sandbox/setup_report.h"
#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {
namespace {

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

// 0 when `path` names an executable regular file for the caller, else an errno value.
int executable(const char* path) {
  struct stat st {};
  if (::stat(path, &st) < 0) return errno;
  if (!S_ISREG(st.st_mode)) return EACCES;
  // AT_EACCESS: the fs identity (the caller's), not the real uid.
  return ::faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0 ? 0 : errno;
}

// Closes every fd above 2 except the lock files.
void close_all_but_locks(const ChildPlan& plan) {
  std::array<int, ChildPlan::kMaxLockFiles> sorted = plan.lock_fds;
  std::sort(sorted.begin(), sorted.begin() + static_cast<long>(plan.lock_count));
  unsigned next = 3;
  for (std::size_t i = 0; i < plan.lock_count; ++i) {
    auto fd = static_cast<unsigned>(sorted[i]);
    if (fd > next) sys::close_range(next, fd - 1, 0);
    next = fd + 1;
  }
  sys::close_range(next, ~0U, 0);
}

sigset_t forwarded_and_child_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwardedSignals) sigaddset(&set, sig);
  sigaddset(&set, SIGCHLD);
  return set;
}

[[noreturn]] void exit_like(int status) {
  if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
  ::_exit(128 + WTERMSIG(status));
}

}  // namespace

void block_forwarded_signals() {
  sigset_t signals = forwarded_and_child_signals();
  sigprocmask(SIG_BLOCK, &signals, nullptr);
}

int resolve_command(const ChildPlan& plan, CommandPath& out) {
  const char* file = plan.command;
  if (std::strchr(file, '/') != nullptr) {
    out.text(file);
    return executable(file);
  }
  // execvp: try each PATH entry, remember EACCES, report it if nothing better was found.
  int result = ENOENT;
  for (const char* dir = plan.search_path;;) {
    const char* end = std::strchr(dir, ':');
    std::size_t length = end ? static_cast<std::size_t>(end - dir) : std::strlen(dir);
    CommandPath candidate;
    candidate.prefix(dir, length).text(length > 0 ? "/" : "").text(file);
    int error = executable(candidate.c_str());
    if (error == 0) {
      out.text(candidate.c_str());
      return 0;
    }
    if (error == EACCES) result = EACCES;
    if (!end) return result;
    dir = end + 1;
  }
}

bool read_client_filters(ChildPlan& plan) {
  CallerFileAccess as_caller;  // the caller's fds, read without any capability
  if (!as_caller.ok()) return false;
  for (ClientFilter& filter : plan.client_filters) {
    auto* bytes = reinterpret_cast<char*>(filter.instructions.data());
    std::size_t capacity = sizeof(filter.instructions);
    std::size_t length = 0;
    while (true) {
      ssize_t n = ::read(filter.fd, bytes + length, capacity - length);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      if (n == 0) break;
      length += static_cast<std::size_t>(n);
      if (length == capacity) {  // full: anything more is too long
        char extra;
        if (::read(filter.fd, &extra, 1) != 0) return errno = E2BIG, false;
        break;
      }
    }
    if (length == 0 || length % sizeof(sock_filter) != 0) return errno = EINVAL, false;
    filter.program.len = static_cast<unsigned short>(length / sizeof(sock_filter));
    filter.program.filter = filter.instructions.data();
    ::close(filter.fd);
  }
  return true;
}

void exec_command(const ChildPlan& plan, const char* path) {
  // The mask survives execve: the command must start with nothing blocked by us.
  sigset_t signals = forwarded_and_child_signals();
  sigprocmask(SIG_UNBLOCK, &signals, nullptr);
  // Last step before execve, so nothing of the setup runs under the filter's rules.
  if (!load_seccomp(plan.seccomp)) report_failure_and_exit(plan.report_fd, Step::kSeccomp, errno);
  // Stacked: the kernel runs every filter and the strictest answer wins, so a client program
  // can only take away.
  for (const ClientFilter& filter : plan.client_filters) {
    if (!load_seccomp(filter.program)) {
      report_failure_and_exit(plan.report_fd, Step::kClientSeccomp, errno);
    }
  }
  ::execve(path, plan.argv.data(), plan.envp.data());
  report_failure_and_exit(plan.report_fd, Step::kExec, errno);
}

void run_as_init(const ChildPlan& plan, const char* path) {
  sigset_t signals = forwarded_and_child_signals();
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  pid_t command = sys::clone_process(0, nullptr);
  if (command < 0) report_failure_and_exit(plan.report_fd, Step::kForkCommand, errno);
  if (command == 0) exec_command(plan, path);
  // Shown as PID 1's name inside the sandbox.
  ::prctl(PR_SET_NAME, "nsbroker-init", 0, 0, 0);
  // The init keeps nothing but stdio and the --lock-file locks: the setup report now belongs
  // to the command's process, whose execve closes it.
  close_all_but_locks(plan);
  while (true) {
    siginfo_t info{};
    if (sigwaitinfo(&signals, &info) < 0) continue;
    if (info.si_signo != SIGCHLD) {
      ::kill(command, info.si_signo);
      continue;
    }
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == command) exit_like(status);
    }
  }
}

}  // namespace nsbroker::sandbox
