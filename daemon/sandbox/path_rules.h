// Path rules of the caller's profile, checked against the path a bind source was actually
// opened as (read back from the fd in the outside stage), never against the string the
// client sent. Pure string functions, allocation-free, so the outside stage may call them.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <vector>

#include "nsbroker.pb.h"

namespace nsbroker::sandbox {

struct ChildPathRules {
  bool enforce = false;  // false: no profile path rules apply
  std::vector<const char*> read_only;   // prefixes allowed for --ro-bind
  std::vector<const char*> read_write;  // prefixes allowed for --bind (and --ro-bind)
  std::vector<const char*> deny;        // prefixes never bound, masked inside larger binds
  std::vector<const char*> devices;     // prefixes allowed for --dev-bind
  const char* homes_root = nullptr;     // with deny_other_users_homes, e.g. "/home"
  bool deny_other_users_homes = false;
  // Whether missing mount points may be created on host filesystems (inside writable binds).
  // Inside the sandbox's own tmpfs instances they always may.
  bool create_missing_mount_points = true;
};

enum class PathVerdict : int {
  kAllowed = 0,
  kDenied,            // under rules.deny[rule]
  kNotReadOnly,       // --ro-bind outside read_only and read_write
  kNotReadWrite,      // --bind outside read_write
  kNotDevice,         // --dev-bind outside devices
  kOtherUsersHome,    // inside another user's home
};

// Whether `path` is `prefix` or lies below it, component-wise ("/home/al" does not cover
// "/home/alice"; "/" covers everything).
bool path_is_under(const char* path, const char* prefix);

// Whether `prefix` lies strictly below `path` (a bind of `path` would bring it along).
bool path_contains(const char* path, const char* prefix);

// The home directory `path` is in ("/home/alice" for "/home/alice/x"), written to `out`;
// false when `path` is not below homes_root or is homes_root itself.
bool home_directory_of(const char* path, const char* homes_root, char* out, std::size_t size);

// Verdict for a bind source opened as `opened_path`. `home_owner` is the owner of the home
// directory the path is in (ignored when it is in none). `rule` receives the index of the
// deciding entry of the list the verdict names (deny, read_only, ...), or -1.
PathVerdict check_bind_source(const ChildPathRules& rules, const char* opened_path,
                              wire::MountKind kind, uid_t caller_uid, uid_t home_owner,
                              int* rule);

}  // namespace nsbroker::sandbox
