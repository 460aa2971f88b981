// PolicySource: where the daemon's policy comes from, and its atomic replacement on SIGHUP.
//
// The file given with --policy, else /etc/nsbroker/policy.pbtxt, else (only when that file
// does not exist) the built-in copy of config/policy.pbtxt this daemon was built with. A
// reload that fails to read, parse, validate or compile keeps the old policy. Each request
// takes a snapshot (a shared_ptr), so running sandboxes keep the plan they started with.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "policy/compiled_policy.h"
#include "policy/policy_loader.h"

namespace nsbroker {

class PolicySource {
 public:
  // `explicit_path`: from --policy (empty when not given). `always_deny`: the daemon's own
  // paths (its socket), denied in every profile of this and every reloaded policy.
  static Result<std::unique_ptr<PolicySource>> load(const std::string& explicit_path,
                                                    std::vector<policy::AlwaysDenied> always_deny = {});

  std::shared_ptr<const policy::CompiledPolicy> current() const { return current_; }
  const std::string& origin() const { return origin_; }  // for logs: the file, or "built-in"

  // Re-reads the same origin. On failure the current policy stays and the failure says why.
  Result<std::shared_ptr<const policy::CompiledPolicy>> reload();

 private:
  PolicySource(std::string path, std::string origin, std::vector<policy::AlwaysDenied> always_deny)
      : path_(std::move(path)), origin_(std::move(origin)), always_deny_(std::move(always_deny)) {}
  Result<std::shared_ptr<const policy::CompiledPolicy>> read();

  std::string path_;    // empty: the built-in default
  std::string origin_;
  std::vector<policy::AlwaysDenied> always_deny_;
  std::shared_ptr<const policy::CompiledPolicy> current_;
};

// The text of config/policy.pbtxt, compiled in (generated at build time).
extern const char* const kBuiltInPolicyText;

}  // namespace nsbroker
