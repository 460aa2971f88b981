#include "auth/caller_context.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "auth/process_identity.h"

namespace nsbroker::auth {
namespace {

Failure context_failure(const std::string& what) {
  return fail(wire::ERROR_INTERNAL,
              "cannot read the caller's " + what + ": " + std::strerror(errno));
}

// The whole of a small /proc file, or std::nullopt.
std::optional<std::string> read_small_file(int dir_fd, const char* name) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buffer, sizeof(buffer))) > 0) text.append(buffer, static_cast<std::size_t>(n));
  if (n < 0) return std::nullopt;
  return text;
}

// "Umask:\t0022" in /proc/PID/status (Linux 4.7+).
std::optional<mode_t> umask_from_status(const std::string& status) {
  std::size_t at = status.find("\nUmask:");
  if (at == std::string::npos) return std::nullopt;
  return static_cast<mode_t>(std::strtoul(status.c_str() + at + 7, nullptr, 8) & 0777);
}

// One value column of /proc/PID/limits: a number or "unlimited".
std::optional<rlim_t> parse_limit(std::string_view text) {
  if (text == "unlimited") return RLIM_INFINITY;
  rlim_t value = 0;
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<rlim_t>(c - '0');
  }
  return value;
}

// /proc/PID/limits lists the resources in RLIMIT_* order, after a header line; its columns
// start at fixed offsets ("%-25s %-20s %-20s"). Read there, not with prlimit(2): that needs
// CAP_SYS_RESOURCE towards another user's process, /proc only the daemon's ptrace access.
std::optional<Failure> parse_limits(const std::string& text, CallerContext& context) {
  std::size_t start = text.find('\n');
  for (std::size_t resource = 0; resource < context.rlimits.size(); ++resource) {
    if (start == std::string::npos) return fail(wire::ERROR_INTERNAL, "cannot read the caller's resource limits: short /proc/PID/limits");
    std::size_t end = text.find('\n', start + 1);
    std::string_view line(text.data() + start + 1, (end == std::string::npos ? text.size() : end) - start - 1);
    auto column = [&](std::size_t at) {
      std::string_view rest = at < line.size() ? line.substr(at) : std::string_view();
      return rest.substr(0, rest.find(' '));
    };
    auto soft = parse_limit(column(26));
    auto hard = parse_limit(column(47));
    if (!soft || !hard) {
      return fail(wire::ERROR_INTERNAL, "cannot read the caller's resource limits: unexpected line \"" + std::string(line) + "\"");
    }
    context.rlimits[resource] = {*soft, *hard};
    start = end;
  }
  return std::nullopt;
}

std::optional<Failure> read_limits(int pid_dir, pid_t pid, CallerContext& context) {
  auto limits = read_small_file(pid_dir, "limits");
  if (!limits) return context_failure("resource limits");
  if (auto failure = parse_limits(*limits, context)) return failure;
  errno = 0;
  int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(pid));
  if (nice == -1 && errno != 0) return context_failure("nice value");
  context.nice = nice;
  return std::nullopt;
}

// NS_GET_PARENT walks up; it refuses (EPERM) above the daemon's own namespace.
std::optional<Failure> read_pid_namespaces(int proc_dir_fd, int pid_dir, CallerContext& context) {
  struct stat own {};
  if (::fstatat(proc_dir_fd, "self/ns/pid", &own, 0) < 0) return context_failure("pid namespace");
  UniqueFd ns(::openat(pid_dir, "ns/pid", O_RDONLY | O_CLOEXEC));
  if (!ns) return context_failure("pid namespace");
  for (int depth = 0; depth < 64; ++depth) {  // the kernel nests at most 32
    struct stat st {};
    if (::fstat(ns.get(), &st) < 0) return context_failure("pid namespace");
    if (st.st_ino == own.st_ino && st.st_dev == own.st_dev) return std::nullopt;
    context.pid_namespaces.push_back(st.st_ino);
    UniqueFd parent(::ioctl(ns.get(), NS_GET_PARENT));
    if (!parent) return errno == EPERM ? std::nullopt : std::optional(context_failure("pid namespace"));
    ns = std::move(parent);
  }
  return std::nullopt;
}

}  // namespace

Result<CallerContext> read_caller_context(int proc_dir_fd, const Caller& caller,
                                          const CgroupMounts& cgroups) {
  CallerContext context;
  std::string pid_text = std::to_string(caller.pid);
  UniqueFd pid_dir(::openat(proc_dir_fd, pid_text.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!pid_dir) return context_failure("/proc entry");
  // Why this is safe: the root is the caller's own; O_PATH opens no file in it and
  // follows no path inside it, so nothing of the caller's can stall us here.
  context.root.reset(::openat(pid_dir.get(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!context.root) return context_failure("root directory");
  auto status = read_small_file(pid_dir.get(), "status");
  auto umask = status ? umask_from_status(*status) : std::nullopt;
  if (!umask) return context_failure("umask");
  context.umask = *umask;
  auto cgroup_text = read_small_file(pid_dir.get(), "cgroup");
  auto own_cgroup_text = read_small_file(proc_dir_fd, "self/cgroup");
  if (!cgroup_text || !own_cgroup_text) return context_failure("cgroups");
  auto procs = cgroups.procs_files(*cgroup_text, *own_cgroup_text);
  if (!procs) return procs.failure();
  context.cgroup_procs = std::move(procs.value());
  if (auto failure = read_limits(pid_dir.get(), caller.pid, context)) return *failure;
  if (auto failure = read_pid_namespaces(proc_dir_fd, pid_dir.get(), context)) return *failure;
  // Alive after everything was read: /proc/PID and the pid named the pidfd's process all along.
  if (!still_alive(caller.pidfd->get())) {
    return fail(wire::ERROR_INTERNAL, "the calling process went away before its request was read");
  }
  return context;
}

}  // namespace nsbroker::auth
