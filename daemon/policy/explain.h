// `nsbroker policy explain`: which profile and rules would allow or deny a request, as text,
// without running anything. Pure apart from the optional home-owner lookup, so that the text
// is unit-tested.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "auth/caller.h"
#include "nsbroker.pb.h"
#include "policy/compiled_policy.h"
#include "policy/plan.h"

namespace nsbroker::policy {

struct Explanation {
  bool allowed = false;  // allowed by the policy and by the home-owner checks that were made
  std::string text;      // several lines, ending in "verdict: ..."
};

// Looks up the owner of a home directory (the tool uses lstat), for the decision left to the
// as-opened check; nothing: unknown, stays a note.
using HomeOwnerLookup = std::function<std::optional<uid_t>(const std::string& home)>;

Explanation explain(const CompiledPolicy& policy, const auth::Caller& caller,
                    const std::string& caller_label, const wire::Spawn& request,
                    SandboxMode available_mode, const HomeOwnerLookup& home_owner = nullptr);

}  // namespace nsbroker::policy
