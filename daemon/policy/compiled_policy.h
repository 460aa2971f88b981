// CompiledPolicy: the policy file after validation, in the form the evaluation uses.
// Immutable and complete: names are resolved to ids, paths are canonical, limits have their
// defaults filled in, and each profile's seccomp program (base filter + the profile's rules)
// is compiled. Only policy_loader.h makes one; share it as shared_ptr<const CompiledPolicy>.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/caller.h"
#include "policy/plan.h"
#include "sandbox/seccomp.h"

namespace nsbroker::policy {

enum class NamespaceRule { kAllowed, kRequired, kForbidden };

const char* to_string(NamespaceRule rule);  // "ALLOWED", "REQUIRED", "FORBIDDEN"

// Built-in defaults for the limits a profile leaves at 0.
inline constexpr std::uint32_t kDefaultMaxLiveSandboxes = 64;
inline constexpr std::uint32_t kDefaultMaxSpawnsPerMinute = 600;

// Per-uid limits of a profile, defaults filled in. The daemon enforces them (they need
// state: live sandboxes, recent spawns, clocks).
struct Limits {
  std::uint32_t max_live_sandboxes = kDefaultMaxLiveSandboxes;
  std::uint32_t max_spawns_per_minute = kDefaultMaxSpawnsPerMinute;
  std::uint32_t wall_time_seconds = 0;  // 0: no wall-time limit
};

// One entry of a profile's `match`, resolved. `text` is how the file wrote it, e.g.
// `match.user "alice"`; `where` is "FILE:LINE:COLUMN".
struct MatchEntry {
  enum class Kind { kUid, kGid };  // user names become kUid, group names kGid
  Kind kind = Kind::kUid;
  unsigned id = 0;
  std::string text;
  std::string where;
};

struct NamespaceRules {
  NamespaceRule net = NamespaceRule::kAllowed;
  NamespaceRule ipc = NamespaceRule::kAllowed;
  NamespaceRule uts = NamespaceRule::kAllowed;
  NamespaceRule cgroup = NamespaceRule::kAllowed;
  bool allow_user_namespace = false;
  bool allow_root_inside = false;
};

struct MountRules {
  PathRules paths;  // what Plan::path_rules receives (enforce = true)
  // "FILE:LINE:COLUMN" of each entry of paths.read_only/read_write/deny/devices, same order.
  struct Origins {
    std::vector<std::string> read_only;
    std::vector<std::string> read_write;
    std::vector<std::string> deny;
    std::vector<std::string> devices;
  } origins;
  bool allow_proc = false;
  bool allow_dev = false;
  bool allow_tmpfs = false;
  std::uint64_t tmpfs_max_bytes = 0;  // 0: no cap
};

struct EnvironmentRules {
  std::vector<std::string> strip;  // exact names, or prefixes ending in '*'
  std::vector<std::pair<std::string, std::string>> force;  // name, value
  std::uint32_t max_args = 0;          // 0: no cap
  std::uint32_t max_env = 0;           // 0: no cap
  std::uint64_t max_total_bytes = 0;   // 0: no cap
};

struct CompiledProfile {
  std::string name;
  std::string where;  // "FILE:LINE:COLUMN" of the profile
  // "FILE:LINE:COLUMN" of the singular fields as written, by path ("namespaces.net",
  // "mounts.allow_proc", ...); position_of() falls back to the enclosing block, then `where`.
  std::map<std::string, std::string, std::less<>> positions;
  const std::string& position_of(std::string_view field) const {
    auto it = positions.find(field);
    return it == positions.end() ? where : it->second;
  }
  std::vector<MatchEntry> match;
  NamespaceRules namespaces;
  MountRules mounts;
  EnvironmentRules environment;
  std::vector<sandbox::SyscallRule> syscall_rules;  // as written, for explanations
  bool accept_client_filter = false;
  std::shared_ptr<const sandbox::SeccompProgram> seccomp;  // never null
  Limits limits;
};

struct DaemonSettings {
  std::string audit_json_file;  // empty: none
};

class CompiledPolicy {
 public:
  // Which profile applies to a caller, and why (for denials, audit and explain).
  struct Selection {
    const CompiledProfile* profile = nullptr;  // null: none applies
    std::string reason;  // e.g. `match.group "users" (gid 100) of profile "nas" at FILE:3:5`
  };

  CompiledPolicy(std::string source, std::vector<CompiledProfile> profiles, int default_index,
                 DaemonSettings daemon)
      : source_(std::move(source)),
        profiles_(std::move(profiles)),
        default_index_(default_index),
        daemon_(std::move(daemon)) {}
  CompiledPolicy(const CompiledPolicy&) = delete;
  CompiledPolicy& operator=(const CompiledPolicy&) = delete;

  // Pure: the first profile (file order) whose match names the caller's uid, its primary gid
  // or one of its supplementary groups; else the default profile; else none.
  Selection select(const auth::Caller& caller) const;

  const std::string& source() const { return source_; }  // the file name, for messages
  const std::vector<CompiledProfile>& profiles() const { return profiles_; }
  const CompiledProfile* default_profile() const {
    return default_index_ < 0 ? nullptr : &profiles_[static_cast<std::size_t>(default_index_)];
  }
  const CompiledProfile* find(std::string_view name) const;
  const DaemonSettings& daemon() const { return daemon_; }

 private:
  std::string source_;
  std::vector<CompiledProfile> profiles_;
  int default_index_ = -1;
  DaemonSettings daemon_;
};

}  // namespace nsbroker::policy
