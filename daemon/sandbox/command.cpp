#include "sandbox/command.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sandbox/child_text.h"
#include "sandbox/seccomp.h"
#include "sandbox/setup_report.h"
#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {
namespace {

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

// execvp semantics with the command's own PATH, without allocating: try each directory,
// remember EACCES, report the most telling error.
int exec_search(const ChildPlan& plan) {
  char* const* argv = plan.argv.data();
  char* const* envp = plan.envp.data();
  const char* file = argv[0];
  if (std::strchr(file, '/') != nullptr) {
    ::execve(file, argv, envp);
    return errno;
  }
  int result = ENOENT;
  const char* dir = plan.search_path;
  while (true) {
    const char* end = std::strchr(dir, ':');
    std::size_t length = end ? static_cast<std::size_t>(end - dir) : std::strlen(dir);
    TextBuffer<PATH_MAX> candidate;
    candidate.prefix(dir, length).text(length > 0 ? "/" : "").text(file);
    ::execve(candidate.c_str(), argv, envp);
    if (errno == EACCES) result = EACCES;
    else if (errno != ENOENT && errno != ENOTDIR) return errno;
    if (!end) return result;
    dir = end + 1;
  }
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

void exec_command(const ChildPlan& plan) {
  // The mask survives execve: the command must start with nothing blocked by us.
  sigset_t signals = forwarded_and_child_signals();
  sigprocmask(SIG_UNBLOCK, &signals, nullptr);
  // Last step before execve, so nothing of the setup runs under the filter's rules.
  if (!load_seccomp(plan.seccomp)) report_failure_and_exit(plan.report_fd, Step::kSeccomp, errno);
  int error = exec_search(plan);
  report_failure_and_exit(plan.report_fd, Step::kExec, error);
}

void run_as_init(const ChildPlan& plan) {
  sigset_t signals = forwarded_and_child_signals();
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  pid_t command = sys::clone_process(0, nullptr);
  if (command < 0) report_failure_and_exit(plan.report_fd, Step::kForkCommand, errno);
  if (command == 0) exec_command(plan);
  // Shown as PID 1's name inside the sandbox.
  ::prctl(PR_SET_NAME, "nsbroker-init", 0, 0, 0);
  // The init keeps nothing but stdio: the setup report now belongs to the command's
  // process, whose execve closes it.
  sys::close_range(3, ~0U, 0);
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
