#include "core/broker.h"

#include <sys/random.h>

#include <cstdio>
#include <cstring>

#include "policy/request_check.h"

namespace nsbroker {
namespace {

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

Result<std::shared_ptr<supervise::SandboxRun>> Broker::spawn(const auth::Caller& caller,
                                                             const wire::Spawn& request,
                                                             const sandbox::RequestFds& fds,
                                                             supervise::RunEvents events) {
  auto plan = policy::check_request(caller, request, services_.mode);
  if (!plan) {
    services_.log->info("uid={} pid={}: refused: {}", caller.uid, caller.pid, plan.failure().message);
    return plan.failure();
  }
  if (!services_.live->try_acquire(caller.uid)) {
    return fail(wire::ERROR_LIMIT_EXCEEDED,
                "uid " + std::to_string(caller.uid) + " already has " +
                    std::to_string(services_.live->max_per_uid()) +
                    " live sandboxes (the per-user limit); wait for one to end");
  }
  // The slot is given back when the run has been reaped, whatever the transport does.
  auto finished = std::move(events.finished);
  events.finished = [live = services_.live, uid = caller.uid, finished = std::move(finished)](
                        const std::optional<Failure>& failure, const supervise::ExitStatus& status) {
    live->release(uid);
    if (finished) finished(failure, status);
  };
  std::string id = new_sandbox_id();
  std::string command = request.argv(0);
  auto run = supervise::SandboxRun::start(io_, std::move(plan.value()), caller, fds, services_, id,
                                          std::move(events));
  if (!run) {
    services_.live->release(caller.uid);
    return run.failure();
  }
  services_.log->info("uid={} pid={} sandbox={}: spawning {} ({} mode)", caller.uid, caller.pid, id,
                      command, policy::to_string(services_.mode));
  return run;
}

}  // namespace nsbroker
