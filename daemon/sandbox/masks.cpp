#include "sandbox/masks.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/child_text.h"
#include "sandbox/mounts.h"
#include "sandbox/path_rules.h"
#include "sandbox/private_trees.h"
#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {
namespace {

constexpr const char* kMaskDir = "/mask/dir";
constexpr const char* kMaskFile = "/mask/file";

// Empty, mode 000 stand-ins in the staging root (the process root during setup); bind
// copies of them cover what must be hidden. Made once per sandbox, when first needed.
bool ensure_mask_sources() {
  static bool ready = false;
  if (ready) return true;
  if (::mkdir("/mask", 0755) < 0 || ::mkdir(kMaskDir, 0) < 0) return false;
  int fd = ::open(kMaskFile, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0) return false;
  ::close(fd);
  return ready = true;
}

// Covers the entry at `inside` (a path in the sandbox) if it exists.
bool cover_if_present(SandboxRoot& root, const char* inside) {
  int target = root.open_existing(inside);
  if (target < 0) return true;  // not there: nothing to hide
  struct stat st {};
  bool ok = ::fstat(target, &st) == 0 && ensure_mask_sources();
  constexpr std::uint64_t kMaskAttributes =
      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  int copy = ok ? copy_private_tree(AT_FDCWD, S_ISDIR(st.st_mode) ? kMaskDir : kMaskFile,
                                    TreeScope::kOneMount, kMaskAttributes)
                : -1;
  ok = copy >= 0 && attach(copy, target) == 0;
  int saved = errno;
  if (copy >= 0) ::close(copy);
  ::close(target);
  errno = saved;
  return ok;
}

// Where host path `hidden` (inside the source opened as `opened`) is in the sandbox.
void location_in_sandbox(const ChildMount& mount, const char* opened, const char* hidden,
                         TextBuffer<4096>& out) {
  const char* suffix = hidden + (std::strcmp(opened, "/") == 0 ? 0 : std::strlen(opened));
  if (std::strcmp(mount.dest, "/") != 0) out.text(mount.dest);
  out.text(*suffix ? suffix : "/");
}

bool brings_homes_root(const ChildPlan& plan, const char* opened) {
  const char* homes = plan.path_rules.homes_root;
  return plan.path_rules.deny_other_users_homes && homes &&
         (path_contains(opened, homes) || path_is_under(homes, opened));
}

}  // namespace

bool find_other_users_homes(ChildPlan& plan) {
  if (plan.other_homes_listed) return true;
  plan.other_homes_listed = true;
  // As the caller: a homes root it cannot list cannot be hidden entry by entry.
  int dir = ::open(plan.path_rules.homes_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return errno == ENOENT;  // no homes root in the caller's view: no homes to hide
  alignas(8) char buffer[8192];
  long n;
  while ((n = ::syscall(SYS_getdents64, dir, buffer, sizeof(buffer))) > 0) {
    for (long offset = 0; offset < n;) {
      auto* entry = reinterpret_cast<struct dirent64*>(buffer + offset);
      offset += entry->d_reclen;
      const char* name = entry->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      struct stat st {};
      if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_uid == plan.uid) continue;
      if (plan.other_home_count == ChildPlan::kMaxOtherHomes ||
          std::strlen(name) >= ChildPlan::kHomeNameBytes) {
        ::close(dir);
        errno = E2BIG;
        return false;
      }
      std::strcpy(plan.other_home(plan.other_home_count++), name);
    }
  }
  int saved = errno;
  ::close(dir);
  errno = saved;
  return n == 0;
}

bool mask_inside_bind(const ChildPlan& plan, SandboxRoot& root, std::size_t mount) {
  if (!plan.path_rules.enforce) return true;
  const char* opened = plan.opened_path(mount);
  for (std::size_t j = 0; j < plan.path_rules.deny.size(); ++j) {
    if (!plan.mask(mount, j)) continue;
    TextBuffer<4096> inside;
    location_in_sandbox(plan.mounts[mount], opened, plan.path_rules.deny[j], inside);
    if (!cover_if_present(root, inside.c_str())) return false;
  }
  if (!brings_homes_root(plan, opened)) return true;
  for (std::size_t h = 0; h < plan.other_home_count; ++h) {
    TextBuffer<4096> host_path;
    host_path.text(plan.path_rules.homes_root).text("/").text(plan.other_home(h));
    if (!path_is_under(host_path.c_str(), opened)) continue;  // the bind is inside one home
    TextBuffer<4096> inside;
    location_in_sandbox(plan.mounts[mount], opened, host_path.c_str(), inside);
    if (!cover_if_present(root, inside.c_str())) return false;
  }
  return true;
}

}  // namespace nsbroker::sandbox
