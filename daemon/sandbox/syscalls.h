// Thin wrappers for the system calls glibc 2.36 does not wrap (or wraps in headers that clash
// with <linux/mount.h>). Each returns what the raw syscall returns and sets errno, nothing
// more: they are safe to call in a freshly cloned child (no allocation, no locks).
#pragma once

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace nsbroker::sys {

inline int openat2(int dirfd, const char* path, int flags, std::uint64_t resolve,
                   mode_t mode = 0) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.mode = mode;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

inline int open_tree(int dirfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
}

inline int move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path,
                      unsigned flags) {
  return static_cast<int>(
      ::syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags));
}

inline int fsopen(const char* fs_name, unsigned flags) {
  return static_cast<int>(::syscall(SYS_fsopen, fs_name, flags));
}

inline int fsconfig(int fs_fd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fs_fd, cmd, key, value, aux));
}

inline int fsmount(int fs_fd, unsigned flags, unsigned attr_flags) {
  return static_cast<int>(::syscall(SYS_fsmount, fs_fd, flags, attr_flags));
}

inline int mount_setattr(int dirfd, const char* path, unsigned flags, std::uint64_t attr_set,
                         std::uint64_t attr_clr = 0, std::uint64_t propagation = 0) {
  mount_attr attr{};
  attr.attr_set = attr_set;
  attr.attr_clr = attr_clr;
  attr.propagation = propagation;
  return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr)));
}

inline int pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

inline int pidfd_open(pid_t pid, unsigned flags = 0) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}

inline int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

inline int close_range(unsigned first, unsigned last, unsigned flags) {
  return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}

inline int faccessat2(int dirfd, const char* path, int mode, int flags) {
  return static_cast<int>(::syscall(SYS_faccessat2, dirfd, path, mode, flags));
}

// Process creation with fork semantics (no CLONE_VM, the child runs on a copy of the
// caller's stack). Tries clone3 and falls back to clone(2) where clone3 is filtered to ENOSYS
// (Docker's default seccomp profile does that). `pidfd_out` may be null.
pid_t clone_process(std::uint64_t flags, int* pidfd_out);

// The raw system-call wrappers used by a child after clone: they never allocate.
inline int set_groups(std::size_t count, const gid_t* groups) {
  return static_cast<int>(::syscall(SYS_setgroups, count, groups));
}
inline int set_res_uid(uid_t uid) { return static_cast<int>(::syscall(SYS_setresuid, uid, uid, uid)); }
inline int set_res_gid(gid_t gid) { return static_cast<int>(::syscall(SYS_setresgid, gid, gid, gid)); }
inline int set_fs_uid(uid_t uid) { return static_cast<int>(::syscall(SYS_setfsuid, uid)); }
inline int set_fs_gid(gid_t gid) { return static_cast<int>(::syscall(SYS_setfsgid, gid)); }

}  // namespace nsbroker::sys
