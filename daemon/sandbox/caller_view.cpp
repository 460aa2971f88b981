#include "sandbox/caller_view.h"

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

#include <cerrno>

#include "sandbox/path_rules.h"

#include "sandbox/child_text.h"
#include "sandbox/masks.h"
#include "sandbox/private_trees.h"
#include "sandbox/setup_report.h"
#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {
namespace {

// Why this is safe: the path comes from the client, but it is resolved with the caller's
// fs identity (become_caller_for_files ran first), in the caller's root (enter_caller_root: ".."
// and absolute symlinks stop at it, as for the caller), relative to the caller's own cwd fd, and
// without magic links (no /proc/PID/fd/N or /proc/PID/root jumps into other processes).
// Ordinary symlinks are followed as the caller would follow them: bubblewrap does the same
// (Codex binds /lib, a symlink on merged-/usr systems).
int open_as_caller(const ChildPlan& plan, const char* path) {
  int dirfd = path[0] == '/' ? AT_FDCWD : plan.fds.cwd;
  return sys::openat2(dirfd, path, O_PATH | O_CLOEXEC, RESOLVE_NO_MAGICLINKS);
}

// The caller must be able to use what it binds: search a directory, read anything else.
// O_PATH alone would let it name a 0700 directory of another user.
int check_caller_access(int fd, bool* is_dir) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return errno;
  *is_dir = S_ISDIR(st.st_mode);
  int mode = *is_dir ? X_OK : R_OK;
  // AT_EACCESS: check with the current (fs) identity, i.e. the caller's, not the real uid.
  if (sys::faccessat2(fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0) return errno;
  return 0;
}

std::uint64_t bind_attributes(wire::MountKind kind) {
  std::uint64_t attrs = MOUNT_ATTR_NOSUID;
  if (kind != wire::MOUNT_DEV_BIND) attrs |= MOUNT_ATTR_NODEV;
  if (kind == wire::MOUNT_RO_BIND) attrs |= MOUNT_ATTR_RDONLY;
  return attrs;
}

bool is_bind(wire::MountKind kind) {
  return kind == wire::MOUNT_BIND || kind == wire::MOUNT_RO_BIND ||
         kind == wire::MOUNT_DEV_BIND;
}

// The path `fd` was opened as, in the caller's view: our root is the caller's root since
// joining its mount namespace. Read through the daemon's /proc, where "self" is us.
bool read_back_path(const ChildPlan& plan, int fd, char* out, std::size_t size) {
  TextBuffer<48> link;
  link.text("self/fd/").decimal(static_cast<unsigned long>(fd));
  ssize_t n = ::readlinkat(plan.proc_dir_fd, link.c_str(), out, size - 1);
  if (n <= 0) return false;
  out[n] = '\0';
  return out[0] == '/';  // "(unreachable)…" or anything odd: refuse
}

// Owner of the home directory `path` lies in, or the caller itself when it lies in none.
uid_t home_owner_of(const ChildPlan& plan, const char* path) {
  char home[ChildPlan::kOpenedPathBytes];
  if (!home_directory_of(path, plan.path_rules.homes_root, home, sizeof(home))) return plan.uid;
  struct stat st {};
  if (::fstatat(AT_FDCWD, home, &st, AT_SYMLINK_NOFOLLOW) < 0) return static_cast<uid_t>(-1);
  return st.st_uid;
}

// Why this is safe: the verdict is taken on the path the kernel says the fd refers to, so
// symlinks, "..", bind mounts and relative paths in the request cannot steer around a rule.
void check_against_profile(ChildPlan& plan, std::size_t i, int fd) {
  if (!plan.path_rules.enforce) return;
  int index = static_cast<int>(i);
  char* opened = plan.opened_path(i);
  if (!read_back_path(plan, fd, opened, ChildPlan::kOpenedPathBytes)) {
    report_failure_and_exit(plan.report_fd, Step::kBindSource, errno ? errno : ENOENT, index);
  }
  int rule = -1;
  PathVerdict verdict = check_bind_source(plan.path_rules, opened, plan.mounts[i].kind, plan.uid,
                                          home_owner_of(plan, opened), &rule);
  if (verdict != PathVerdict::kAllowed) {
    report_policy_denial_and_exit(plan.report_fd, index, static_cast<int>(verdict), rule, opened);
  }
  // Denied paths inside an allowed tree are masked in the sandbox later.
  for (std::size_t j = 0; j < plan.path_rules.deny.size(); ++j) {
    if (path_contains(opened, plan.path_rules.deny[j])) plan.mask(i, j) = 1;
  }
  const char* homes = plan.path_rules.homes_root;
  bool brings_homes = plan.path_rules.deny_other_users_homes && homes &&
                      (path_contains(opened, homes) || path_is_under(homes, opened));
  if (brings_homes && !find_other_users_homes(plan)) {
    report_failure_and_exit(plan.report_fd, Step::kMaskDeniedPath, errno, index);
  }
}

bool is_terminal(int fd) {
  termios t{};
  return ::ioctl(fd, TCGETS, &t) == 0;
}

}  // namespace

bool join_caller_namespaces(const ChildPlan& plan) {
  // Why: bind sources and "share the network" must mean the caller's view, never the
  // daemon's (a client in a container must not gain the host's view through us).
  constexpr int kNamespaces =
      CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  return ::setns(plan.caller_pidfd, kNamespaces) == 0;
}

int enter_caller_root(const ChildPlan& plan) {
  int namespace_root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (namespace_root < 0) return -1;
  if (::fchdir(plan.caller_root_fd) < 0 || ::chroot(".") < 0) {
    int saved = errno;
    ::close(namespace_root);
    errno = saved;
    return -1;
  }
  return namespace_root;
}

bool leave_caller_root(int namespace_root) {
  bool ok = ::fchdir(namespace_root) == 0 && ::chroot(".") == 0;
  int saved = errno;
  ::close(namespace_root);
  errno = saved;
  return ok;
}

bool become_caller_for_files(const ChildPlan& plan) {
  if (sys::set_groups(plan.groups.size(), plan.groups.data()) < 0) return false;
  sys::set_fs_gid(plan.gid);
  sys::set_fs_uid(plan.uid);
  // setfsuid/setfsgid report the previous value, never an error: read back to verify.
  if (static_cast<uid_t>(sys::set_fs_uid(static_cast<uid_t>(-1))) != plan.uid ||
      static_cast<gid_t>(sys::set_fs_gid(static_cast<gid_t>(-1))) != plan.gid) {
    errno = EPERM;
    return false;
  }
  return true;
}

void become_root_for_files() {
  sys::set_fs_uid(0);
  sys::set_fs_gid(0);
}

void open_bind_sources(ChildPlan& plan) {
  for (std::size_t i = 0; i < plan.mounts.size(); ++i) {
    ChildMount& mount = plan.mounts[i];
    if (!is_bind(mount.kind)) continue;
    int index = static_cast<int>(i);
    // --bind-fd: the caller's own fd (copied, so it is closed like the others below).
    int fd = mount.source_fd >= 0 ? ::fcntl(mount.source_fd, F_DUPFD_CLOEXEC, 0)
                                  : open_as_caller(plan, mount.source);
    if (fd < 0 && errno == ENOENT && mount.ignore_missing) {
      mount.skipped = true;  // -try: as bubblewrap, a missing source skips the operation
      continue;
    }
    if (fd < 0) report_failure_and_exit(plan.report_fd, Step::kBindSource, errno, index);
    if (int error = check_caller_access(fd, &mount.source_is_dir)) {
      report_failure_and_exit(plan.report_fd, Step::kBindSource, error, index);
    }
    check_against_profile(plan, i, fd);
    // Copy the tree from the fd we checked, not by path again: no window for a swap.
    int tree = copy_private_tree(fd, "", TreeScope::kWithSubmounts, bind_attributes(mount.kind));
    if (tree < 0) report_failure_and_exit(plan.report_fd, Step::kCloneBindSource, errno, index);
    ::close(fd);
    mount.prepared_fd = tree;
  }
}

void open_devices(ChildPlan& plan) {
  if (!plan.needs_devices) return;
  for (std::size_t i = 0; i < kDevNodes.size(); ++i) {
    TextBuffer<32> path;
    path.text("/dev/").text(kDevNodes[i]);
    int fd = open_as_caller(plan, path.c_str());
    bool is_dir = false;
    int error = fd < 0 ? errno : check_caller_access(fd, &is_dir);
    if (error != 0) report_failure_and_exit(plan.report_fd, Step::kDevice, error, static_cast<int>(i));
    plan.device_trees[i] =
        copy_private_tree(fd, "", TreeScope::kOneMount, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    if (plan.device_trees[i] < 0) {
      report_failure_and_exit(plan.report_fd, Step::kDevice, errno, static_cast<int>(i));
    }
    ::close(fd);
  }
  // As bubblewrap: a terminal on stdout becomes /dev/console. Optional: a failure here only
  // means the sandbox has no /dev/console.
  if (is_terminal(1)) {
    plan.console_tree = copy_private_tree(1, "", TreeScope::kOneMount, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  }
}

}  // namespace nsbroker::sandbox
