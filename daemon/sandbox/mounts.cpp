#include "sandbox/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/child_text.h"
#include "sandbox/devices.h"
#include "sandbox/files.h"
#include "sandbox/identity.h"
#include "sandbox/masks.h"
#include "sandbox/setup_report.h"
#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {
namespace {

constexpr mode_t kDefaultDirMode = 0755;

bool set_option(int fs_fd, const char* key, const char* value) {
  return sys::fsconfig(fs_fd, FSCONFIG_SET_STRING, key, value, 0) == 0;
}

// Creates the superblock configured on fs_fd and returns it as a detached mount.
int finish_instance(int fs_fd, unsigned attrs) {
  int mount_fd = -1;
  if (sys::fsconfig(fs_fd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0) {
    mount_fd = sys::fsmount(fs_fd, FSMOUNT_CLOEXEC, attrs);
  }
  int saved = errno;
  ::close(fs_fd);
  errno = saved;
  return mount_fd;
}

int make_proc() {
  int fs = sys::fsopen("proc", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  set_option(fs, "source", "proc");
  return finish_instance(fs, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
}

int make_devpts(const ChildPlan& plan) {
  int fs = sys::fsopen("devpts", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  bool ok = set_option(fs, "source", "devpts") &&
            sys::fsconfig(fs, FSCONFIG_SET_FLAG, "newinstance", nullptr, 0) == 0 &&
            set_option(fs, "ptmxmode", "0666") && set_option(fs, "mode", "0620");
  // The tty group (5) exists only outside a user namespace that maps just the caller.
  if (ok && plan.mode == policy::SandboxMode::kPrivileged) ok = set_option(fs, "gid", "5");
  if (!ok) {
    int saved = errno;
    ::close(fs);
    errno = saved;
    return -1;
  }
  return finish_instance(fs, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
}

int mode_or_default(const ChildMount& mount) {
  return mount.perms >= 0 ? mount.perms : static_cast<int>(kDefaultDirMode);
}

[[noreturn]] void fail(const ChildPlan& plan, SandboxRoot& root, Step step, int index) {
  int error = errno;
  root.remove_created();
  report_failure_and_exit(plan.report_fd, step, error, index);
}

// Mount point for kind `step` at mount.dest, or fail.
int mount_point(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount, Leaf leaf,
                int index) {
  int fd = root.open_mount_point(mount.dest, leaf, leaf == Leaf::kDirectory ? 0755 : 0644);
  if (fd < 0) {
    fail(plan, root, root.refused_host_creation() ? Step::kMountPointNotAllowed : Step::kMountPoint,
         index);
  }
  return fd;
}

void mount_bind(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount, int index) {
  int target = mount_point(plan, root, mount, mount.source_is_dir ? Leaf::kDirectory : Leaf::kFile, index);
  if (attach(mount.prepared_fd, target) < 0) fail(plan, root, Step::kBindMount, index);
  ::close(target);
  ::close(mount.prepared_fd);
  // A bind onto the root itself: look through it from now on.
  if (std::strcmp(mount.dest, "/") == 0 && !root.open()) fail(plan, root, Step::kEnterRoot, index);
  // Right away, so later operations (an explicit bind of something allowed) land on top.
  if (!mask_inside_bind(plan, root, static_cast<std::size_t>(index))) {
    fail(plan, root, Step::kMaskDeniedPath, index);
  }
}

void mount_tmpfs(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount, int index) {
  int target = mount_point(plan, root, mount, Leaf::kDirectory, index);
  int tmpfs = make_tmpfs(plan, mode_or_default(mount), mount.size_bytes);
  if (tmpfs < 0 || attach(tmpfs, target) < 0) fail(plan, root, Step::kTmpfs, index);
  root.adopt_filesystem(tmpfs);
  ::close(tmpfs);
  ::close(target);
}

void mount_proc(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount, int index) {
  int target = mount_point(plan, root, mount, Leaf::kDirectory, index);
  if (attach(mount.prepared_fd, target) < 0) fail(plan, root, Step::kProc, index);
  ::close(mount.prepared_fd);
  ::close(target);
}

void make_dir(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount, int index) {
  int fd = root.open_mount_point(mount.dest, Leaf::kDirectory,
                                 static_cast<mode_t>(mode_or_default(mount)));
  if (fd < 0) fail(plan, root, Step::kDir, index);
  ::close(fd);
}

// An existing entry is fine only if it is the same symlink (bubblewrap's rule).
bool is_same_symlink(int parent_fd, const char* name, const char* target) {
  char existing[4096];
  ssize_t n = ::readlinkat(parent_fd, name, existing, sizeof(existing) - 1);
  if (n < 0) return false;
  existing[n] = '\0';
  return std::strcmp(existing, target) == 0;
}

void make_symlink(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount, int index) {
  // dest is absolute and normalised: split it at its last slash.
  const char* name = std::strrchr(mount.dest, '/') + 1;
  TextBuffer<4096> parent;
  parent.prefix(mount.dest, name - mount.dest > 1 ? static_cast<std::size_t>(name - mount.dest - 1) : 1);
  int parent_fd = root.open_mount_point(parent.c_str(), Leaf::kDirectory, kDefaultDirMode);
  if (parent_fd < 0) fail(plan, root, Step::kSymlink, index);
  bool override = root.is_own_filesystem(parent_fd) && set_file_permission_override(true);
  int made = ::symlinkat(mount.source, parent_fd, name);
  int error = errno;
  if (override) set_file_permission_override(false);
  if (made < 0) {
    if (!(error == EEXIST && is_same_symlink(parent_fd, name, mount.source))) {
      errno = error;
      fail(plan, root, Step::kSymlink, index);
    }
  }
  ::close(parent_fd);
}

void remount_read_only(const ChildPlan& plan, SandboxRoot& root, const ChildMount& mount,
                       int index) {
  int fd = root.open_existing(mount.dest);
  // Non-recursive, as bubblewrap's --remount-ro.
  if (fd < 0 || sys::mount_setattr(fd, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) < 0) {
    fail(plan, root, Step::kRemountReadOnly, index);
  }
  ::close(fd);
}

}  // namespace

int attach(int prepared_fd, int mount_point_fd) {
  return sys::move_mount(prepared_fd, "", mount_point_fd, "",
                         MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

int make_tmpfs(const ChildPlan& plan, int mode, std::uint64_t size_bytes) {
  int fs = sys::fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  TextBuffer<16> mode_text;
  mode_text.octal(static_cast<unsigned>(mode));
  TextBuffer<24> uid_text;
  uid_text.decimal(plan.inside_uid);  // ids as seen inside (the caller's, mapped, in userns mode)
  TextBuffer<24> gid_text;
  gid_text.decimal(plan.inside_gid);
  bool ok = set_option(fs, "source", "tmpfs") && set_option(fs, "mode", mode_text.c_str()) && set_option(fs, "uid", uid_text.c_str()) &&
            set_option(fs, "gid", gid_text.c_str());
  if (ok && size_bytes > 0) {
    TextBuffer<24> size_text;
    size_text.decimal(size_bytes);
    ok = set_option(fs, "size", size_text.c_str());
  }
  if (!ok) {
    int saved = errno;
    ::close(fs);
    errno = saved;
    return -1;
  }
  return finish_instance(fs, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
}

bool make_mounts_private() {
  return ::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) == 0;
}

void prepare_fresh_instances(ChildPlan& plan) {
  for (std::size_t i = 0; i < plan.mounts.size(); ++i) {
    ChildMount& mount = plan.mounts[i];
    if (mount.kind == wire::MOUNT_PROC) {
      // fsopen("proc") takes the pid namespace of the calling process: the sandbox's.
      mount.prepared_fd = make_proc();
      if (mount.prepared_fd < 0) {
        report_failure_and_exit(plan.report_fd, Step::kPrepareProc, errno, static_cast<int>(i));
      }
    } else if (mount.kind == wire::MOUNT_DEV) {
      mount.devpts_fd = make_devpts(plan);
      if (mount.devpts_fd < 0) {
        report_failure_and_exit(plan.report_fd, Step::kPrepareDevpts, errno, static_cast<int>(i));
      }
    }
  }
}

// Makes the mount on the current directory the process root and detaches the old root.
bool pivot_here() {
  return sys::pivot_root(".", ".") == 0 && ::umount2(".", MNT_DETACH) == 0 && ::chdir("/") == 0;
}

void enter_staging_root(const ChildPlan& plan, SandboxRoot& root) {
  int staging = make_tmpfs(plan, 0755, 0);
  if (staging < 0) report_failure_and_exit(plan.report_fd, Step::kCreateRoot, errno);
  // Stack the tmpfs on "/", step into it and pivot: the old root ends up on top of the new
  // one and is detached with everything below it.
  if (sys::move_mount(staging, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
      ::fchdir(staging) < 0 || !pivot_here()) {
    report_failure_and_exit(plan.report_fd, Step::kEnterRoot, errno);
  }
  ::close(staging);
  int sandbox_root = make_tmpfs(plan, 0755, 0);
  if (sandbox_root < 0 || ::mkdir(SandboxRoot::kBuildPath, 0755) < 0 ||
      sys::move_mount(sandbox_root, "", AT_FDCWD, SandboxRoot::kBuildPath, MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
      !root.open()) {
    report_failure_and_exit(plan.report_fd, Step::kCreateRoot, errno);
  }
  root.adopt_filesystem(sandbox_root);
  root.allow_host_creation(plan.path_rules.create_missing_mount_points);
  ::close(sandbox_root);
}

void enter_sandbox_root(const ChildPlan& plan) {
  if (::chdir(SandboxRoot::kBuildPath) < 0 || !pivot_here()) {
    report_failure_and_exit(plan.report_fd, Step::kEnterRoot, errno);
  }
}

void apply_mount_operations(ChildPlan& plan, SandboxRoot& root) {
  for (std::size_t i = 0; i < plan.mounts.size(); ++i) {
    const ChildMount& mount = plan.mounts[i];
    int index = static_cast<int>(i);
    if (mount.skipped) continue;  // a -try bind whose source did not exist
    switch (mount.kind) {
      case wire::MOUNT_BIND:
      case wire::MOUNT_RO_BIND:
      case wire::MOUNT_DEV_BIND: mount_bind(plan, root, mount, index); break;
      case wire::MOUNT_TMPFS: mount_tmpfs(plan, root, mount, index); break;
      case wire::MOUNT_PROC: mount_proc(plan, root, mount, index); break;
      case wire::MOUNT_DEV:
        if (!mount_dev(plan, root, mount)) fail(plan, root, Step::kDev, index);
        break;
      case wire::MOUNT_DIR: make_dir(plan, root, mount, index); break;
      case wire::MOUNT_SYMLINK: make_symlink(plan, root, mount, index); break;
      case wire::MOUNT_REMOUNT_RO: remount_read_only(plan, root, mount, index); break;
      case wire::MOUNT_FILE:
        if (!write_data_file(plan, root, mount)) fail(plan, root, Step::kDataFile, index);
        break;
      case wire::MOUNT_BIND_DATA:
      case wire::MOUNT_RO_BIND_DATA:
        if (!bind_data_file(plan, root, mount, index)) fail(plan, root, Step::kDataFile, index);
        break;
      case wire::MOUNT_CHMOD:
        if (!change_mode(root, mount)) fail(plan, root, Step::kChmod, index);
        break;
      case wire::MOUNT_LOCK_FILE:
        if (!take_lock(plan, root, mount)) fail(plan, root, Step::kLockFile, index);
        break;
      default: errno = EINVAL; fail(plan, root, Step::kNone, index);
    }
    // Something was mounted on the root itself: later operations go into it.
    if (mount.dest[0] == '/' && mount.dest[1] == '\0' && !root.open()) {
      fail(plan, root, Step::kEnterRoot, index);
    }
  }
}

}  // namespace nsbroker::sandbox
