#include "dbus/bus_caller.h"

#include <fcntl.h>

#include <algorithm>
#include <cstdint>

#include "auth/process_identity.h"

namespace nsbroker::dbus {
namespace {

Failure denied(const std::string& why) {
  return fail(wire::ERROR_DENIED, "cannot confirm the caller's identity: " + why);
}

Failure unusable_bus(const std::string& why) {
  return fail(wire::ERROR_INTERNAL, "the bus did not identify the caller: " + why);
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

Result<auth::Caller> make_caller(BusCredentials credentials, std::uint64_t call_received_ns) {
  // With ProcessFD the bus pinned the process itself; by ProcessID, the pid may have been
  // recycled since it connected: auth/process_identity.h decides whether it provably was not.
  auth::ClaimedProcess claim{credentials.pid, credentials.uid, 0, "the bus"};
  UniqueFd pidfd = std::move(credentials.pidfd);
  auth::ProcessIds ids;
  if (pidfd) {
    auto confirmed = auth::confirm_process(pidfd.get(), claim);
    if (!confirmed) return confirmed.failure();
    ids = confirmed.value();
  } else {
    claim.existed_by_ns = call_received_ns;
    auto pinned = auth::open_claimed_process(claim);
    if (!pinned) return pinned.failure();
    pidfd = std::move(pinned.value().pidfd);
    ids = pinned.value().ids;
  }
  if (std::find(credentials.groups.begin(), credentials.groups.end(), ids.egid) ==
      credentials.groups.end()) {
    return denied("process " + std::to_string(credentials.pid) + " now runs as gid " +
                  std::to_string(ids.egid) + ", which is not among the groups it connected with");
  }
  auth::Caller caller;
  caller.uid = credentials.uid;
  caller.gid = ids.egid;
  caller.pid = credentials.pid;
  // Supplementary groups exclude the primary one, as SO_PEERGROUPS reports them.
  for (gid_t gid : credentials.groups) {
    if (gid != caller.gid) caller.groups.push_back(gid);
  }
  caller.pidfd = std::make_shared<UniqueFd>(std::move(pidfd));
  caller.transport = "dbus";
  return caller;
}

std::optional<Failure> confirm_same_connection(pid_t pid, uid_t uid, const BusCredentials& again,
                                               int pidfd) {
  if (again.pid != pid || again.uid != uid) {
    return denied("the bus now reports process " + std::to_string(again.pid) + " and uid " +
                  std::to_string(again.uid) + " for the connection that reported process " +
                  std::to_string(pid) + " and uid " + std::to_string(uid));
  }
  if (!auth::still_alive(pidfd)) {
    return denied("process " + std::to_string(pid) + " exited while it was being identified");
  }
  return std::nullopt;
}

}  // namespace nsbroker::dbus
