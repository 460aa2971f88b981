#include "fuzz_support.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include <google/protobuf/stubs/logging.h>

#include "policy/policy_loader.h"

namespace nsbroker::fuzz {
namespace {

using policy::CompiledPolicy;
using policy::CompiledProfile;
using policy::NamespaceRule;
using policy::SandboxMode;

bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

bool under_any(const std::vector<std::string>& prefixes, std::string_view path) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& prefix) { return covered_by(path, prefix); });
}

bool is_canonical_absolute(std::string_view path) {
  if (path.empty() || path.front() != '/' || has_nul(path)) return false;
  if (path == "/") return true;
  if (path.back() == '/') return false;
  for (std::string_view part : {"//", "/./", "/../"}) {
    if (path.find(part) != std::string_view::npos) return false;
  }
  return !path.ends_with("/.") && !path.ends_with("/..");
}

std::string_view name_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

bool strip_pattern_matches(std::string_view pattern, std::string_view name) {
  if (pattern.ends_with('*')) return name.starts_with(pattern.substr(0, pattern.size() - 1));
  return name == pattern;
}

const char* mode_name(SandboxMode mode) {
  return mode == SandboxMode::kUserNamespace ? "userns" : "privileged";
}

// The request, shortly, for failure messages.
std::string describe(const auth::Caller& caller, const wire::Spawn& request, SandboxMode available) {
  std::string text = "caller uid " + std::to_string(caller.uid) + " gid " + std::to_string(caller.gid) +
                     ", host mode " + mode_name(available) + ", argv[0] " +
                     (request.argv_size() > 0 ? printable(request.argv(0)) : std::string("(none)")) +
                     ", " + std::to_string(request.mounts_size()) + " mounts";
  return text;
}

void check_namespace(const char* name, NamespaceRule rule, bool asked, bool planned,
                     const std::string& context) {
  std::string detail = std::string(name) + " rule " + policy::to_string(rule) + ", asked " +
                       (asked ? "yes" : "no") + ", planned " + (planned ? "yes" : "no") + "; " +
                       context;
  switch (rule) {
    case NamespaceRule::kRequired: NSB_FUZZ_CHECK(planned, detail); break;
    case NamespaceRule::kForbidden: NSB_FUZZ_CHECK(!asked && !planned, detail); break;
    case NamespaceRule::kAllowed: NSB_FUZZ_CHECK(planned == asked, detail); break;
  }
}

// A bind source as sent: the profile's lists decide, by the lexical form of the path.
void check_bind_source(const CompiledProfile& profile, const policy::MountStep& step,
                       const std::string& context) {
  const policy::PathRules& paths = profile.mounts.paths;
  if (step.source_fd) {
    NSB_FUZZ_CHECK(step.source.empty(), "a bind by fd also names a source path; " + context);
    return;
  }
  NSB_FUZZ_CHECK(!step.source.empty(), "a bind without a source; " + context);
  if (step.source.front() != '/') return;  // relative: judged only as opened
  std::string path = lexical_absolute(step.source);
  std::string detail = printable(step.source) + " (" + printable(path) + ") in profile " +
                       profile.name + "; " + context;
  NSB_FUZZ_CHECK(!under_any(paths.deny, path), "allowed bind source under mounts.deny: " + detail);
  switch (step.kind) {
    case wire::MOUNT_BIND:
      NSB_FUZZ_CHECK(under_any(paths.read_write, path),
                     "allowed --bind outside mounts.read_write: " + detail);
      break;
    case wire::MOUNT_RO_BIND:
      NSB_FUZZ_CHECK(under_any(paths.read_only, path) || under_any(paths.read_write, path),
                     "allowed --ro-bind outside mounts.read_only/read_write: " + detail);
      break;
    case wire::MOUNT_DEV_BIND:
      NSB_FUZZ_CHECK(under_any(paths.devices, path), "allowed --dev-bind outside mounts.devices: " + detail);
      break;
    default: break;
  }
}

void check_mounts(const CompiledProfile& profile, const wire::Spawn& request,
                  const policy::Plan& plan, const std::string& context) {
  const policy::MountRules& rules = profile.mounts;
  NSB_FUZZ_CHECK(plan.mounts.size() == static_cast<std::size_t>(request.mounts_size()),
                 "the plan has " + std::to_string(plan.mounts.size()) + " mounts for " +
                     std::to_string(request.mounts_size()) + " requested; " + context);
  int devs = 0;
  for (std::size_t i = 0; i < plan.mounts.size(); ++i) {
    const policy::MountStep& step = plan.mounts[i];
    std::string at = "mount " + std::to_string(i) + " (kind " + std::to_string(step.kind) +
                     ", dest " + printable(step.dest) + "); " + context;
    NSB_FUZZ_CHECK(step.kind == request.mounts(static_cast<int>(i)).kind(), "mount kind changed; " + at);
    NSB_FUZZ_CHECK(wire::MountKind_IsValid(step.kind) && step.kind != wire::MOUNT_KIND_UNSPECIFIED,
                   "invalid mount kind in a plan; " + at);
    // Destinations name one place beneath the new root.
    NSB_FUZZ_CHECK(is_canonical_absolute(step.dest), "destination not absolute and canonical; " + at);
    NSB_FUZZ_CHECK(!has_nul(step.source), "NUL in a source; " + at);
    NSB_FUZZ_CHECK(!step.perms || *step.perms <= 07777, "permissions above 07777; " + at);
    switch (step.kind) {
      case wire::MOUNT_BIND:
      case wire::MOUNT_RO_BIND:
      case wire::MOUNT_DEV_BIND:
        check_bind_source(profile, step, at);
        break;
      case wire::MOUNT_TMPFS:
        NSB_FUZZ_CHECK(rules.allow_tmpfs, "--tmpfs allowed without mounts.allow_tmpfs; " + at);
        if (rules.tmpfs_max_bytes != 0) {
          NSB_FUZZ_CHECK(step.size_bytes != 0 && step.size_bytes <= rules.tmpfs_max_bytes,
                         "tmpfs of " + std::to_string(step.size_bytes) + " bytes under a cap of " +
                             std::to_string(rules.tmpfs_max_bytes) + "; " + at);
        }
        break;
      case wire::MOUNT_PROC:
        NSB_FUZZ_CHECK(rules.allow_proc, "--proc allowed without mounts.allow_proc; " + at);
        break;
      case wire::MOUNT_DEV:
        NSB_FUZZ_CHECK(rules.allow_dev, "--dev allowed without mounts.allow_dev; " + at);
        NSB_FUZZ_CHECK(++devs <= 1, "more than one --dev; " + at);
        break;
      default:
        NSB_FUZZ_CHECK(step.size_bytes == 0, "a size on a mount other than tmpfs; " + at);
        break;
    }
  }
}

void check_environment(const CompiledProfile& profile, const wire::Spawn& request,
                       const policy::Plan& plan, const std::string& context) {
  const policy::EnvironmentRules& env = profile.environment;
  for (const std::string& entry : plan.env) {
    std::size_t eq = entry.find('=');
    NSB_FUZZ_CHECK(eq != std::string::npos && eq > 0 && !has_nul(entry),
                   "environment entry " + printable(entry) + " is not NAME=value; " + context);
    std::string_view name = name_of(entry);
    bool forced = std::any_of(env.force.begin(), env.force.end(),
                              [&](const auto& variable) { return variable.first == name; });
    for (const std::string& pattern : env.strip) {
      NSB_FUZZ_CHECK(forced || !strip_pattern_matches(pattern, name),
                     "variable " + printable(name) + " survived environment.strip " +
                         printable(pattern) + "; " + context);
    }
  }
  for (const auto& [name, value] : env.force) {
    std::size_t count = 0;
    for (const std::string& entry : plan.env) {
      if (name_of(entry) != name) continue;
      ++count;
      NSB_FUZZ_CHECK(entry == name + "=" + value,
                     "forced variable " + name + " has the value of the request; " + context);
    }
    NSB_FUZZ_CHECK(count == 1, "forced variable " + name + " appears " + std::to_string(count) +
                                   " times; " + context);
  }
  if (env.max_args != 0) {
    NSB_FUZZ_CHECK(static_cast<std::uint64_t>(request.argv_size()) <= env.max_args,
                   "more arguments than environment.max_args; " + context);
  }
  if (env.max_env != 0) {
    NSB_FUZZ_CHECK(static_cast<std::uint64_t>(request.env_size()) <= env.max_env,
                   "more variables than environment.max_env; " + context);
  }
  if (env.max_total_bytes != 0) {
    std::uint64_t total = 0;
    for (const std::string& s : request.argv()) total += s.size() + 1;
    for (const std::string& s : request.env()) total += s.size() + 1;
    NSB_FUZZ_CHECK(total <= env.max_total_bytes, "argv + env above environment.max_total_bytes; " + context);
  }
}

void check_decision(const CompiledPolicy& policy, const CompiledProfile& profile,
                    const auth::Caller& caller, const wire::Spawn& request, SandboxMode available,
                    const policy::Decision& decision, const std::string& context) {
  const policy::Plan& plan = decision.plan;
  NSB_FUZZ_CHECK(decision.profile == profile.name,
                 "decision names profile " + decision.profile + ", the caller selects " + profile.name);
  NSB_FUZZ_CHECK(policy.find(decision.profile) == &profile, "profile lookup differs; " + context);
  // The profile's filter, never none: the spawner would fall back to the base filter.
  NSB_FUZZ_CHECK(plan.seccomp != nullptr && plan.seccomp == profile.seccomp,
                 "the plan does not carry the profile's seccomp program; " + context);
  NSB_FUZZ_CHECK(plan.path_rules.enforce, "the plan's path rules are not enforced; " + context);
  const policy::PathRules& paths = profile.mounts.paths;
  NSB_FUZZ_CHECK(plan.path_rules.deny == paths.deny && plan.path_rules.read_only == paths.read_only &&
                     plan.path_rules.read_write == paths.read_write &&
                     plan.path_rules.devices == paths.devices &&
                     plan.path_rules.deny_other_users_homes == paths.deny_other_users_homes &&
                     plan.path_rules.homes_root == paths.homes_root,
                 "the plan's path rules are not the profile's; " + context);
  NSB_FUZZ_CHECK(decision.limits.max_live_sandboxes == profile.limits.max_live_sandboxes &&
                     decision.limits.max_spawns_per_minute == profile.limits.max_spawns_per_minute &&
                     decision.limits.wall_time_seconds == profile.limits.wall_time_seconds,
                 "the decision's limits are not the profile's; " + context);

  // Mode and identity: nothing more than the caller had.
  const policy::NamespaceRules& ns = profile.namespaces;
  if (plan.mode == SandboxMode::kUserNamespace) {
    NSB_FUZZ_CHECK(available == SandboxMode::kUserNamespace && ns.allow_user_namespace,
                   "userns mode without the host or the profile allowing it; " + context);
  } else {
    NSB_FUZZ_CHECK(!plan.uid_inside || *plan.uid_inside == caller.uid,
                   "privileged mode runs as uid " + std::to_string(*plan.uid_inside) + "; " + context);
    NSB_FUZZ_CHECK(!plan.gid_inside || *plan.gid_inside == caller.gid,
                   "privileged mode runs as gid " + std::to_string(*plan.gid_inside) + "; " + context);
    NSB_FUZZ_CHECK(plan.capabilities_inside == 0, "capabilities in privileged mode; " + context);
  }
  if (!ns.allow_root_inside) {
    NSB_FUZZ_CHECK(plan.capabilities_inside == 0, "capabilities without allow_root_inside; " + context);
    NSB_FUZZ_CHECK(!plan.uid_inside || *plan.uid_inside != 0, "uid 0 without allow_root_inside; " + context);
    NSB_FUZZ_CHECK(!plan.gid_inside || *plan.gid_inside != 0, "gid 0 without allow_root_inside; " + context);
  }
  const wire::Namespaces& asked = request.unshare();
  check_namespace("net", ns.net, asked.net(), plan.unshare_net, context);
  check_namespace("ipc", ns.ipc, asked.ipc(), plan.unshare_ipc, context);
  check_namespace("uts", ns.uts, asked.uts(), plan.unshare_uts, context);
  check_namespace("cgroup", ns.cgroup, asked.cgroup(), plan.unshare_cgroup, context);
  if (!plan.hostname.empty()) {
    NSB_FUZZ_CHECK(plan.unshare_uts && plan.hostname.size() <= 64 && !has_nul(plan.hostname),
                   "hostname without a new UTS namespace, too long or with NUL; " + context);
  }

  // The command as sent.
  NSB_FUZZ_CHECK(!plan.argv.empty() && !plan.argv[0].empty(), "no command in an allowed plan; " + context);
  NSB_FUZZ_CHECK(plan.argv.size() == static_cast<std::size_t>(request.argv_size()),
                 "argv changed size; " + context);
  for (std::size_t i = 0; i < plan.argv.size(); ++i) {
    NSB_FUZZ_CHECK(plan.argv[i] == request.argv(static_cast<int>(i)) && !has_nul(plan.argv[i]),
                   "argv[" + std::to_string(i) + "] changed or holds NUL; " + context);
  }
  NSB_FUZZ_CHECK(!has_nul(plan.argv0) && !has_nul(plan.chdir) && !has_nul(plan.cwd_path),
                 "NUL in --argv0, --chdir or the working directory; " + context);
  NSB_FUZZ_CHECK(plan.cwd_path.empty() || plan.cwd_path.front() == '/',
                 "a relative working directory in the plan; " + context);

  check_mounts(profile, request, plan, context);
  check_environment(profile, request, plan, context);

  NSB_FUZZ_CHECK(plan.client_filter_fds.size() == static_cast<std::size_t>(request.seccomp_fds_size()),
                 "client filters dropped or added; " + context);
  if (!plan.client_filter_fds.empty()) {
    NSB_FUZZ_CHECK(profile.accept_client_filter,
                   "client seccomp filters allowed without seccomp.accept_client_filter; " + context);
  }
}

// ---- the compiled policy ------------------------------------------------------------------

void check_path_list(const CompiledProfile& profile, const char* list,
                     const std::vector<std::string>& paths, const std::vector<std::string>& origins) {
  NSB_FUZZ_CHECK(paths.size() == origins.size(),
                 std::string("mounts.") + list + " and its origins differ in size in " + profile.name);
  std::set<std::string_view> seen;
  for (const std::string& path : paths) {
    NSB_FUZZ_CHECK(is_canonical_absolute(path), std::string("mounts.") + list + " " + printable(path) +
                                                    " is not canonical in profile " + profile.name);
    NSB_FUZZ_CHECK(seen.insert(path).second,
                   std::string("duplicate mounts.") + list + " " + printable(path) + " was accepted");
  }
}

}  // namespace

// ---- helpers ----------------------------------------------------------------------------------

void invariant_failed(const char* file, int line, const char* condition, const std::string& detail) {
  std::fprintf(stderr, "\n==== nsbroker fuzz invariant broken at %s:%d\n     check:  %s\n     detail: %s\n",
               file, line, condition, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

void quiet_protobuf_logs() {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
}

std::string printable(std::string_view bytes) {
  std::string out = "\"";
  std::size_t shown = 0;
  for (unsigned char c : bytes) {
    if (++shown > 200) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out + "\"";
}

std::string lexical_absolute(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(part);
    }
  }
  std::string out;
  for (std::string_view part : parts) {
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

bool covered_by(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return path.starts_with('/');
  return path == prefix || (path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '/');
}

std::vector<std::string_view> split_words(std::string_view data) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t nul = std::min(data.find('\0', start), data.size());
    words.push_back(data.substr(start, nul - start));
    start = nul + 1;
  }
  return words;
}

// ---- policies and callers ---------------------------------------------------------------------

const policy::NameResolver& fuzz_names() {
  static const policy::TableNames names({{"alice", 1000}, {"bob", 1001}, {"carol", 1002}},
                                        {{"users", 100}, {"staff", 50}, {"nas", 2000}, {"alice", 1000}});
  return names;
}

const CompiledPolicy& shipped_policy(std::size_t index) {
  static const std::vector<std::shared_ptr<const CompiledPolicy>> loaded = [] {
    std::vector<std::shared_ptr<const CompiledPolicy>> out;
    policy::LoadOptions options;
    options.names = &fuzz_names();
    for (const ShippedPolicy& shipped : shipped_policies()) {
      auto result = policy::load_policy_text(shipped.text, shipped.name, options);
      NSB_FUZZ_CHECK(result.ok(), std::string(shipped.name) + " does not load: " +
                                      (result.ok() ? std::string() : result.failure().message));
      check_compiled_policy(*result.value());
      out.push_back(result.value());
    }
    return out;
  }();
  return *loaded.at(index % loaded.size());
}

auth::Caller fixed_caller(std::size_t index) {
  struct Fixed {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups;
  };
  static const std::array<Fixed, kFixedCallerCount> kCallers = {{
      {1000, 1000, {100}},                       // alice, in users
      {1001, 1001, {}},                          // bob
      {0, 0, {0}},                               // root
      {65534, 65534, {}},                        // nobody
      {1002, 50, {100, 2000}},                   // carol: staff, users, nas
      {1003, 0, {0}},                            // gid 0
      {static_cast<uid_t>(-2), static_cast<gid_t>(-2), {}},
      {2000, 100, {}},                           // primary group users
  }};
  const Fixed& fixed = kCallers[index % kCallers.size()];
  auth::Caller caller;
  caller.uid = fixed.uid;
  caller.gid = fixed.gid;
  caller.pid = 4242;
  caller.groups = fixed.groups;
  return caller;
}

std::vector<auth::Caller> callers_for(const CompiledPolicy& policy, std::size_t limit) {
  std::vector<auth::Caller> callers;
  for (const CompiledProfile& profile : policy.profiles()) {
    for (const policy::MatchEntry& entry : profile.match) {
      if (callers.size() >= limit) return callers;
      auth::Caller caller;
      caller.pid = 4242;
      if (entry.kind == policy::MatchEntry::Kind::kUid) {
        caller.uid = entry.id;
        caller.gid = entry.id;
      } else {
        caller.uid = 30000;
        caller.gid = 30000;
        caller.groups = {entry.id};
      }
      callers.push_back(std::move(caller));
    }
  }
  for (std::size_t i = 0; i < kFixedCallerCount && callers.size() < limit; ++i) {
    callers.push_back(fixed_caller(i));
  }
  return callers;
}

// ---- invariants -------------------------------------------------------------------------------

void check_evaluation(const CompiledPolicy& policy, const auth::Caller& caller,
                      const wire::Spawn& request, SandboxMode available,
                      const policy::Evaluation& result) {
  std::string context = describe(caller, request, available);
  CompiledPolicy::Selection selection = policy.select(caller);
  if (!result.allowed()) {
    const policy::Denial& denial = result.denial();
    NSB_FUZZ_CHECK(!denial.message.empty() && !denial.rules.empty(), "a denial without a reason; " + context);
    NSB_FUZZ_CHECK(denial.code == wire::ERROR_DENIED || denial.code == wire::ERROR_INVALID_ARGUMENT,
                   "a denial with code " + std::to_string(denial.code) + "; " + context);
    NSB_FUZZ_CHECK(denial.profile.empty() ||
                       (selection.profile != nullptr && denial.profile == selection.profile->name),
                   "denied by profile " + denial.profile + ", which the caller does not select; " + context);
    return;
  }
  NSB_FUZZ_CHECK(selection.profile != nullptr, "allowed although no profile applies; " + context);
  check_decision(policy, *selection.profile, caller, request, available, result.decision(), context);
}

void check_compiled_policy(const CompiledPolicy& policy) {
  const std::vector<CompiledProfile>& profiles = policy.profiles();
  NSB_FUZZ_CHECK(!profiles.empty(), "a policy without profiles was accepted");
  const CompiledProfile* fallback = policy.default_profile();
  NSB_FUZZ_CHECK(fallback == nullptr || (fallback >= profiles.data() && fallback < profiles.data() + profiles.size()),
                 "the default profile is not one of the profiles");
  std::set<std::string> names;
  std::map<std::pair<int, unsigned>, std::string> matched;  // (kind, id) -> profile
  for (const CompiledProfile& profile : profiles) {
    NSB_FUZZ_CHECK(!profile.name.empty() && names.insert(profile.name).second,
                   "an empty or duplicate profile name was accepted: " + printable(profile.name));
    for (char c : profile.name) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-';
      NSB_FUZZ_CHECK(ok, "profile name with a character outside [A-Za-z0-9_.-]: " + printable(profile.name));
    }
    NSB_FUZZ_CHECK(&profile == fallback || !profile.match.empty(),
                   "profile " + profile.name + " matches nobody and is not the default");
    for (const policy::MatchEntry& entry : profile.match) {
      auto key = std::make_pair(static_cast<int>(entry.kind), entry.id);
      auto [it, inserted] = matched.emplace(key, profile.name);
      NSB_FUZZ_CHECK(inserted, "id " + std::to_string(entry.id) + " is matched by profiles " + it->second +
                                   " and " + profile.name);
    }
    NSB_FUZZ_CHECK(policy.find(profile.name) == &profile, "find() does not return profile " + profile.name);
    NSB_FUZZ_CHECK(!profile.namespaces.allow_root_inside || profile.namespaces.allow_user_namespace,
                   "allow_root_inside without allow_user_namespace in " + profile.name);

    const policy::MountRules& mounts = profile.mounts;
    const policy::PathRules& paths = mounts.paths;
    NSB_FUZZ_CHECK(paths.enforce, "profile " + profile.name + " does not enforce its path rules");
    check_path_list(profile, "read_only", paths.read_only, mounts.origins.read_only);
    check_path_list(profile, "read_write", paths.read_write, mounts.origins.read_write);
    check_path_list(profile, "deny", paths.deny, mounts.origins.deny);
    check_path_list(profile, "devices", paths.devices, mounts.origins.devices);
    for (const std::string& denied : paths.deny) {
      NSB_FUZZ_CHECK(std::find(paths.read_only.begin(), paths.read_only.end(), denied) == paths.read_only.end() &&
                         std::find(paths.read_write.begin(), paths.read_write.end(), denied) ==
                             paths.read_write.end(),
                     "mounts.deny " + printable(denied) + " is also allowed in " + profile.name);
    }
    if (paths.deny_other_users_homes) {
      NSB_FUZZ_CHECK(is_canonical_absolute(paths.homes_root) && paths.homes_root != "/",
                     "homes_root " + printable(paths.homes_root) + " in " + profile.name);
    } else {
      NSB_FUZZ_CHECK(paths.homes_root.empty(), "homes_root without deny_other_users_homes in " + profile.name);
    }
    NSB_FUZZ_CHECK(mounts.tmpfs_max_bytes == 0 || mounts.allow_tmpfs,
                   "tmpfs_max_bytes without allow_tmpfs in " + profile.name);

    const policy::EnvironmentRules& env = profile.environment;
    for (const std::string& pattern : env.strip) {
      std::size_t star = pattern.find('*');
      NSB_FUZZ_CHECK(!pattern.empty() && pattern.find('=') == std::string::npos && !has_nul(pattern) &&
                         (star == std::string::npos || star == pattern.size() - 1),
                     "environment.strip " + printable(pattern) + " in " + profile.name);
    }
    std::set<std::string> forced;
    for (const auto& [name, value] : env.force) {
      NSB_FUZZ_CHECK(!name.empty() && name.find_first_of("=*") == std::string::npos && !has_nul(name) &&
                         !has_nul(value) && forced.insert(name).second,
                     "environment.force " + printable(name) + " in " + profile.name);
    }
    NSB_FUZZ_CHECK(profile.limits.max_live_sandboxes != 0 && profile.limits.max_spawns_per_minute != 0,
                   "a zero limit (the defaults were not filled in) in " + profile.name);
    check_seccomp_program(profile);
  }
}

}  // namespace nsbroker::fuzz
