#include "core/broker.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <csignal>

#include <cstdio>
#include <cstring>

#include "auth/caller_context.h"
#include "policy/evaluate.h"
#include "policy/request_check.h"

namespace nsbroker {
namespace {

// What the audit record says about the request: its mounts and namespaces, as asked.
audit::DecisionRecord describe_request(const auth::Caller& caller, const wire::Spawn& request) {
  audit::DecisionRecord record;
  record.caller = {caller.uid, caller.pid, audit::AuditLog::executable_of(caller.pid)};
  record.transport = caller.transport;
  record.argv0 = request.argv_size() > 0 ? request.argv(0) : "";
  for (const wire::MountOp& op : request.mounts()) {
    std::string text = policy::mount_option_name(op.kind()) + 2;  // "ro-bind", without "--"
    if (!op.source().empty()) text += " " + op.source();
    record.mounts.push_back(text + " " + op.dest());
  }
  const wire::Namespaces& ns = request.unshare();
  record.namespaces.push_back("pid");
  if (ns.net()) record.namespaces.push_back("net");
  if (ns.ipc()) record.namespaces.push_back("ipc");
  if (ns.uts()) record.namespaces.push_back("uts");
  if (ns.cgroup()) record.namespaces.push_back("cgroup");
  return record;
}

const char* reason_name(wire::ExitReason reason) {
  switch (reason) {
    case wire::EXIT_REASON_CLIENT_GONE: return "client-gone";
    case wire::EXIT_REASON_KILLED_BY_LIMIT: return "killed-by-limit";
    default: return "exited";
  }
}

std::string new_sandbox_id() {
  unsigned char bytes[6] = {};
  if (::getrandom(bytes, sizeof(bytes), 0) != static_cast<ssize_t>(sizeof(bytes))) {
    static unsigned counter = 0;
    ++counter;
    std::memcpy(bytes, &counter, sizeof(counter));
  }
  char text[13];
  for (std::size_t i = 0; i < sizeof(bytes); ++i) std::snprintf(text + 2 * i, 3, "%02x", bytes[i]);
  return text;
}

}  // namespace

void Broker::wrap_events(supervise::RunEvents& events, const auth::Caller& caller,
                         const audit::CallerRecord& who, const std::string& id) {
  // Start and exit are audited, and the live slot is given back when the run has been
  // reaped, whatever the transport does with the events.
  auto started = std::move(events.started);
  events.started = [audit = services_.audit, who, id, started = std::move(started)](pid_t pid, int pidfd) {
    audit::StartRecord start;
    start.caller = who;
    start.sandbox_id = id;
    start.pid = pid;
    audit->started(start);
    if (started) started(pid, pidfd);
  };
  auto finished = std::move(events.finished);
  events.finished = [audit = services_.audit, live = services_.live, uid = caller.uid, who, id,
                     finished = std::move(finished)](const std::optional<Failure>& failure,
                                                     const supervise::ExitStatus& status) {
    live->release(uid);
    audit::ExitRecord exit;
    exit.caller = who;
    exit.sandbox_id = id;
    exit.setup_failed = failure.has_value();
    if (failure) exit.failure = failure->message;
    exit.signaled = status.signaled;
    exit.value = status.value;
    exit.reason = reason_name(status.reason);
    exit.duration = status.duration;
    exit.usage = status.usage;
    audit->exited(exit);
    if (finished) finished(failure, status);
  };
}

bool Broker::may_forward_signal(int sig) {
  switch (sig) {
    case SIGINT: case SIGTERM: case SIGHUP: case SIGQUIT: case SIGUSR1: case SIGUSR2:
    case SIGWINCH: case SIGKILL: case SIGCONT: return true;
    default: return false;
  }
}

// A sandbox never gets more than its caller had; a request made from inside one of our
// sandboxes could only be judged against that sandbox's own plan, which is not modelled: it is
// refused (the daemon's socket is also denied and masked in every profile, wherever it is).
// Why ancestry and not equality: a process can leave neither its PID namespace nor that
// namespace's ancestors, but it can create a child namespace (or be placed in one); only the
// whole chain tells whether it descends from a sandbox.
std::optional<Failure> Broker::refuse_from_inside_a_sandbox(const auth::CallerContext& context) {
  for (ino_t ns : context.pid_namespaces) {
    if (!services_.live->is_sandbox_pid_namespace(ns)) continue;
    return fail(wire::ERROR_DENIED,
                "the request comes from inside an nsbroker sandbox; nested sandboxes are refused "
                "(a sandbox may never give more than its caller had)");
  }
  return std::nullopt;
}

std::optional<Failure> Broker::check_limits(const auth::Caller& caller,
                                           const policy::Decision& decision) {
  const policy::Limits& limits = decision.limits;
  if (!services_.spawn_rate->try_spawn(caller.uid, limits.max_spawns_per_minute)) {
    return fail(wire::ERROR_LIMIT_EXCEEDED,
                "uid " + std::to_string(caller.uid) + " started more than " +
                    std::to_string(limits.max_spawns_per_minute) + " sandboxes in a minute (limits." +
                    "max_spawns_per_minute of profile \"" + decision.profile + "\"); try again shortly");
  }
  if (!services_.live->try_acquire(caller.uid, limits.max_live_sandboxes)) {
    return fail(wire::ERROR_LIMIT_EXCEEDED,
                "uid " + std::to_string(caller.uid) + " already has " +
                    std::to_string(services_.live->effective_limit(limits.max_live_sandboxes)) +
                    " live sandboxes (the per-user limit); wait for one to end");
  }
  return std::nullopt;
}

Result<std::shared_ptr<supervise::SandboxRun>> Broker::spawn(const auth::Caller& caller,
                                                             const wire::Spawn& request,
                                                             const sandbox::RequestFds& fds,
                                                             supervise::RunEvents events) {
  audit::DecisionRecord record = describe_request(caller, request);
  auto refuse = [&](Failure failure) -> Failure {
    record.allowed = false;
    record.reason = failure.message;
    services_.audit->decision(record);
    services_.log->info("uid={} pid={}: refused: {}", caller.uid, caller.pid, failure.message);
    return failure;
  };
  std::vector<std::uint32_t> named_fds(request.seccomp_fds().begin(), request.seccomp_fds().end());
  for (const wire::MountOp& op : request.mounts()) {
    if (op.source_fd() != 0) named_fds.push_back(op.source_fd());
  }
  for (std::uint32_t index : named_fds) {
    if (index >= policy::kFirstDataFd + fds.data.size()) {
      return refuse(fail(wire::ERROR_PROTOCOL, "the request names fd " + std::to_string(index) +
                                                   " but the record carries " +
                                                   std::to_string(policy::kFirstDataFd + fds.data.size())));
    }
  }
  auto context = auth::read_caller_context(services_.proc_dir_fd, caller, *services_.cgroups);
  if (!context) return refuse(context.failure());
  if (auto nested = refuse_from_inside_a_sandbox(context.value())) return refuse(*nested);
  auth::Caller confined = caller;
  confined.context = std::make_shared<const auth::CallerContext>(std::move(context.value()));
  // One snapshot per request: a reload never changes a decision half-way.
  std::shared_ptr<const policy::CompiledPolicy> current = services_.policy->current();
  policy::Evaluation evaluation = policy::evaluate(*current, caller, request, services_.mode);
  if (!evaluation.allowed()) {
    record.profile = evaluation.denial().profile;
    record.rules = evaluation.denial().rules;
    return refuse(evaluation.failure());
  }
  policy::Decision& decision = evaluation.decision();
  record.profile = decision.profile;
  record.rules = decision.rules;
  record.mode = policy::to_string(decision.plan.mode);
  if (auto limited = check_limits(caller, decision)) return refuse(*limited);
  std::string id = new_sandbox_id();
  wrap_events(events, caller, record.caller, id);
  supervise::RunLimits run_limits{std::chrono::seconds(decision.limits.wall_time_seconds)};
  auto run = supervise::SandboxRun::start(io_, std::move(decision.plan), confined, fds, services_, id,
                                          run_limits, std::move(events));
  if (!run) {
    services_.live->release(caller.uid);
    return refuse(run.failure());
  }
  record.allowed = true;
  record.sandbox_id = id;
  services_.audit->decision(record);
  services_.log->info("uid={} pid={} sandbox={}: spawning {} ({} mode)", caller.uid, caller.pid, id,
                      record.argv0, record.mode);
  return run;
}

}  // namespace nsbroker
