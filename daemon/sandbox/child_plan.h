// ChildPlan: everything the spawned setup processes need, computed before clone.
//
// After clone the children only read these arrays and make system calls (DESIGN.md §5): no
// allocation, no logging, no exceptions. The only thing a child writes here is the fd of each
// bind source it opened, into its own copy of `mounts`.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "auth/caller.h"
#include "policy/plan.h"
#include "sandbox/path_rules.h"

namespace nsbroker::sandbox {

// The device nodes of bubblewrap's --dev layout, bound from the caller's /dev.
inline constexpr std::array<const char*, 6> kDevNodes = {"null", "zero",   "full",
                                                          "random", "urandom", "tty"};

struct ChildMount {
  wire::MountKind kind = wire::MOUNT_KIND_UNSPECIFIED;
  const char* source = nullptr;
  const char* dest = nullptr;
  int perms = -1;  // -1: the kind's default
  std::uint64_t size_bytes = 0;
  // Detached mount prepared before entering the new root: the bind source copied with
  // open_tree (outside stage) or a fresh proc instance (sandbox stage).
  int prepared_fd = -1;
  int devpts_fd = -1;  // --dev: a new devpts instance
  bool source_is_dir = false;
  int source_fd = -1;          // the caller's fd: bind source (--bind-fd) or data (--file...)
  bool ignore_missing = false;  // -try forms
  bool skipped = false;         // -try and the source was missing: the operation is skipped
};

// The fds a request brought, numbered as in the daemon (and so in its children).
struct RequestFds {
  int stdio[3] = {-1, -1, -1};
  int cwd = -1;
  std::vector<int> data;  // the record's fds from index 4 on
};

// A client seccomp program read in the sandbox stage (no allocation: fixed capacity).
struct ClientFilter {
  int fd = -1;  // where it is read from
  std::array<sock_filter, BPF_MAXINSNS> instructions{};
  sock_fprog program{};
};

struct ChildPlan {
  policy::SandboxMode mode = policy::SandboxMode::kPrivileged;
  std::uint64_t sandbox_clone_flags = 0;  // namespaces the sandbox process is created in

  uid_t uid = 0;  // the caller's, on the host
  gid_t gid = 0;
  uid_t inside_uid = 0;  // what the command runs as (the caller's own, unless --uid in userns mode)
  gid_t inside_gid = 0;
  std::uint64_t capabilities_inside = 0;  // --cap-add (userns mode, policy permitting)
  std::vector<gid_t> groups;

  int caller_pidfd = -1;
  int caller_root_fd = -1;  // O_PATH: the caller's root (its chroot); bind sources resolve in it
  mode_t umask = 022;       // the caller's, for everything created on its behalf
  std::vector<const char*> cgroup_procs;  // the caller's cgroups (daemon's view), entered first
  RequestFds fds;
  int proc_dir_fd = -1;  // the daemon's /proc, to write id maps of the sandbox process
  int netns_fd = -1;     // a ready network namespace from the pool, or -1
  int report_fd = -1;    // write end of the setup report pipe (close-on-exec)
  int release_fd = -1;   // the sandbox process waits here until the daemon releases it

  std::vector<ChildMount> mounts;
  bool needs_devices = false;  // some --dev in mounts: device trees are opened outside
  std::array<int, kDevNodes.size()> device_trees{};
  int console_tree = -1;       // the caller's terminal on stdout, bound to /dev/console

  const char* command = nullptr;  // the program to run (argv[0] of the request)
  std::vector<char*> argv;  // null-terminated; argv[0] may be --argv0
  std::vector<char*> envp;  // null-terminated
  const char* search_path = "/usr/local/bin:/usr/bin:/bin";  // PATH for the command lookup
  const char* chdir = nullptr;
  const char* cwd_path = nullptr;
  const char* home = nullptr;
  const char* hostname = nullptr;
  bool as_pid_1 = false;

  sock_fprog seccomp{};  // the profile's filter (base + profile rules), loaded right before execve
  std::vector<ClientFilter> client_filters;  // stacked after it, in order

  // --lock-file: fds held (read-locked) for as long as the sandbox runs.
  static constexpr std::size_t kMaxLockFiles = 16;
  std::array<int, kMaxLockFiles> lock_fds{};
  std::size_t lock_count = 0;

  std::vector<int> keep_fds;  // sorted; every other fd is closed in the outside stage

  // The profile's path rules, checked in the outside stage against each bind source as
  // opened. What the outside stage learns is written into these preallocated buffers:
  ChildPathRules path_rules;
  static constexpr std::size_t kOpenedPathBytes = 4096;
  std::vector<char> opened_paths;  // mounts.size() * kOpenedPathBytes: each source as opened
  std::vector<char> masks;         // mounts.size() * deny.size(): deny[j] lies inside source i

  // Other users' homes found under the homes root (deny_other_users_homes), by name.
  static constexpr std::size_t kMaxOtherHomes = 512;
  static constexpr std::size_t kHomeNameBytes = 256;
  std::vector<char> other_homes;  // kMaxOtherHomes * kHomeNameBytes
  std::size_t other_home_count = 0;
  bool other_homes_listed = false;
  char* other_home(std::size_t i) { return other_homes.data() + i * kHomeNameBytes; }
  const char* other_home(std::size_t i) const { return other_homes.data() + i * kHomeNameBytes; }

  char* opened_path(std::size_t mount) { return opened_paths.data() + mount * kOpenedPathBytes; }
  const char* opened_path(std::size_t mount) const {
    return opened_paths.data() + mount * kOpenedPathBytes;
  }
  char& mask(std::size_t mount, std::size_t deny) {
    return masks[mount * path_rules.deny.size() + deny];
  }
  char mask(std::size_t mount, std::size_t deny) const {
    return masks[mount * path_rules.deny.size() + deny];
  }
};

// Flattens a validated plan for the children. `plan` must outlive the returned value.
// `netns_fd`: a pooled network namespace for a plan that unshares the network, or -1.
// The seccomp program and path rules come from the plan (the caller's profile).
ChildPlan make_child_plan(const policy::Plan& plan, const auth::Caller& caller,
                          const RequestFds& fds, int proc_dir_fd, int netns_fd = -1);

}  // namespace nsbroker::sandbox
