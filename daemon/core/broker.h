// Broker: the transport-independent core. Every transport (the Unix socket, D-Bus) turns its
// input into the same (Caller, Spawn, fds) and calls spawn(); no rule may depend on the
// transport (DESIGN.md §1).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "auth/caller.h"
#include "auth/caller_context.h"
#include "core/result.h"
#include "nsbroker.pb.h"
#include "policy/evaluate.h"
#include "sandbox/child_plan.h"
#include "server/services.h"
#include "supervise/sandbox_run.h"

namespace nsbroker {

class Broker {
 public:
  Broker(boost::asio::io_context& io, const server::Services& services)
      : io_(io), services_(services) {}

  // Decision then execution: checks the request, counts it against the caller's live
  // sandbox limit, and starts it. `events.finished` always fires once for a started run.
  Result<std::shared_ptr<supervise::SandboxRun>> spawn(const auth::Caller& caller,
                                                       const wire::Spawn& request,
                                                       const sandbox::RequestFds& fds,
                                                       supervise::RunEvents events);

  const server::Services& services() const { return services_; }

  // Signals a caller may forward to its own sandbox, whatever the transport.
  static bool may_forward_signal(int sig);

 private:
  std::optional<Failure> refuse_from_inside_a_sandbox(const auth::CallerContext& context);
  // Spawn rate, then live sandboxes (which takes a slot): per uid, from the profile.
  std::optional<Failure> check_limits(const auth::Caller& caller, const policy::Decision& decision);
  void wrap_events(supervise::RunEvents& events, const auth::Caller& caller,
                   const audit::CallerRecord& who, const std::string& id);

  boost::asio::io_context& io_;
  const server::Services& services_;
};

}  // namespace nsbroker
