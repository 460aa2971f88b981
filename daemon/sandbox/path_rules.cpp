#include "sandbox/path_rules.h"

#include <cstring>

namespace nsbroker::sandbox {
namespace {

// Index of the first prefix in `list` covering `path`, or -1.
int first_covering(const std::vector<const char*>& list, const char* path) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (path_is_under(path, list[i])) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

bool path_is_under(const char* path, const char* prefix) {
  std::size_t n = std::strlen(prefix);
  while (n > 1 && prefix[n - 1] == '/') --n;  // "/usr/" covers like "/usr"
  if (n == 1 && prefix[0] == '/') return path[0] == '/';
  if (std::strncmp(path, prefix, n) != 0) return false;
  return path[n] == '\0' || path[n] == '/';
}

bool path_contains(const char* path, const char* prefix) {
  return path_is_under(prefix, path) && std::strcmp(prefix, path) != 0 &&
         !(std::strcmp(path, "/") == 0 && std::strcmp(prefix, "/") == 0);
}

bool home_directory_of(const char* path, const char* homes_root, char* out, std::size_t size) {
  if (!homes_root || !path_is_under(path, homes_root)) return false;
  std::size_t root_length = std::strlen(homes_root);
  while (root_length > 1 && homes_root[root_length - 1] == '/') --root_length;
  const char* rest = path + root_length;
  if (*rest != '/' || rest[1] == '\0') return false;  // homes_root itself
  const char* end = std::strchr(rest + 1, '/');
  std::size_t length = end ? static_cast<std::size_t>(end - path) : std::strlen(path);
  if (length + 1 > size) return false;
  std::memcpy(out, path, length);
  out[length] = '\0';
  return true;
}

PathVerdict check_bind_source(const ChildPathRules& rules, const char* opened_path,
                              wire::MountKind kind, uid_t caller_uid, uid_t home_owner,
                              int* rule) {
  *rule = -1;
  if (!rules.enforce) return PathVerdict::kAllowed;
  if ((*rule = first_covering(rules.deny, opened_path)) >= 0) return PathVerdict::kDenied;
  char home[4096];
  if (rules.deny_other_users_homes &&
      home_directory_of(opened_path, rules.homes_root, home, sizeof(home)) &&
      home_owner != caller_uid) {
    // Allowed only where a read_only/read_write entry names this home or something in it
    // (a broad entry such as "/home" does not count).
    bool listed = false;
    for (const auto* list : {&rules.read_only, &rules.read_write}) {
      for (const char* prefix : *list) {
        if (path_is_under(prefix, home) && path_is_under(opened_path, prefix)) listed = true;
      }
    }
    if (!listed) return PathVerdict::kOtherUsersHome;
  }
  switch (kind) {
    case wire::MOUNT_DEV_BIND:
      *rule = first_covering(rules.devices, opened_path);
      return *rule >= 0 ? PathVerdict::kAllowed : PathVerdict::kNotDevice;
    case wire::MOUNT_BIND:
      *rule = first_covering(rules.read_write, opened_path);
      return *rule >= 0 ? PathVerdict::kAllowed : PathVerdict::kNotReadWrite;
    default:
      *rule = first_covering(rules.read_only, opened_path);
      if (*rule >= 0) return PathVerdict::kAllowed;
      *rule = first_covering(rules.read_write, opened_path);
      return *rule >= 0 ? PathVerdict::kAllowed : PathVerdict::kNotReadOnly;
  }
}

}  // namespace nsbroker::sandbox
