#include "sandbox/devices.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/mounts.h"

namespace nsbroker::sandbox {
namespace {

struct DevLink {
  const char* name;
  const char* target;
};

constexpr DevLink kDevLinks[] = {
    {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
    {"fd", "/proc/self/fd"},      {"core", "/proc/kcore"},       {"ptmx", "pts/ptmx"},
};

// Creates an empty file `name` in the fresh dev tmpfs and attaches `prepared_fd` on it.
bool bind_node(int dev_fd, const char* name, int prepared_fd) {
  int file = ::openat(dev_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (file < 0) return false;
  ::close(file);
  int target = ::openat(dev_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0) return false;
  bool ok = attach(prepared_fd, target) == 0;
  ::close(target);
  return ok;
}

}  // namespace

bool mount_dev(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount) {
  int mount_point = root.open_mount_point(mount.dest, Leaf::kDirectory, 0755);
  if (mount_point < 0) return false;
  int tmpfs = make_tmpfs(plan, 0755, 0);
  bool ok = tmpfs >= 0 && attach(tmpfs, mount_point) == 0;
  ::close(mount_point);
  if (!ok) return false;
  root.adopt_filesystem(tmpfs);
  // Everything below is created inside the tmpfs we just made, by name relative to its fd:
  // nothing the caller controls is on these paths.
  int dev_fd = tmpfs;
  for (std::size_t i = 0; i < kDevNodes.size(); ++i) {
    if (!bind_node(dev_fd, kDevNodes[i], plan.device_trees[i])) return false;
  }
  for (const DevLink& link : kDevLinks) {
    if (::symlinkat(link.target, dev_fd, link.name) < 0) return false;
  }
  if (::mkdirat(dev_fd, "shm", 0755) < 0 || ::mkdirat(dev_fd, "pts", 0755) < 0) return false;
  int pts = ::openat(dev_fd, "pts", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ok = pts >= 0 && attach(mount.devpts_fd, pts) == 0;
  if (pts >= 0) ::close(pts);
  if (!ok) return false;
  if (plan.console_tree >= 0 && !bind_node(dev_fd, "console", plan.console_tree)) return false;
  ::close(dev_fd);
  return true;
}

}  // namespace nsbroker::sandbox
