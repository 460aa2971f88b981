#include "policy/request_check.h"

#include <algorithm>
#include <cctype>

namespace nsbroker::policy {
namespace {

Failure invalid(std::string message) { return fail(wire::ERROR_INVALID_ARGUMENT, std::move(message)); }

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool is_data(wire::MountKind kind) {
  return kind == wire::MOUNT_FILE || kind == wire::MOUNT_BIND_DATA ||
         kind == wire::MOUNT_RO_BIND_DATA;
}

bool is_bind(wire::MountKind kind) {
  return kind == wire::MOUNT_BIND || kind == wire::MOUNT_RO_BIND || kind == wire::MOUNT_DEV_BIND;
}

bool takes_source(wire::MountKind kind) {
  return kind == wire::MOUNT_BIND || kind == wire::MOUNT_RO_BIND ||
         kind == wire::MOUNT_DEV_BIND || kind == wire::MOUNT_SYMLINK;
}

bool takes_perms(wire::MountKind kind) {
  return kind == wire::MOUNT_TMPFS || kind == wire::MOUNT_DIR || is_data(kind) ||
         kind == wire::MOUNT_CHMOD;
}

Result<MountStep> check_mount(const wire::MountOp& op, const RequestLimits& limits) {
  const char* name = mount_option_name(op.kind());
  if (op.kind() == wire::MOUNT_KIND_UNSPECIFIED || !wire::MountKind_IsValid(op.kind())) {
    return invalid("unknown mount operation kind " + std::to_string(op.kind()));
  }
  MountStep step;
  step.kind = op.kind();
  if (has_nul(op.source()) || has_nul(op.dest())) {
    return invalid(std::string(name) + ": paths must not contain NUL bytes");
  }
  if (op.source().size() > limits.max_path_bytes || op.dest().size() > limits.max_path_bytes) {
    return invalid(std::string(name) + ": path longer than " + std::to_string(limits.max_path_bytes) + " bytes");
  }
  if (op.source_fd() != 0) {
    if (!is_bind(op.kind()) && !is_data(op.kind())) {
      return invalid(std::string(name) + " takes no file descriptor");
    }
    if (op.source_fd() < kFirstDataFd) {
      return invalid(std::string(name) + ": fd " + std::to_string(op.source_fd()) +
                     " is not a data fd (those start at 4)");
    }
    step.source_fd = op.source_fd() - kFirstDataFd;
  } else if (is_data(op.kind())) {
    return invalid(std::string(name) + " needs the fd its data comes from");
  }
  if (takes_source(op.kind()) && !step.source_fd) {
    if (op.source().empty()) return invalid(std::string(name) + ": empty source");
    step.source = op.source();
  } else if (!op.source().empty()) {
    return invalid(std::string(name) + " takes no source path");
  }
  if (op.ignore_missing_source()) {
    if (!is_bind(op.kind())) return invalid(std::string(name) + " has no -try form");
    step.ignore_missing_source = true;
  }
  if (op.kind() == wire::MOUNT_CHMOD && !op.has_perms()) {
    return invalid("--chmod needs the mode (OCTAL)");
  }
  auto dest = normalize_destination(op.dest());
  if (!dest) {
    return invalid(std::string(name) + " " + op.dest() +
                   ": destination must be a non-empty path without '..'");
  }
  step.dest = std::move(*dest);
  if (op.has_perms()) {
    if (!takes_perms(op.kind())) return invalid(std::string(name) + " takes no permissions (--perms)");
    if (op.perms() > 07777) return invalid(std::string(name) + ": permissions above 07777");
    step.perms = static_cast<mode_t>(op.perms());
  }
  if (op.size_bytes() != 0 && op.kind() != wire::MOUNT_TMPFS) {
    return invalid(std::string(name) + " takes no size (--size is for --tmpfs)");
  }
  step.size_bytes = op.size_bytes();
  return step;
}

std::optional<Failure> check_no_nul(const google::protobuf::RepeatedPtrField<std::string>& strings,
                                    const char* what) {
  if (std::none_of(strings.begin(), strings.end(), [](const std::string& s) { return has_nul(s); })) {
    return std::nullopt;
  }
  return invalid(std::string(what) + " strings must not contain NUL bytes");
}

std::optional<Failure> check_environment(const wire::Spawn& spawn) {
  for (const std::string& entry : spawn.env()) {
    std::size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalid("environment entry '" + entry + "' is not NAME=value");
    }
  }
  return std::nullopt;
}

// What the client refuses, refused here too: the client is not a security boundary, and a
// request may come over the raw protocol or D-Bus (DESIGN.md §2).
std::optional<Failure> check_combinations(const wire::Spawn& spawn) {
  bool lock_file = std::any_of(spawn.mounts().begin(), spawn.mounts().end(),
                               [](const wire::MountOp& op) { return op.kind() == wire::MOUNT_LOCK_FILE; });
  // The lock is held by the sandbox's init process, which --as-pid-1 leaves out.
  if (spawn.as_pid_1() && lock_file) {
    return invalid("--lock-file cannot be combined with --as-pid-1: the lock is held by the "
                   "sandbox's init process, which --as-pid-1 leaves out; drop one of them");
  }
  return std::nullopt;
}

// (uid_t)-1 and (gid_t)-1 mean "no change" to the kernel: they name nobody.
std::optional<Failure> check_ids(const wire::Spawn& spawn) {
  constexpr std::uint32_t kNoId = static_cast<std::uint32_t>(-1);
  if (spawn.has_uid() && spawn.uid() == kNoId) {
    return invalid("--uid 4294967295 is (uid_t)-1, which names nobody: give a real uid");
  }
  if (spawn.has_gid() && spawn.gid() == kNoId) {
    return invalid("--gid 4294967295 is (gid_t)-1, which names nobody: give a real gid");
  }
  return std::nullopt;
}

}  // namespace

const char* mount_option_name(wire::MountKind kind) {
  switch (kind) {
    case wire::MOUNT_BIND: return "--bind";
    case wire::MOUNT_RO_BIND: return "--ro-bind";
    case wire::MOUNT_DEV_BIND: return "--dev-bind";
    case wire::MOUNT_TMPFS: return "--tmpfs";
    case wire::MOUNT_PROC: return "--proc";
    case wire::MOUNT_DEV: return "--dev";
    case wire::MOUNT_DIR: return "--dir";
    case wire::MOUNT_SYMLINK: return "--symlink";
    case wire::MOUNT_REMOUNT_RO: return "--remount-ro";
    case wire::MOUNT_FILE: return "--file";
    case wire::MOUNT_BIND_DATA: return "--bind-data";
    case wire::MOUNT_RO_BIND_DATA: return "--ro-bind-data";
    case wire::MOUNT_CHMOD: return "--chmod";
    case wire::MOUNT_LOCK_FILE: return "--lock-file";
    default: return "mount operation";
  }
}

std::optional<std::uint64_t> capability_mask(std::string_view name) {
  static constexpr const char* kNames[] = {
      "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
      "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
      "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
      "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
      "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
      "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"};
  constexpr std::size_t kCount = sizeof(kNames) / sizeof(kNames[0]);
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "ALL") return (std::uint64_t{1} << kCount) - 1;
  if (upper.rfind("CAP_", 0) == 0) upper.erase(0, 4);
  for (std::size_t i = 0; i < kCount; ++i) {
    if (upper == kNames[i]) return std::uint64_t{1} << i;
  }
  return std::nullopt;
}

std::optional<std::string> normalize_destination(std::string_view path) {
  std::string out;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(i, end - i);
    i = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    out += '/';
    out += part;
  }
  if (path.empty()) return std::nullopt;
  if (out.empty()) out = "/";
  return out;
}

Result<Plan> check_request(const auth::Caller& /*caller*/, const wire::Spawn& spawn,
                           SandboxMode mode, const RequestLimits& limits) {
  if (spawn.argv_size() == 0 || spawn.argv(0).empty()) {
    return invalid("no command given: put the command after the options, e.g. -- /bin/true");
  }
  if (auto failure = check_no_nul(spawn.argv(), "argv")) return *failure;
  if (auto failure = check_no_nul(spawn.env(), "environment")) return *failure;
  if (auto failure = check_environment(spawn)) return *failure;
  if (has_nul(spawn.chdir()) || has_nul(spawn.cwd_path()) || has_nul(spawn.hostname())) {
    return invalid("--chdir, the working directory and --hostname must not contain NUL bytes");
  }
  if (!spawn.hostname().empty() && !spawn.unshare().uts()) {
    return invalid("--hostname needs --unshare-uts");
  }
  if (spawn.hostname().size() > 64) return invalid("--hostname is longer than 64 bytes");
  if (static_cast<std::size_t>(spawn.mounts_size()) > limits.max_mounts) {
    return invalid("more than " + std::to_string(limits.max_mounts) + " mount operations");
  }

  if (auto failure = check_combinations(spawn)) return *failure;

  Plan plan;
  plan.mode = mode;
  plan.unshare_net = spawn.unshare().net();
  plan.unshare_ipc = spawn.unshare().ipc();
  plan.unshare_uts = spawn.unshare().uts();
  plan.unshare_cgroup = spawn.unshare().cgroup();
  int dev_count = 0;
  for (const wire::MountOp& op : spawn.mounts()) {
    auto step = check_mount(op, limits);
    if (!step) return step.failure();
    if (step.value().kind == wire::MOUNT_DEV && ++dev_count > 1) {
      return invalid("--dev may be given only once per sandbox");
    }
    plan.mounts.push_back(std::move(step.value()));
  }
  plan.argv.assign(spawn.argv().begin(), spawn.argv().end());
  plan.env.assign(spawn.env().begin(), spawn.env().end());
  plan.chdir = spawn.chdir();
  // Only an absolute working directory is meaningful inside the sandbox.
  if (!spawn.cwd_path().empty() && spawn.cwd_path()[0] == '/') plan.cwd_path = spawn.cwd_path();
  plan.hostname = spawn.hostname();
  plan.as_pid_1 = spawn.as_pid_1();
  if (has_nul(spawn.argv0())) return invalid("--argv0 must not contain NUL bytes");
  plan.argv0 = spawn.argv0();
  if (auto failure = check_ids(spawn)) return *failure;
  if (spawn.has_uid()) plan.uid_inside = spawn.uid();
  if (spawn.has_gid()) plan.gid_inside = spawn.gid();
  for (const std::string& name : spawn.cap_add()) {
    std::optional<std::uint64_t> mask = capability_mask(name);
    if (!mask) {
      return invalid("--cap-add " + name + ": unknown capability (use names like CAP_NET_ADMIN, or ALL)");
    }
    plan.capabilities_inside |= *mask;
  }
  for (std::uint32_t index : spawn.seccomp_fds()) {
    if (index < kFirstDataFd) {
      return invalid("seccomp_fds names fd " + std::to_string(index) +
                     ", which is not a data fd (those start at 4)");
    }
    plan.client_filter_fds.push_back(index - kFirstDataFd);
  }
  return plan;
}

}  // namespace nsbroker::policy
