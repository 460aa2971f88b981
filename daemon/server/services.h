// What every connection shares: fixed at startup by the composition root (main.cpp).
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "audit/audit_log.h"
#include "auth/cgroup_mounts.h"
#include "policy/plan.h"
#include "sandbox/netns_pool.h"
#include "core/policy_source.h"
#include "sandbox/seccomp.h"
#include "service/activity.h"
#include "supervise/live_sandboxes.h"
#include "supervise/spawn_rate.h"

namespace nsbroker::server {

struct Services {
  policy::SandboxMode mode = policy::SandboxMode::kPrivileged;
  PolicySource* policy = nullptr;  // the current policy; replaced as a whole on SIGHUP
  int proc_dir_fd = -1;  // the daemon's /proc, for writing id maps from the caller's view
  sandbox::NetnsPool* netns_pool = nullptr;  // may be null: sandboxes make their own
  supervise::LiveSandboxes* live = nullptr;
  supervise::SpawnRate* spawn_rate = nullptr;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<audit::AuditLog> audit;
  // Counts open connections and their sandboxes for idle exit (service/runtime.h); may be null.
  service::Activity* activity = nullptr;
  // The cgroup hierarchies the daemon sees, read at start: where callers' cgroups are.
  const auth::CgroupMounts* cgroups = nullptr;
};

}  // namespace nsbroker::server
