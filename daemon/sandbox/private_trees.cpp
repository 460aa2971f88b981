#include "sandbox/private_trees.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {

int copy_private_tree(int dirfd, const char* path, TreeScope scope, std::uint64_t attributes) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
  if (path[0] == '\0') flags |= AT_EMPTY_PATH;
  unsigned recursive = scope == TreeScope::kWithSubmounts ? AT_RECURSIVE : 0;
  int tree = sys::open_tree(dirfd, path, flags | recursive);
  if (tree < 0) return -1;
  // Propagation and attributes in one call, on the detached copy: nothing is attached yet, so
  // there is no moment at which the copy is both reachable and still shared.
  if (sys::mount_setattr(tree, "", AT_EMPTY_PATH | recursive, attributes, 0, MS_PRIVATE) < 0) {
    int saved = errno;
    ::close(tree);
    errno = saved;
    return -1;
  }
  return tree;
}

}  // namespace nsbroker::sandbox
