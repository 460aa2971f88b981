#include "sandbox/mount_points.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sandbox/identity.h"
#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {
namespace {

constexpr std::uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

int create_leaf(int parent_fd, const char* name, Leaf leaf, mode_t mode) {
  if (leaf == Leaf::kDirectory) return ::mkdirat(parent_fd, name, mode);
  int fd = ::openat(parent_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  ::close(fd);
  return 0;
}

}  // namespace

bool SandboxRoot::open() {
  if (root_fd_ >= 0) ::close(root_fd_);
  root_fd_ = ::open(kBuildPath, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return root_fd_ >= 0;
}

int SandboxRoot::open_existing(const char* path, int extra_flags) const {
  return sys::openat2(root_fd_, path, O_PATH | O_CLOEXEC | extra_flags, kInRoot);
}

void SandboxRoot::adopt_filesystem(int mount_fd) {
  struct stat st {};
  if (own_count_ < kMaxOwnFilesystems && ::fstat(mount_fd, &st) == 0) {
    own_devices_[own_count_++] = st.st_dev;
  }
}

bool SandboxRoot::is_own_filesystem(int fd) const {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return false;
  for (std::size_t i = 0; i < own_count_; ++i) {
    if (own_devices_[i] == st.st_dev) return true;
  }
  return false;
}

void SandboxRoot::remember(const char* path, std::size_t length, Leaf leaf) {
  if (created_count_ == kMaxCreated || length >= sizeof(created_[0].path)) return;
  Created& entry = created_[created_count_++];
  std::memcpy(entry.path, path, length);
  entry.path[length] = '\0';
  entry.leaf = leaf;
}

// Makes sure path[0..length) exists; creates it as `leaf` if it does not.
bool SandboxRoot::ensure_entry(char* path, std::size_t length, Leaf leaf, mode_t mode) {
  char saved = path[length];
  path[length] = '\0';
  int fd = open_existing(path);
  if (fd >= 0) {
    ::close(fd);
    path[length] = saved;
    return true;
  }
  if (errno != ENOENT) {
    path[length] = saved;
    return false;
  }
  // Split into parent and name; the parent exists (callers go from the top down).
  char* slash = std::strrchr(path, '/');
  const char* name = slash + 1;
  int parent_fd;
  if (slash == path) {
    parent_fd = ::dup(root_fd_);
  } else {
    *slash = '\0';
    parent_fd = open_existing(path, O_DIRECTORY);
    *slash = '/';
  }
  // In the sandbox's own tmpfs, --perms may not stop setup itself; elsewhere (host binds) the
  // caller's permissions decide.
  bool own = parent_fd >= 0 && is_own_filesystem(parent_fd);
  bool override = own && set_file_permission_override(true);
  bool permitted = own || host_creation_allowed_;
  if (!permitted) {
    errno = EPERM;
    refused_host_creation_ = true;
  }
  bool ok = parent_fd >= 0 && permitted &&
            (create_leaf(parent_fd, name, leaf, mode) == 0 || errno == EEXIST);
  int saved_errno = errno;
  if (override) set_file_permission_override(false);
  if (parent_fd >= 0) ::close(parent_fd);
  if (ok && saved_errno != EEXIST) remember(path, length, leaf);
  path[length] = saved;
  errno = saved_errno;
  return ok;
}

int SandboxRoot::open_mount_point(const char* path, Leaf leaf, mode_t leaf_mode) {
  char buffer[PATH_MAX];
  std::size_t length = std::strlen(path);
  if (length == 0 || length >= sizeof(buffer) || path[0] != '/') {
    errno = EINVAL;
    return -1;
  }
  std::memcpy(buffer, path, length + 1);
  if (length == 1) return open_existing("/");  // the root itself
  errno = 0;
  for (std::size_t i = 1; i < length; ++i) {
    if (buffer[i] == '/' && !ensure_entry(buffer, i, Leaf::kDirectory, 0755)) return -1;
  }
  if (!ensure_entry(buffer, length, leaf, leaf_mode)) return -1;
  return open_existing(buffer);
}

void SandboxRoot::remove_created() {
  while (created_count_ > 0) {
    Created& entry = created_[--created_count_];
    // Why this is safe: the process root is the staging tmpfs (the host root is detached), the
    // path is taken relative to the sandbox root with the caller's fs identity: at worst it
    // removes an empty entry the caller could remove itself.
    const char* relative = entry.path + 1;
    if (::fchdir(root_fd_) == 0) ::umount2(relative, MNT_DETACH);
    ::unlinkat(root_fd_, relative, entry.leaf == Leaf::kDirectory ? AT_REMOVEDIR : 0);
  }
}

}  // namespace nsbroker::sandbox
