#include "supervise/sandbox_run.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "auth/caller_context.h"
#include "sandbox/netns_pool.h"
#include "sandbox/resource_limits.h"
#include "sandbox/spawner.h"
#include "sandbox/syscalls.h"

namespace nsbroker::supervise {
namespace {

bool is_permission_error(int error) { return error == EACCES || error == EPERM; }

Failure to_failure(const sandbox::SetupReport& report, const sandbox::ChildPlan& plan) {
  // A refusal that comes from the caller's own permissions is a denial, not a breakdown.
  bool caller_refused = report.step == sandbox::Step::kBindSourcePolicy ||
                        report.step == sandbox::Step::kMountPointNotAllowed ||
                        (is_permission_error(report.error) &&
                        (report.step == sandbox::Step::kBindSource ||
                         report.step == sandbox::Step::kMountPoint ||
                         report.step == sandbox::Step::kDevice));
  return fail(caller_refused ? wire::ERROR_DENIED : wire::ERROR_SETUP_FAILED,
              sandbox::describe_failure(report, plan));
}

}  // namespace

SandboxRun::SandboxRun(boost::asio::io_context& io, policy::Plan plan,
                       const server::Services& services, std::string id, RunEvents events)
    : io_(io),
      plan_(std::move(plan)),
      services_(services),
      id_(std::move(id)),
      events_(std::move(events)),
      outside_pidfd_(io),
      report_(io),
      started_at_(std::chrono::steady_clock::now()),
      wall_clock_(io) {}

Result<std::shared_ptr<SandboxRun>> SandboxRun::start(boost::asio::io_context& io,
                                                      policy::Plan plan,
                                                      const auth::Caller& caller,
                                                      const sandbox::RequestFds& fds,
                                                      const server::Services& services,
                                                      std::string id, RunLimits limits,
                                                      RunEvents events) {
  std::shared_ptr<SandboxRun> run(
      new SandboxRun(io, std::move(plan), services, std::move(id), std::move(events)));
  run->limits_ = limits;
  UniqueFd netns;
  if (run->plan_.unshare_net && services.netns_pool) netns = services.netns_pool->take();
  run->child_ = sandbox::make_child_plan(run->plan_, caller, fds, services.proc_dir_fd, netns.get());
  auto handles = sandbox::start_sandbox(run->child_);
  if (!handles) return handles.failure();
  run->outside_pid_ = handles.value().outside_pid;
  run->outside_pidfd_.assign(handles.value().outside_pidfd.release());
  run->report_.assign(handles.value().report.release());
  run->report_.non_blocking(true);
  run->release_ = std::move(handles.value().release);
  run->context_ = caller.context;
  run->watch_report();
  run->watch_outside_stage();
  return run;
}

void SandboxRun::watch_report() {
  report_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       if (!ec) self->read_reports();
                     });
}

void SandboxRun::read_reports() {
  while (true) {
    sandbox::SetupReport report;
    ssize_t n = ::read(report_.native_handle(), &report, sizeof(report));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return watch_report();
    if (n <= 0) return setup_ended();  // end of file: every setup process is done with it
    if (n != sizeof(report)) continue;  // cannot happen: writes below PIPE_BUF are atomic
    if (report.kind == sandbox::ReportKind::kSandboxPid && sandbox_pid_ < 0) {
      sandbox_pid_ = report.pid;
      // Safe against pid reuse: the sandbox process is our child (CLONE_PARENT) and we have
      // not reaped it.
      int pidfd = sys::pidfd_open(sandbox_pid_);
      if (pidfd < 0) {
        // Cannot happen for an unreaped child; end it rather than leave it unsupervised.
        int error = errno;
        ::kill(sandbox_pid_, SIGKILL);
        ::waitpid(sandbox_pid_, nullptr, 0);
        sandbox_reaped_ = true;
        fail_setup(sandbox::Step::kCloneSandbox, error);
        continue;
      }
      sandbox_pidfd_.emplace(io_, pidfd);
      if (!register_pid_namespace()) fail_setup(sandbox::Step::kCloneSandbox, errno);
      watch_sandbox();
      if (kill_reason_) sys::pidfd_send_signal(pidfd, SIGKILL);
      else if (pending_signal_ != 0) sys::pidfd_send_signal(pidfd, pending_signal_);
    } else if (report.kind == sandbox::ReportKind::kSandboxReady) {
      release_sandbox();
    } else if (report.kind == sandbox::ReportKind::kFailure && !failure_) {
      failure_ = report;
    }
  }
}

void SandboxRun::fail_setup(sandbox::Step step, int error) {
  if (!failure_) failure_ = sandbox::SetupReport{sandbox::ReportKind::kFailure, step, error, -1, 0};
  release_.reset();  // the sandbox process reads end of file and ends
  if (sandbox_pidfd_) sys::pidfd_send_signal(sandbox_pidfd_->native_handle(), SIGKILL);
}

// The order is the point: the sandbox's PID namespace is registered (on kSandboxPid) before
// the sandbox process may run anything, so a request from inside it is always recognised.
void SandboxRun::release_sandbox() {
  if (failure_ || kill_reason_ || !sandbox_pidfd_ || pid_namespace_ == 0 || !release_) return;
  if (!sandbox::impose_caller_limits(sandbox_pid_, context_->rlimits, context_->nice)) {
    return fail_setup(sandbox::Step::kCallerLimits, errno);
  }
  ssize_t n;
  do {
    n = ::write(release_.get(), "g", 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) return fail_setup(sandbox::Step::kWaitForRelease, errno);
  release_.reset();
}

void SandboxRun::setup_ended() {
  setup_done_ = true;
  report_.close();
  bool executed = !failure_ && !kill_reason_ && sandbox_pidfd_;
  if (executed) {
    command_started_ = true;
    started_at_ = std::chrono::steady_clock::now();
    start_wall_clock();
    if (events_.started) events_.started(sandbox_pid_, sandbox_pidfd_->native_handle());
  } else if (sandbox_pidfd_) {
    sys::pidfd_send_signal(sandbox_pidfd_->native_handle(), SIGKILL);
  }
  finish_if_done();
}

void SandboxRun::watch_outside_stage() {
  outside_pidfd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [self = shared_from_this()](const boost::system::error_code& ec) {
                              if (ec) return;
                              int status = 0;
                              if (::waitpid(self->outside_pid_, &status, WNOHANG) == 0) {
                                return self->watch_outside_stage();
                              }
                              self->outside_reaped_ = true;
                              self->outside_pidfd_.close();
                              self->finish_if_done();
                            });
}

bool SandboxRun::register_pid_namespace() {
  // Through the daemon's own /proc: the sandbox process is our unreaped child. Fails closed:
  // a sandbox whose namespace is unknown is never released.
  struct stat st {};
  std::string link = std::to_string(sandbox_pid_) + "/ns/pid";
  if (::fstatat(services_.proc_dir_fd, link.c_str(), &st, 0) < 0) return false;
  pid_namespace_ = st.st_ino;
  services_.live->add_pid_namespace(pid_namespace_);
  return true;
}

void SandboxRun::watch_sandbox() {
  sandbox_pidfd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                             [self = shared_from_this()](const boost::system::error_code& ec) {
                               if (!ec) self->reap_sandbox();
                             });
}

void SandboxRun::reap_sandbox() {
  int status = 0;
  rusage usage{};
  pid_t pid = ::wait4(sandbox_pid_, &status, WNOHANG, &usage);
  if (pid == 0) return watch_sandbox();
  sandbox_reaped_ = true;
  if (pid_namespace_ != 0) services_.live->remove_pid_namespace(pid_namespace_);
  status_.signaled = WIFSIGNALED(status);
  status_.value = status_.signaled ? WTERMSIG(status) : WEXITSTATUS(status);
  status_.usage = usage;
  status_.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_at_);
  sandbox_pidfd_->close();
  finish_if_done();
}

void SandboxRun::send_signal(int sig) {
  if (sandbox_pidfd_ && sandbox_pidfd_->is_open() && !sandbox_reaped_) {
    sys::pidfd_send_signal(sandbox_pidfd_->native_handle(), sig);
  } else if (!sandbox_pidfd_) {
    pending_signal_ = sig;
  }
}

void SandboxRun::kill(wire::ExitReason reason) {
  if (!kill_reason_) kill_reason_ = reason;
  release_.reset();
  if (!outside_reaped_ && outside_pidfd_.is_open()) {
    sys::pidfd_send_signal(outside_pidfd_.native_handle(), SIGKILL);
  }
  send_signal(SIGKILL);
}

void SandboxRun::start_wall_clock() {
  if (limits_.wall_time.count() == 0) return;
  wall_clock_.expires_after(limits_.wall_time);
  wall_clock_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec && !self->sandbox_reaped_) self->kill(wire::EXIT_REASON_KILLED_BY_LIMIT);
  });
}

void SandboxRun::finish_if_done() {
  bool sandbox_done = sandbox_pid_ < 0 || sandbox_reaped_;
  if (finished_ || !setup_done_ || !outside_reaped_ || !sandbox_done) return;
  finished_ = true;
  wall_clock_.cancel();
  std::optional<Failure> failure;
  if (failure_) {
    failure = to_failure(*failure_, child_);
  } else if (!command_started_) {
    failure = fail(wire::ERROR_SETUP_FAILED, "sandbox setup ended before the command started");
  }
  status_.reason = kill_reason_.value_or(wire::EXIT_REASON_EXITED);
  auto finished = std::move(events_.finished);
  events_ = {};
  if (finished) finished(failure, status_);
}

}  // namespace nsbroker::supervise
