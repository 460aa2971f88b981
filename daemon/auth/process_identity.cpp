#include "auth/process_identity.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>

#include "sandbox/syscalls.h"

namespace nsbroker::auth {
namespace {

// PIDFD_GET_INFO (Linux 6.13): the credentials of a pidfd's process, straight from the kernel.
// Debian 12's headers predate it; this is the first (64-byte) version of the structure,
// which later kernels still accept.
struct PidfdInfo {
  std::uint64_t mask;
  std::uint64_t cgroupid;
  std::uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  std::uint32_t spare0[1];
};
static_assert(sizeof(PidfdInfo) == 64);
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);
constexpr std::uint64_t kPidfdInfoCreds = 1u << 1;

Failure denied(const std::string& why) {
  return fail(wire::ERROR_DENIED, "cannot confirm the caller's identity: " + why);
}

Failure exited(pid_t pid) {
  return denied("process " + std::to_string(pid) + " has exited (its pid may already name "
                "another process)");
}

// A file of /proc/PID, read through the directory fd (which stays bound to that process: once
// it has exited, reads fail instead of reaching a process that took its pid).
std::optional<std::string> read_proc_file(int proc_dir, const char* name) {
  UniqueFd fd(::openat(proc_dir, name, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string text;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  if (text.empty()) return std::nullopt;
  return text;
}

std::optional<ProcessIds> ids_from_status(const std::string& status) {
  std::istringstream lines(status);
  std::optional<uid_t> euid;
  std::optional<gid_t> egid;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string key;
    unsigned long real = 0, effective = 0;
    fields >> key >> real >> effective;
    if (!fields) continue;
    if (key == "Uid:") euid = static_cast<uid_t>(effective);
    if (key == "Gid:") egid = static_cast<gid_t>(effective);
  }
  if (!euid || !egid) return std::nullopt;
  return ProcessIds{*euid, *egid};
}

// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. The
// command name (field 2) is in parentheses and may hold spaces and ')': the fields that
// follow start after the last ')'.
std::optional<unsigned long long> start_ticks(const std::string& stat) {
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int number = 3; number < 22; ++number) {
    if (!(fields >> field)) return std::nullopt;
  }
  unsigned long long ticks = 0;
  if (!(fields >> ticks)) return std::nullopt;
  return ticks;
}

}  // namespace

std::uint64_t boottime_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000000u + static_cast<std::uint64_t>(now.tv_nsec);
}

bool still_alive(int pidfd) { return nsbroker::sys::pidfd_send_signal(pidfd, 0) == 0; }

Result<ProcessIds> confirm_process(int pidfd, const ClaimedProcess& claim) {
  std::string where = "/proc/" + std::to_string(claim.pid);
  UniqueFd proc_dir(::open(where.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  // The pidfd's process alive after /proc/PID was opened: until then the pid was its own, so
  // the directory is that process's (and stays so; see read_proc_file).
  if (!proc_dir || !still_alive(pidfd)) return exited(claim.pid);

  std::optional<ProcessIds> ids;
  PidfdInfo info{};
  info.mask = kPidfdInfoCreds;
  if (::ioctl(pidfd, kPidfdGetInfo, &info) == 0 && (info.mask & kPidfdInfoCreds)) {
    ids = ProcessIds{info.euid, info.egid};
  } else if (errno == ESRCH) {
    return exited(claim.pid);
  } else if (auto status = read_proc_file(proc_dir.get(), "status")) {
    ids = ids_from_status(*status);  // kernels before 6.13
  }
  if (!ids) return exited(claim.pid);
  if (ids->euid != claim.uid) {
    return denied("process " + std::to_string(claim.pid) + " runs as uid " +
                  std::to_string(ids->euid) + ", not as uid " + std::to_string(claim.uid) +
                  " which " + claim.reported_by + " reported for the caller");
  }

  if (claim.existed_by_ns != 0) {
    auto stat = read_proc_file(proc_dir.get(), "stat");
    std::optional<unsigned long long> ticks = stat ? start_ticks(*stat) : std::nullopt;
    long per_second = ::sysconf(_SC_CLK_TCK);
    if (!ticks || per_second <= 0) return exited(claim.pid);
    // Ticks are whole: this is the start rounded down, so a process that started in time is
    // never refused (one that started later within the same tick, < 10 ms, is not caught).
    std::uint64_t started_ns = *ticks * (1000000000ull / static_cast<std::uint64_t>(per_second));
    if (started_ns > claim.existed_by_ns) {
      return denied("process " + std::to_string(claim.pid) + " started after the request was " +
                    "made, so its pid was reused: the caller has exited; try again");
    }
  }
  // Everything above was read from the pidfd's process, and it is still that process.
  if (!still_alive(pidfd)) return exited(claim.pid);
  return *ids;
}

Result<PinnedProcess> open_claimed_process(const ClaimedProcess& claim) {
  UniqueFd pidfd(nsbroker::sys::pidfd_open(claim.pid));
  if (!pidfd) {
    if (errno == ESRCH) return exited(claim.pid);
    return denied("pidfd_open(" + std::to_string(claim.pid) + "): " + std::strerror(errno));
  }
  auto ids = confirm_process(pidfd.get(), claim);
  if (!ids) return ids.failure();
  return PinnedProcess{std::move(pidfd), ids.value()};
}

}  // namespace nsbroker::auth
