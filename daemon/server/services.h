// What every connection shares: fixed at startup by the composition root (main.cpp).
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "audit/audit_log.h"
#include "policy/plan.h"
#include "sandbox/seccomp.h"
#include "supervise/live_sandboxes.h"

namespace nsbroker::server {

struct Services {
  policy::SandboxMode mode = policy::SandboxMode::kPrivileged;
  const sandbox::SeccompProgram* seccomp = nullptr;
  int proc_dir_fd = -1;  // the daemon's /proc, for writing id maps from the caller's view
  supervise::LiveSandboxes* live = nullptr;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<audit::AuditLog> audit;
};

}  // namespace nsbroker::server
