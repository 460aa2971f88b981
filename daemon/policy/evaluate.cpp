#include "policy/evaluate.h"

#include <algorithm>

#include "policy/path_rules_view.h"
#include "policy/request_check.h"
#include "sandbox/path_rules.h"

namespace nsbroker::policy {
namespace {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string describe(const MountStep& step) {
  std::string text = mount_option_name(step.kind);
  if (!step.source.empty()) text += " " + step.source;
  return text + " " + step.dest;
}

// Lexical form of an absolute source for the string check: "//", "." and ".." resolved
// without looking at the file system. The as-opened check is the authority.
std::string lexical_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(i, end - i);
    i = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (std::string_view part : parts) {
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

std::string_view variable_name(std::string_view entry) { return entry.substr(0, entry.find('=')); }

bool strip_matches(std::string_view pattern, std::string_view name) {
  if (!pattern.empty() && pattern.back() == '*') return name.starts_with(pattern.substr(0, pattern.size() - 1));
  return name == pattern;
}

// A rule that decided something: `text` goes into messages, `where` (FILE:LINE:COLUMN of the
// rule, when it has one) is added in the rules list.
struct Hit {
  std::string text;
  std::string where;

  std::string with_position() const { return where.empty() ? text : text + " [" + where + "]"; }
};

class Evaluator {
 public:
  Evaluator(const CompiledPolicy& policy, const auth::Caller& caller, const wire::Spawn& request,
            SandboxMode available_mode)
      : policy_(policy), caller_(caller), request_(request), available_mode_(available_mode) {}

  Evaluation run() {
    auto checked = check_request(caller_, request_, available_mode_);
    if (!checked) {
      Denial denial;
      denial.code = checked.failure().code;
      denial.message = checked.failure().message;
      denial.rules.push_back("request: " + checked.failure().message);
      return denial;
    }
    plan_ = std::move(checked.value());
    CompiledPolicy::Selection selection = policy_.select(caller_);
    selected_by_ = selection.reason;
    if (selection.profile == nullptr) {
      Denial denial;
      denial.message = "denied: " + selection.reason +
                       ": ask the administrator to add a profile for you (policy " +
                       policy_.source() + ")";
      denial.selected_by = selected_by_;
      denial.rules.push_back(selection.reason);
      return denial;
    }
    profile_ = selection.profile;
    check_sizes();
    apply_namespaces();
    choose_mode();
    check_identity_inside();
    for (MountStep& step : plan_.mounts) check_mount(step);
    apply_environment();
    check_client_filters();
    if (!denials_.empty()) return make_denial();
    plan_.seccomp = profile_->seccomp;
    plan_.path_rules = profile_->mounts.paths;
    if (profile_->mounts.paths.create_missing_mount_points) {
      note("mounts.create_missing_mount_points: missing mount points inside writable binds may "
           "be created on the host, as the caller");
    }
    Decision decision;
    decision.plan = std::move(plan_);
    decision.profile = profile_->name;
    decision.selected_by = selected_by_;
    decision.rules = std::move(rules_);
    decision.notes = std::move(notes_);
    decision.limits = profile_->limits;
    return decision;
  }

 private:
  void allow(const Hit& hit) { rules_.push_back(hit.with_position()); }
  void deny(Hit hit) { denials_.push_back(std::move(hit)); }
  void note(std::string text) { notes_.push_back(std::move(text)); }

  Evaluation make_denial() {
    Denial denial;
    denial.code = wire::ERROR_DENIED;
    denial.profile = profile_->name;
    denial.selected_by = selected_by_;
    denial.message = "denied by profile " + quoted(profile_->name) + ": " + denials_.front().text;
    if (denials_.size() > 1) {
      denial.message += " (and " + std::to_string(denials_.size() - 1) +
                        " more: `nsbroker policy explain` lists them)";
    }
    for (const Hit& hit : denials_) denial.rules.push_back(hit.with_position());
    denial.allowed_rules = std::move(rules_);
    return denial;
  }

  // ---- argv / environment caps (on the request as sent)

  void check_sizes() {
    const EnvironmentRules& env = profile_->environment;
    auto argc = static_cast<std::uint64_t>(request_.argv_size());
    auto envc = static_cast<std::uint64_t>(request_.env_size());
    if (env.max_args != 0 && argc > env.max_args) {
      deny({"environment.max_args " + std::to_string(env.max_args) + ": the command has " +
                std::to_string(argc) + " arguments",
            profile_->position_of("environment.max_args")});
    }
    if (env.max_env != 0 && envc > env.max_env) {
      deny({"environment.max_env " + std::to_string(env.max_env) + ": the environment has " +
                std::to_string(envc) + " entries",
            profile_->position_of("environment.max_env")});
    }
    if (env.max_total_bytes != 0) {
      std::uint64_t total = 0;
      for (const std::string& s : request_.argv()) total += s.size() + 1;
      for (const std::string& s : request_.env()) total += s.size() + 1;
      if (total > env.max_total_bytes) {
        deny({"environment.max_total_bytes " + std::to_string(env.max_total_bytes) +
                  ": argv and environment take " + std::to_string(total) + " bytes",
              profile_->position_of("environment.max_total_bytes")});
      }
    }
  }

  // ---- namespaces

  void apply_namespace(const char* name, const char* option, NamespaceRule rule, bool requested,
                       bool& unshare) {
    std::string field = std::string("namespaces.") + name;
    std::string label = field + " " + to_string(rule);
    const std::string& where = profile_->position_of(field);
    switch (rule) {
      case NamespaceRule::kRequired:
        unshare = true;
        allow({label + ": always a new " + name + " namespace" + (requested ? "" : " (not requested)"),
               where});
        break;
      case NamespaceRule::kForbidden:
        if (requested) deny({label + " refuses " + option, where});
        break;
      case NamespaceRule::kAllowed:
        if (requested) allow({label + ": " + option, where});
        break;
    }
  }

  void apply_namespaces() {
    const NamespaceRules& ns = profile_->namespaces;
    const wire::Namespaces& asked = request_.unshare();
    apply_namespace("net", "--unshare-net", ns.net, asked.net(), plan_.unshare_net);
    apply_namespace("ipc", "--unshare-ipc", ns.ipc, asked.ipc(), plan_.unshare_ipc);
    apply_namespace("uts", "--unshare-uts", ns.uts, asked.uts(), plan_.unshare_uts);
    apply_namespace("cgroup", "--unshare-cgroup", ns.cgroup, asked.cgroup(), plan_.unshare_cgroup);
  }

  void choose_mode() {
    bool userns = available_mode_ == SandboxMode::kUserNamespace &&
                  profile_->namespaces.allow_user_namespace;
    plan_.mode = userns ? SandboxMode::kUserNamespace : SandboxMode::kPrivileged;
    std::string why;
    if (userns) {
      why = "namespaces.allow_user_namespace: userns mode";
    } else if (!profile_->namespaces.allow_user_namespace) {
      why = "namespaces.allow_user_namespace is off: privileged mode";
    } else {
      why = "namespaces.allow_user_namespace, but root cannot create user namespaces on this "
            "host: privileged mode";
    }
    if (request_.unshare().user()) why += " (satisfies --unshare-user)";
    allow({why, profile_->position_of("namespaces.allow_user_namespace")});
  }

  // ---- identity inside: other ids and capabilities need a user namespace and, for root or
  // capabilities, namespaces.allow_root_inside. Outside a user namespace, an id other than the
  // caller's would be a real one on the host.

  void check_identity_inside() {
    bool userns = plan_.mode == SandboxMode::kUserNamespace;
    bool other_uid = plan_.uid_inside && *plan_.uid_inside != caller_.uid;
    bool other_gid = plan_.gid_inside && *plan_.gid_inside != caller_.gid;
    bool root = (plan_.uid_inside && *plan_.uid_inside == 0) || (plan_.gid_inside && *plan_.gid_inside == 0);
    bool caps = plan_.capabilities_inside != 0;
    const std::string& at = profile_->position_of("namespaces.allow_root_inside");
    if ((other_uid || other_gid || caps) && !userns) {
      deny({std::string(caps ? "--cap-add" : "--uid/--gid") +
                " needs a user namespace, and this request runs in privileged mode "
                "(namespaces.allow_user_namespace, or the host does not let root create one)",
            profile_->position_of("namespaces.allow_user_namespace")});
      return;
    }
    if ((root || caps) && !profile_->namespaces.allow_root_inside) {
      deny({"namespaces.allow_root_inside is off: " +
                std::string(caps ? "--cap-add" : "uid or gid 0 inside") + " refused",
            at});
      return;
    }
    if (root || caps) allow({"namespaces.allow_root_inside: root or capabilities inside the user namespace", at});
  }

  // ---- mounts

  // The entry of `list` that covers `path` (first in file order), or -1.
  static int covering(const std::vector<std::string>& list, const std::string& path) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (sandbox::path_is_under(path.c_str(), list[i].c_str())) return static_cast<int>(i);
    }
    return -1;
  }

  Hit entry(const char* list, const std::vector<std::string>& paths,
            const std::vector<std::string>& origins, int index) const {
    if (index < 0) return {std::string("mounts.") + list, ""};
    auto i = static_cast<std::size_t>(index);
    return {std::string("mounts.") + list + " " + quoted(paths[i]), origins[i]};
  }

  void check_bind(const MountStep& step) {
    const MountRules& mounts = profile_->mounts;
    const PathRules& paths = mounts.paths;
    const auto& origins = mounts.origins;
    std::string what = describe(step);
    if (step.source_fd) {
      note(what + ": source given as a file descriptor, checked only as opened");
      return;
    }
    if (step.source.empty() || step.source.front() != '/') {
      note(what + ": relative source, checked only as opened (from the working directory)");
      return;
    }
    std::string path = lexical_path(step.source);
    sandbox::ChildPathRules view = view_of(paths);
    int index = -1;
    // The owner of a home directory is unknown here: judge as if it were the caller's, and
    // again as if it were someone else's; where they differ, the as-opened check decides.
    sandbox::PathVerdict own =
        sandbox::check_bind_source(view, path.c_str(), step.kind, caller_.uid, caller_.uid, &index);
    switch (own) {
      case sandbox::PathVerdict::kAllowed: break;
      case sandbox::PathVerdict::kDenied: {
        Hit hit = entry("deny", paths.deny, origins.deny, index);
        deny({hit.text + " covers " + what, hit.where});
        return;
      }
      case sandbox::PathVerdict::kNotReadWrite: {
        int ro = covering(paths.read_only, path);
        std::string text = "no mounts.read_write entry covers " + what;
        if (ro >= 0) {
          text += " (" + entry("read_only", paths.read_only, origins.read_only, ro).text +
                  " allows read-only binds only)";
        }
        deny({text, profile_->position_of("mounts")});
        return;
      }
      case sandbox::PathVerdict::kNotReadOnly:
        deny({"no mounts.read_only or mounts.read_write entry covers " + what,
              profile_->position_of("mounts")});
        return;
      case sandbox::PathVerdict::kNotDevice:
        deny({"no mounts.devices entry covers " + what, profile_->position_of("mounts")});
        return;
      case sandbox::PathVerdict::kOtherUsersHome:
        deny({"mounts.deny_other_users_homes covers " + what,
              profile_->position_of("mounts.deny_other_users_homes")});
        return;
    }
    // Which entry allowed it, for the explanation.
    Hit allowed_by;
    if (step.kind == wire::MOUNT_DEV_BIND) {
      allowed_by = entry("devices", paths.devices, origins.devices, covering(paths.devices, path));
    } else if (int ro = step.kind == wire::MOUNT_RO_BIND ? covering(paths.read_only, path) : -1; ro >= 0) {
      allowed_by = entry("read_only", paths.read_only, origins.read_only, ro);
    } else {
      allowed_by =
          entry("read_write", paths.read_write, origins.read_write, covering(paths.read_write, path));
    }
    allow({allowed_by.text + " allows " + what, allowed_by.where});
    int ignored = -1;
    char home[4096];
    if (sandbox::check_bind_source(view, path.c_str(), step.kind, caller_.uid,
                                   static_cast<uid_t>(-1), &ignored) !=
            sandbox::PathVerdict::kAllowed &&
        sandbox::home_directory_of(path.c_str(), view.homes_root, home, sizeof(home))) {
      note(what + ": allowed only if " + home + " is the caller's own home (owned by uid " +
           std::to_string(caller_.uid) + "); its owner is checked as opened");
    }
    std::string hidden;
    for (const std::string& denied : paths.deny) {
      if (sandbox::path_contains(path.c_str(), denied.c_str())) {
        hidden += (hidden.empty() ? "" : ", ") + quoted(denied);
      }
    }
    if (!hidden.empty()) note(what + ": contains mounts.deny " + hidden + " (hidden inside the sandbox)");
    if (paths.deny_other_users_homes && sandbox::path_is_under(paths.homes_root.c_str(), path.c_str())) {
      note(what + ": contains " + paths.homes_root +
           "; other users' homes in it are hidden inside the sandbox "
           "(mounts.deny_other_users_homes)");
    }
  }

  void check_mount(MountStep& step) {
    const MountRules& mounts = profile_->mounts;
    std::string what = describe(step);
    switch (step.kind) {
      case wire::MOUNT_BIND:
      case wire::MOUNT_RO_BIND:
      case wire::MOUNT_DEV_BIND:
        check_bind(step);
        break;
      case wire::MOUNT_TMPFS: {
        const std::string& cap_at = profile_->position_of("mounts.tmpfs_max_bytes");
        if (!mounts.allow_tmpfs) {
          deny({"mounts.allow_tmpfs is off: " + what + " refused",
                profile_->position_of("mounts.allow_tmpfs")});
        } else if (mounts.tmpfs_max_bytes != 0 && step.size_bytes > mounts.tmpfs_max_bytes) {
          deny({"mounts.tmpfs_max_bytes " + std::to_string(mounts.tmpfs_max_bytes) + " refuses " +
                    what + " of " + std::to_string(step.size_bytes) + " bytes",
                cap_at});
        } else if (mounts.tmpfs_max_bytes != 0 && step.size_bytes == 0) {
          step.size_bytes = mounts.tmpfs_max_bytes;
          allow({"mounts.tmpfs_max_bytes: " + what + " gets size " +
                     std::to_string(mounts.tmpfs_max_bytes),
                 cap_at});
        } else {
          allow({"mounts.allow_tmpfs: " + what, profile_->position_of("mounts.allow_tmpfs")});
        }
        break;
      }
      case wire::MOUNT_PROC: {
        const std::string& at = profile_->position_of("mounts.allow_proc");
        if (mounts.allow_proc) allow({"mounts.allow_proc: " + what, at});
        else deny({"mounts.allow_proc is off: " + what + " refused", at});
        break;
      }
      case wire::MOUNT_DEV: {
        const std::string& at = profile_->position_of("mounts.allow_dev");
        if (mounts.allow_dev) allow({"mounts.allow_dev: " + what, at});
        else deny({"mounts.allow_dev is off: " + what + " refused", at});
        break;
      }
      default:
        // --dir, --symlink, --remount-ro: inside the sandbox only, nothing to allow.
        break;
    }
  }

  // ---- client seccomp programs: stacked on the profile's filter, never instead of it

  void check_client_filters() {
    if (request_.seccomp_fds_size() == 0) return;
    Hit hit{"seccomp.accept_client_filter", profile_->position_of("seccomp")};
    if (profile_->accept_client_filter) {
      hit.text += ": " + std::to_string(request_.seccomp_fds_size()) +
                  " client filter(s) stacked on the profile's";
      allow(hit);
    } else {
      hit.text += " is off: client seccomp filters (--seccomp, --add-seccomp-fd) refused";
      deny(hit);
    }
  }

  // ---- environment

  void apply_environment() {
    const EnvironmentRules& env = profile_->environment;
    for (const std::string& pattern : env.strip) {
      auto removed = std::erase_if(plan_.env, [&](const std::string& entry) {
        return strip_matches(pattern, variable_name(entry));
      });
      if (removed != 0) {
        allow({"environment.strip " + quoted(pattern) + ": removed " + std::to_string(removed) +
                   " variable" + (removed == 1 ? "" : "s"),
               profile_->position_of("environment")});
      }
    }
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    for (const auto& variable : env.force) {
      const std::string& name = variable.first;
      std::string assignment = name + "=" + variable.second;
      auto found = std::find_if(plan_.env.begin(), plan_.env.end(), [&](const std::string& entry) {
        return variable_name(entry) == name;
      });
      if (found == plan_.env.end()) {
        plan_.env.push_back(assignment);
      } else {
        // Replaces every entry of that name, keeping the place of the first.
        auto position = found - plan_.env.begin();
        std::erase_if(plan_.env,
                      [&](const std::string& entry) { return variable_name(entry) == name; });
        plan_.env.insert(plan_.env.begin() + position, assignment);
      }
      allow({"environment.force " + quoted(name), profile_->position_of("environment")});
    }
  }

  const CompiledPolicy& policy_;
  const auth::Caller& caller_;
  const wire::Spawn& request_;
  SandboxMode available_mode_;
  const CompiledProfile* profile_ = nullptr;
  std::string selected_by_;
  Plan plan_;
  std::vector<std::string> rules_;
  std::vector<std::string> notes_;
  std::vector<Hit> denials_;
};

}  // namespace

Evaluation evaluate(const CompiledPolicy& policy, const auth::Caller& caller,
                    const wire::Spawn& request, SandboxMode available_mode) {
  return Evaluator(policy, caller, request, available_mode).run();
}

}  // namespace nsbroker::policy
