#include "auth/peer_credentials.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "auth/process_identity.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

namespace nsbroker::auth {
namespace {

Failure identity_failure(const char* what) {
  return fail(wire::ERROR_INTERNAL, std::string("cannot identify the caller: ") + what + ": " +
                                        std::strerror(errno));
}

bool read_groups(int socket_fd, std::vector<gid_t>& groups) {
  groups.resize(64);
  while (true) {
    socklen_t length = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) == 0) {
      groups.resize(length / sizeof(gid_t));
      return true;
    }
    if (errno != ERANGE || groups.size() >= 65536) return false;
    groups.resize(length / sizeof(gid_t) + 1);
  }
}

}  // namespace

Result<Caller> identify_peer(int socket_fd) {
  ucred cred{};
  socklen_t length = sizeof(cred);
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) < 0) {
    return identity_failure("SO_PEERCRED");
  }
  Caller caller;
  caller.uid = cred.uid;
  caller.gid = cred.gid;
  caller.pid = cred.pid;
  int pidfd = -1;
  length = sizeof(pidfd);
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &length) < 0) {
    if (errno != ENOPROTOOPT) return identity_failure("SO_PEERPIDFD");
    // Pre-6.5 kernels: a pidfd by pid, accepted only if it is provably the connecting process
    // (same uid, started before the connection was accepted, alive after the checks).
    auto pinned = open_claimed_process({cred.pid, cred.uid, boottime_ns(), "SO_PEERCRED"});
    if (!pinned) return pinned.failure();
    pidfd = pinned.value().pidfd.release();
  }
  caller.pidfd = std::make_shared<UniqueFd>(pidfd);
  if (!read_groups(socket_fd, caller.groups)) return identity_failure("SO_PEERGROUPS");
  return caller;
}

}  // namespace nsbroker::auth
