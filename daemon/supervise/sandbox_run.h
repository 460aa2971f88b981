// SandboxRun: one sandbox from spawn to reaping, driven by the daemon's event loop.
//
// It never blocks: the setup report pipe, the outside stage's pidfd and the sandbox's pidfd
// are all watched asynchronously. `started` fires once the command was executed; `finished`
// fires exactly once, after every process of the run has been reaped, with either the setup
// failure or the exit status.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "auth/caller.h"
#include "core/result.h"
#include "policy/plan.h"
#include "sandbox/child_plan.h"
#include "sandbox/setup_report.h"
#include "server/services.h"

namespace nsbroker::supervise {

struct ExitStatus {
  bool signaled = false;
  int value = 0;  // exit code, or signal number when signaled
  rusage usage{};
  wire::ExitReason reason = wire::EXIT_REASON_EXITED;
  std::chrono::milliseconds duration{0};
};

struct RunLimits {
  std::chrono::seconds wall_time{0};  // 0: none; else the sandbox is killed after this long
};

struct RunEvents {
  std::function<void(pid_t pid, int pidfd)> started;
  // Exactly one of failure / status is set.
  std::function<void(const std::optional<Failure>& failure, const ExitStatus& status)> finished;
};

class SandboxRun : public std::enable_shared_from_this<SandboxRun> {
 public:
  static Result<std::shared_ptr<SandboxRun>> start(boost::asio::io_context& io, policy::Plan plan,
                                                   const auth::Caller& caller,
                                                   const sandbox::RequestFds& fds,
                                                   const server::Services& services,
                                                   std::string id, RunLimits limits,
                                                   RunEvents events);

  // Forwards an (allowlisted) signal to the sandbox's init; one that arrives while the
  // sandbox is still being set up is delivered as soon as its process exists.
  void send_signal(int sig);
  // Ends the whole sandbox (and a setup still in progress) with SIGKILL.
  void kill(wire::ExitReason reason);

  const std::string& id() const { return id_; }

 private:
  SandboxRun(boost::asio::io_context& io, policy::Plan plan, const server::Services& services,
             std::string id, RunEvents events);

  void watch_report();
  void read_reports();
  void setup_ended();
  void watch_outside_stage();
  void watch_sandbox();
  bool register_pid_namespace();
  void release_sandbox();
  void fail_setup(sandbox::Step step, int error);
  void reap_sandbox();
  void finish_if_done();
  void start_wall_clock();

  boost::asio::io_context& io_;
  policy::Plan plan_;  // the ChildPlan points into it
  sandbox::ChildPlan child_;
  const server::Services& services_;
  std::string id_;
  RunEvents events_;

  pid_t outside_pid_ = -1;
  boost::asio::posix::stream_descriptor outside_pidfd_;
  boost::asio::posix::stream_descriptor report_;
  UniqueFd release_;  // write end: one byte lets the sandbox process start its setup
  std::shared_ptr<const auth::CallerContext> context_;  // its rlimits and nice value
  pid_t sandbox_pid_ = -1;
  ino_t pid_namespace_ = 0;  // registered in services_.live while the sandbox runs
  std::optional<boost::asio::posix::stream_descriptor> sandbox_pidfd_;

  bool setup_done_ = false;
  bool command_started_ = false;
  bool outside_reaped_ = false;
  bool sandbox_reaped_ = false;
  bool finished_ = false;
  std::optional<sandbox::SetupReport> failure_;
  std::optional<wire::ExitReason> kill_reason_;
  int pending_signal_ = 0;
  ExitStatus status_;
  std::chrono::steady_clock::time_point started_at_;
  RunLimits limits_;
  boost::asio::steady_timer wall_clock_;
};

}  // namespace nsbroker::supervise
