#include "dbus/bus_caller.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sandbox/syscalls.h"

namespace nsbroker::dbus {
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

Failure unusable_bus(const std::string& why) {
  return fail(wire::ERROR_INTERNAL, "the bus did not identify the caller: " + why);
}

struct ProcessIds {
  uid_t euid = 0;
  gid_t egid = 0;
};

// The ids of the process behind `pidfd` (which is `pid` in our pid namespace).
// PIDFD_GET_INFO where the kernel has it; before 6.13 the process's status file, read only
// after the pidfd pinned the process and accepted only if the pidfd still shows it alive
// afterwards — so the file read was that very process's, not a recycled pid's. The ids only
// confirm what the bus said; they never widen it.
std::optional<ProcessIds> process_ids(int pidfd, pid_t pid, std::string& why) {
  PidfdInfo info{};
  info.mask = kPidfdInfoCreds;
  if (::ioctl(pidfd, kPidfdGetInfo, &info) == 0 && (info.mask & kPidfdInfoCreds)) {
    return ProcessIds{info.euid, info.egid};
  }
  if (errno == ESRCH) {
    why = "the calling process has exited";
    return std::nullopt;
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  std::optional<uid_t> euid;
  std::optional<gid_t> egid;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    unsigned long real = 0, effective = 0;
    fields >> key >> real >> effective;
    if (!fields) continue;
    if (key == "Uid:") euid = static_cast<uid_t>(effective);
    if (key == "Gid:") egid = static_cast<gid_t>(effective);
  }
  if (!euid || !egid || nsbroker::sys::pidfd_send_signal(pidfd, 0) < 0) {
    why = "the calling process has exited";
    return std::nullopt;
  }
  return ProcessIds{*euid, *egid};
}

}  // namespace

Result<BusCredentials> parse_credentials(const std::map<std::string, sdbus::Variant>& answer) {
  BusCredentials credentials;
  try {
    auto uid = answer.find("UnixUserID");
    if (uid == answer.end() || !uid->second.containsValueOfType<std::uint32_t>()) {
      return unusable_bus("no UnixUserID");
    }
    credentials.uid = uid->second.get<std::uint32_t>();
    auto groups = answer.find("UnixGroupIDs");
    if (groups == answer.end() || !groups->second.containsValueOfType<std::vector<std::uint32_t>>()) {
      return unusable_bus("no UnixGroupIDs");
    }
    for (std::uint32_t gid : groups->second.get<std::vector<std::uint32_t>>()) {
      credentials.groups.push_back(gid);
    }
    auto pid = answer.find("ProcessID");
    if (pid == answer.end() || !pid->second.containsValueOfType<std::uint32_t>()) {
      return unusable_bus("no ProcessID");
    }
    credentials.pid = static_cast<pid_t>(pid->second.get<std::uint32_t>());
    auto pidfd = answer.find("ProcessFD");
    if (pidfd != answer.end() && pidfd->second.containsValueOfType<sdbus::UnixFd>()) {
      sdbus::UnixFd fd = pidfd->second.get<sdbus::UnixFd>();
      credentials.pidfd.reset(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
    }
  } catch (const sdbus::Error& error) {
    return unusable_bus(error.getMessage());
  }
  if (credentials.pid <= 0) return unusable_bus("ProcessID " + std::to_string(credentials.pid));
  return credentials;
}

Result<auth::Caller> make_caller(BusCredentials credentials) {
  UniqueFd pidfd = std::move(credentials.pidfd);
  if (!pidfd) {
    pidfd.reset(nsbroker::sys::pidfd_open(credentials.pid));
    if (!pidfd) {
      return denied("pidfd_open(" + std::to_string(credentials.pid) + "): " + std::strerror(errno));
    }
  }
  std::string why;
  auto ids = process_ids(pidfd.get(), credentials.pid, why);
  if (!ids) return denied(why);
  if (ids->euid != credentials.uid) {
    return denied("process " + std::to_string(credentials.pid) + " now runs as uid " +
                  std::to_string(ids->euid) + ", not as uid " + std::to_string(credentials.uid) +
                  " which connected to the bus");
  }
  if (std::find(credentials.groups.begin(), credentials.groups.end(), ids->egid) ==
      credentials.groups.end()) {
    return denied("process " + std::to_string(credentials.pid) + " now runs as gid " +
                  std::to_string(ids->egid) + ", which is not among the groups it connected with");
  }
  auth::Caller caller;
  caller.uid = credentials.uid;
  caller.gid = ids->egid;
  caller.pid = credentials.pid;
  // Supplementary groups exclude the primary one, as SO_PEERGROUPS reports them.
  for (gid_t gid : credentials.groups) {
    if (gid != caller.gid) caller.groups.push_back(gid);
  }
  caller.pidfd = std::make_shared<UniqueFd>(std::move(pidfd));
  caller.transport = "dbus";
  return caller;
}

}  // namespace nsbroker::dbus
