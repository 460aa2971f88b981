// Mount points beneath the sandbox root.
//
// Every destination is resolved with RESOLVE_IN_ROOT against the new root, so a symlink
// planted anywhere on the way (also inside a bind of a host directory) can only lead to
// another place inside the sandbox. Missing directories and files are created with the
// caller's fs identity: inside a writable bind they land on the host owned by the caller, as
// bubblewrap does, and only where the caller could have created them itself.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace nsbroker::sandbox {

enum class Leaf { kDirectory, kFile };

class SandboxRoot {
 public:
  // The sandbox root is built at kBuildPath inside a throw-away staging root, never as the
  // process root itself: a mount stacked on the process root would be invisible to path
  // lookups (bind sources for "/" are common: --ro-bind / /).
  static constexpr const char* kBuildPath = "/newroot";

  // (Re)opens kBuildPath, following any mount stacked on it since.
  bool open();
  // Whether entries missing on host filesystems may be created (the profile's
  // mounts.create_missing_mount_points); when not, such a creation fails with EPERM.
  void allow_host_creation(bool allowed) { host_creation_allowed_ = allowed; }
  // Whether the last failure of open_mount_point was that refusal.
  bool refused_host_creation() const { return refused_host_creation_; }
  int fd() const { return root_fd_; }

  // Opens `path` (absolute, normalised) beneath the root as O_PATH, creating missing parent
  // directories (0755) and, if missing, the leaf itself. Returns -1 with errno set.
  int open_mount_point(const char* path, Leaf leaf, mode_t leaf_mode);

  // Opens an existing path beneath the root as O_PATH. Returns -1 with errno set.
  int open_existing(const char* path, int extra_flags = 0) const;

  // Marks the filesystem of `mount_fd` (a tmpfs this setup made) as the sandbox's own:
  // entries inside it are created even where its --perms deny the caller.
  void adopt_filesystem(int mount_fd);
  bool is_own_filesystem(int fd) const;

  // Removes, newest first, what open_mount_point created (after detaching anything mounted
  // on it), so a failed setup leaves nothing behind in the caller's directories.
  void remove_created();

 private:
  bool ensure_entry(char* path, std::size_t length, Leaf leaf, mode_t mode);
  void remember(const char* path, std::size_t length, Leaf leaf);

  struct Created {
    char path[4096];
    Leaf leaf;
  };
  static constexpr std::size_t kMaxCreated = 64;

  int root_fd_ = -1;
  bool host_creation_allowed_ = true;
  bool refused_host_creation_ = false;
  Created created_[kMaxCreated];
  std::size_t created_count_ = 0;
  static constexpr std::size_t kMaxOwnFilesystems = 600;
  dev_t own_devices_[kMaxOwnFilesystems] = {};
  std::size_t own_count_ = 0;
};

}  // namespace nsbroker::sandbox
