// Plan: the immutable, validated description of one sandbox, produced by the decision stage
// and consumed by the spawner. Everything in it has been checked; nothing in it is trusted
// for access decisions on paths (those are made as the caller, at the point of use).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nsbroker.pb.h"

namespace nsbroker::policy {

enum class SandboxMode { kUserNamespace, kPrivileged };

const char* to_string(SandboxMode mode);

struct MountStep {
  wire::MountKind kind = wire::MOUNT_KIND_UNSPECIFIED;
  std::string source;            // bind source or symlink target, as sent
  std::string dest;              // absolute path inside the sandbox
  std::optional<mode_t> perms;   // tmpfs / dir mode
  std::uint64_t size_bytes = 0;  // tmpfs size, 0 = kernel default
};

struct Plan {
  SandboxMode mode = SandboxMode::kPrivileged;
  // A new PID namespace is always created: it is what lets the daemon end the whole sandbox
  // by killing one process.
  bool unshare_net = false;
  bool unshare_ipc = false;
  bool unshare_uts = false;
  bool unshare_cgroup = false;
  std::vector<MountStep> mounts;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string chdir;
  std::string cwd_path;
  std::string hostname;
  bool as_pid_1 = false;
};

}  // namespace nsbroker::policy
