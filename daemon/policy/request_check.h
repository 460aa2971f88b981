// The decision stage: (Caller, Spawn request, daemon settings) -> Plan | Failure.
// Pure: no I/O, no clock, no global state. It checks everything that can be checked without
// touching a path; path permissions are checked later, as the caller, at the point of use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "auth/caller.h"
#include "core/result.h"
#include "nsbroker.pb.h"
#include "policy/plan.h"

namespace nsbroker::policy {

struct RequestLimits {
  std::size_t max_mounts = 512;
  std::size_t max_path_bytes = 4095;
};

Result<Plan> check_request(const auth::Caller& caller, const wire::Spawn& spawn, SandboxMode mode,
                           const RequestLimits& limits = {});

// "/a//b/./c/" -> "/a/b/c"; relative paths are taken from the sandbox root, as bubblewrap
// does. ".." is refused (std::nullopt): a destination names one place beneath the root.
std::optional<std::string> normalize_destination(std::string_view path);

}  // namespace nsbroker::policy
