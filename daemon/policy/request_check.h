// The structural part of the decision stage: is the request well-formed? (Caller, Spawn
// request, daemon settings) -> Plan | Failure (ERROR_INVALID_ARGUMENT). Pure: no I/O, no
// clock, no global state. evaluate() (policy/evaluate.h) runs this first, then the caller's
// policy profile; a Plan made here alone carries no profile (no path rules, no seccomp
// program), so the daemon uses evaluate().
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/caller.h"
#include "core/result.h"
#include "nsbroker.pb.h"
#include "policy/plan.h"

namespace nsbroker::policy {

// The record's fds 0-3 are stdin, stdout, stderr and the cwd; data fds follow.
inline constexpr std::uint32_t kFirstDataFd = 4;

struct RequestLimits {
  std::size_t max_mounts = 512;
  std::size_t max_path_bytes = 4095;
};

Result<Plan> check_request(const auth::Caller& caller, const wire::Spawn& spawn, SandboxMode mode,
                           const RequestLimits& limits = {});

// The client option a mount kind comes from: "--ro-bind", "--tmpfs", ...
const char* mount_option_name(wire::MountKind kind);

// "CAP_NET_ADMIN" / "net_admin" -> its bit; "ALL" -> every capability; unknown -> nullopt.
std::optional<std::uint64_t> capability_mask(std::string_view name);

// "/a//b/./c/" -> "/a/b/c"; relative paths are taken from the sandbox root, as bubblewrap
// does. ".." is refused (std::nullopt): a destination names one place beneath the root.
std::optional<std::string> normalize_destination(std::string_view path);

}  // namespace nsbroker::policy
