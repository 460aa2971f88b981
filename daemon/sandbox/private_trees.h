// Detached copies of mount trees that are private before they are attached anywhere.
//
// Why this exists: open_tree(OPEN_TREE_CLONE) puts the copy in its source's peer group. On a
// real host "/" has shared propagation (systemd's default), so every mount later made on top
// of such a copy — a mask, a nested bind, a tmpfs, /dev, /proc — would propagate back into
// the caller's own mount namespace, i.e. onto the host. A private copy sends nothing and
// receives nothing. Every tree the daemon copies goes through copy_private_tree(); mounts made
// with fsmount() belong to no peer group and need nothing.
#pragma once

#include <cstdint>

namespace nsbroker::sandbox {

enum class TreeScope { kOneMount, kWithSubmounts };

// Copies the mount at `path` relative to `dirfd` ("" for `dirfd` itself), makes the copy (and
// with kWithSubmounts every mount below it) private and sets `attributes` (MOUNT_ATTR_*) on
// it. Returns the detached tree's fd (close-on-exec) or -1 with errno set. Allocation-free.
int copy_private_tree(int dirfd, const char* path, TreeScope scope, std::uint64_t attributes);

}  // namespace nsbroker::sandbox
