#include "sandbox/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/child_text.h"
#include "sandbox/mounts.h"
#include "sandbox/private_trees.h"
#include "sandbox/syscalls.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

namespace nsbroker::sandbox {
namespace {

constexpr const char* kDataDir = "/data";  // in the staging root, which is detached later

// Copies everything `from` yields into `to`. The caller controls `from` (a pipe it may never
// close): the daemon kills the whole setup if the caller goes away.
bool copy_all(int from, int to) {
  char buffer[16384];
  while (true) {
    ssize_t n = ::read(from, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(to, buffer + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return false;
      done += w;
    }
  }
}

mode_t data_mode(const ChildMount& mount, mode_t fallback) {
  return mount.perms >= 0 ? static_cast<mode_t>(mount.perms) : fallback;
}

bool close_keeping_errno(int fd, bool ok) {
  int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

}  // namespace

bool write_data_file(const ChildPlan& /*plan*/, SandboxRoot& root, const ChildMount& mount) {
  mode_t mode = data_mode(mount, 0666);
  int made = root.open_mount_point(mount.dest, Leaf::kFile, mode);
  if (made < 0) return false;
  ::close(made);
  int out = sys::openat2(root.fd(), mount.dest, O_WRONLY | O_TRUNC | O_CLOEXEC,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (out < 0) return false;
  bool ok = copy_all(mount.source_fd, out) && (mount.perms < 0 || ::fchmod(out, mode) == 0);
  return close_keeping_errno(out, ok);
}

bool bind_data_file(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount, int index) {
  // The data goes into a file of the staging tmpfs (ours alone), which is then bound on DEST.
  if (::mkdir(kDataDir, 0700) < 0 && errno != EEXIST) return false;
  TextBuffer<64> path;
  path.text(kDataDir).text("/").decimal(static_cast<unsigned long>(index));
  mode_t mode = data_mode(mount, 0600);
  int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (out < 0) return false;
  if (!close_keeping_errno(out, copy_all(mount.source_fd, out) && ::fchmod(out, mode) == 0)) {
    return false;
  }
  int target = root.open_mount_point(mount.dest, Leaf::kFile, 0644);
  if (target < 0) return false;
  std::uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (mount.kind == wire::MOUNT_RO_BIND_DATA) attrs |= MOUNT_ATTR_RDONLY;
  int tree = copy_private_tree(AT_FDCWD, path.c_str(), TreeScope::kOneMount, attrs);
  bool ok = tree >= 0 && attach(tree, target) == 0;
  if (tree >= 0) close_keeping_errno(tree, ok);
  (void)plan;
  return close_keeping_errno(target, ok);
}

bool change_mode(SandboxRoot& root, const ChildMount& mount) {
  int fd = root.open_existing(mount.dest);
  if (fd < 0) return false;
  // As the caller: only what it owns (its tmpfs, its files) can change mode.
  bool ok = ::syscall(SYS_fchmodat2, fd, "", static_cast<mode_t>(mount.perms), AT_EMPTY_PATH) == 0;
  return close_keeping_errno(fd, ok);
}

bool take_lock(ChildPlan& plan, SandboxRoot& root, const ChildMount& mount) {
  if (plan.lock_count == ChildPlan::kMaxLockFiles) return errno = E2BIG, false;
  int fd = sys::openat2(root.fd(), mount.dest, O_RDONLY | O_CLOEXEC,
                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) return false;
  struct flock lock {};
  lock.l_type = F_RDLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd, F_SETLK, &lock) < 0) return close_keeping_errno(fd, false);
  plan.lock_fds[plan.lock_count++] = fd;
  return true;
}

}  // namespace nsbroker::sandbox
