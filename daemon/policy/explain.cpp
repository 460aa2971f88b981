#include "policy/explain.h"

#include "policy/evaluate.h"
#include "policy/path_rules_view.h"
#include "sandbox/path_rules.h"

namespace nsbroker::policy {
namespace {

void list(std::string& out, const char* title, const std::vector<std::string>& lines,
          const char* marker) {
  if (lines.empty()) return;
  out += title;
  out += ":\n";
  for (const std::string& line : lines) out += std::string("  ") + marker + line + "\n";
}

// The binds a home-owner lookup refutes: their source is in another user's home, as far as
// the file system says now.
std::vector<std::string> refuted_by_home_owners(const Decision& decision, const auth::Caller& caller,
                                                const HomeOwnerLookup& home_owner) {
  std::vector<std::string> refused;
  if (!home_owner) return refused;
  sandbox::ChildPathRules view = view_of(decision.plan.path_rules);
  for (const MountStep& step : decision.plan.mounts) {
    bool bind = step.kind == wire::MOUNT_BIND || step.kind == wire::MOUNT_RO_BIND ||
                step.kind == wire::MOUNT_DEV_BIND;
    if (!bind || step.source.empty() || step.source.front() != '/') continue;
    char home[4096];
    if (!sandbox::home_directory_of(step.source.c_str(), view.homes_root, home, sizeof(home))) {
      continue;
    }
    std::optional<uid_t> owner = home_owner(home);
    if (!owner) continue;
    int rule = -1;
    if (sandbox::check_bind_source(view, step.source.c_str(), step.kind, caller.uid, *owner,
                                   &rule) == sandbox::PathVerdict::kOtherUsersHome) {
      refused.push_back("mounts.deny_other_users_homes: " + std::string(home) +
                        " is owned by uid " + std::to_string(*owner) + ", not the caller, so " +
                        step.source + " would be refused when the sandbox is built");
    }
  }
  return refused;
}

}  // namespace

Explanation explain(const CompiledPolicy& policy, const auth::Caller& caller,
                    const std::string& caller_label, const wire::Spawn& request,
                    SandboxMode available_mode, const HomeOwnerLookup& home_owner) {
  Evaluation evaluation = evaluate(policy, caller, request, available_mode);
  Explanation out;
  std::string& text = out.text;
  text += "policy:  " + policy.source() + "\n";
  text += "caller:  " + caller_label + "\n";
  text += std::string("host:    ") + to_string(available_mode) + " mode available (assumed)\n";
  if (evaluation.allowed()) {
    const Decision& decision = evaluation.decision();
    text += "profile: \"" + decision.profile + "\", selected by " + decision.selected_by + "\n";
    text += std::string("mode:    ") + to_string(decision.plan.mode) + "\n";
    list(text, "rules", decision.rules, "allow  ");
    std::vector<std::string> refused = refuted_by_home_owners(decision, caller, home_owner);
    list(text, "refused as opened (file system as it is now)", refused, "deny   ");
    std::vector<std::string> notes = decision.notes;
    notes.push_back("every bind source is checked again when the sandbox is built, as opened "
                    "by the caller (symlinks, relative paths and home owners are decided there)");
    list(text, "checked when the sandbox is built", notes, "- ");
    text += "limits:  " + std::to_string(decision.limits.max_live_sandboxes) +
            " live sandboxes, " + std::to_string(decision.limits.max_spawns_per_minute) +
            " spawns per minute, wall time " +
            (decision.limits.wall_time_seconds == 0
                 ? std::string("unlimited")
                 : std::to_string(decision.limits.wall_time_seconds) + " s") +
            "\n";
    out.allowed = refused.empty();
    text += out.allowed ? "verdict: ALLOWED\n"
                        : "verdict: DENIED when the sandbox is built (" + refused.front() + ")\n";
    return out;
  }
  const Denial& denial = evaluation.denial();
  if (!denial.profile.empty()) {
    text += "profile: \"" + denial.profile + "\", selected by " + denial.selected_by + "\n";
  } else if (!denial.selected_by.empty()) {
    text += "profile: none: " + denial.selected_by + "\n";
  }
  list(text, "rules", denial.allowed_rules, "allow  ");
  list(text, "refused by", denial.rules, "deny   ");
  text += "verdict: DENIED: " + denial.message + "\n";
  out.allowed = false;
  return out;
}

}  // namespace nsbroker::policy
