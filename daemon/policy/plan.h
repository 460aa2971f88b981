// Plan: the immutable, validated description of one sandbox, produced by the decision stage
// and consumed by the spawner. Everything in it has been checked; nothing in it is trusted
// for access decisions on paths (those are made as the caller, at the point of use).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nsbroker.pb.h"

namespace nsbroker::sandbox {
class SeccompProgram;
}

namespace nsbroker::policy {

enum class SandboxMode { kUserNamespace, kPrivileged };

const char* to_string(SandboxMode mode);

struct MountStep {
  wire::MountKind kind = wire::MOUNT_KIND_UNSPECIFIED;
  std::string source;            // bind source or symlink target, as sent
  std::string dest;              // absolute path inside the sandbox
  std::optional<mode_t> perms;   // tmpfs / dir mode
  std::uint64_t size_bytes = 0;  // tmpfs size, 0 = kernel default
  // Data fd index (0 = the record's fd 4): source of a bind by fd, or the data of a file.
  std::optional<std::size_t> source_fd;
  bool ignore_missing_source = false;  // -try forms
};

// The path rules of the caller's profile, for the checks made on each bind source AS OPENED
// (read back from its fd in the caller's view) when the sandbox is built; evaluate() has
// already checked the source strings against the same rules. All paths are absolute and
// canonical ("/a/b", no trailing slash, no "." or ".."). Prefixes cover by whole components:
// "/home/al" does not cover "/home/alice"; "/" covers everything.
//
// Verdict for a bind source P (sandbox::check_bind_source implements it):
//   1. P under a `deny` entry: refused.
//   2. deny_other_users_homes and P inside homes_root/<entry> whose owner is not the caller:
//      refused, unless a read_only/read_write entry lies at or below homes_root/<entry> and
//      covers P ("listed"); a broad entry such as "/" or "/home" does not count.
//   3. --bind: P under a read_write entry; --ro-bind: under a read_only or read_write entry;
//      --dev-bind: under a `devices` entry. Otherwise refused.
// A bind whose source CONTAINS a `deny` entry (--ro-bind / /) is allowed, and the denied
// path is hidden inside the sandbox (an empty read-only file or directory over it); the same
// holds for the other users' homes inside a bind that contains homes_root.
struct PathRules {
  bool enforce = false;  // false only for plans made without a policy (check_request alone)
  std::vector<std::string> read_only;
  std::vector<std::string> read_write;
  std::vector<std::string> deny;
  std::vector<std::string> devices;  // --dev-bind sources
  bool deny_other_users_homes = false;
  std::string homes_root;  // set (e.g. "/home") exactly when deny_other_users_homes
  // Whether a missing mount point inside a writable bind may be created on the host (as the
  // caller, owned by the caller). false: such a request fails at setup, naming the path.
  bool create_missing_mount_points = false;
};

struct Plan {
  SandboxMode mode = SandboxMode::kPrivileged;
  // A new PID namespace is always created: it is what lets the daemon end the whole sandbox
  // by killing one process.
  bool unshare_net = false;
  bool unshare_ipc = false;
  bool unshare_uts = false;
  bool unshare_cgroup = false;
  std::vector<MountStep> mounts;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string chdir;
  std::string cwd_path;
  std::string hostname;
  bool as_pid_1 = false;
  std::string argv0;                    // --argv0: what the command sees as argv[0]; empty: argv[0]
  std::optional<uid_t> uid_inside;      // --uid (user namespace mode only)
  std::optional<gid_t> gid_inside;      // --gid
  std::uint64_t capabilities_inside = 0;  // --cap-add, as a capability bit mask
  // Client seccomp programs, as indexes into the request's data fds (0 = the record's fd 4).
  std::vector<std::size_t> client_filter_fds;
  // The caller's profile's filter: the base filter plus the profile's rules, compiled when
  // the policy was loaded. Null only for plans made without a policy (check_request alone),
  // where the spawner uses the base filter.
  std::shared_ptr<const sandbox::SeccompProgram> seccomp;
  PathRules path_rules;
};

}  // namespace nsbroker::policy
