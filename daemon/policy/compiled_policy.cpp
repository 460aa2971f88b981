#include "policy/compiled_policy.h"

#include <algorithm>

namespace nsbroker::policy {
namespace {

bool caller_has_group(const auth::Caller& caller, gid_t gid) {
  return caller.gid == gid || std::find(caller.groups.begin(), caller.groups.end(), gid) !=
                                  caller.groups.end();
}

bool matches(const MatchEntry& entry, const auth::Caller& caller) {
  if (entry.kind == MatchEntry::Kind::kUid) return caller.uid == static_cast<uid_t>(entry.id);
  return caller_has_group(caller, static_cast<gid_t>(entry.id));
}

}  // namespace

const char* to_string(NamespaceRule rule) {
  switch (rule) {
    case NamespaceRule::kAllowed: return "ALLOWED";
    case NamespaceRule::kRequired: return "REQUIRED";
    case NamespaceRule::kForbidden: return "FORBIDDEN";
  }
  return "?";
}

CompiledPolicy::Selection CompiledPolicy::select(const auth::Caller& caller) const {
  for (const CompiledProfile& profile : profiles_) {
    for (const MatchEntry& entry : profile.match) {
      if (matches(entry, caller)) {
        return {&profile, entry.text + " of profile \"" + profile.name + "\" at " + entry.where};
      }
    }
  }
  if (const CompiledProfile* fallback = default_profile()) {
    return {fallback, "default_profile \"" + fallback->name + "\" (no profile matches uid " +
                          std::to_string(caller.uid) + ")"};
  }
  return {nullptr, "no profile matches uid " + std::to_string(caller.uid) + " (gid " +
                       std::to_string(caller.gid) + ") and the policy has no default_profile"};
}

const CompiledProfile* CompiledPolicy::find(std::string_view name) const {
  for (const CompiledProfile& profile : profiles_) {
    if (profile.name == name) return &profile;
  }
  return nullptr;
}

}  // namespace nsbroker::policy
