#include "auth/peer_credentials.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sandbox/syscalls.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

namespace nsbroker::auth {
namespace {

Failure identity_failure(const char* what) {
  return fail(wire::ERROR_INTERNAL, std::string("cannot identify the caller: ") + what + ": " +
                                        std::strerror(errno));
}

// Pre-6.5 kernels: open a pidfd by pid, then make sure it is still the connecting process
// (same uid, still alive after we looked), so a recycled pid cannot lend us another identity.
int pidfd_by_pid(const ucred& cred) {
  int pidfd = nsbroker::sys::pidfd_open(cred.pid);
  if (pidfd < 0) return -1;
  struct stat st {};
  std::string proc = "/proc/" + std::to_string(cred.pid);
  if (::stat(proc.c_str(), &st) < 0 || st.st_uid != cred.uid ||
      nsbroker::sys::pidfd_send_signal(pidfd, 0) < 0) {
    ::close(pidfd);
    errno = ESRCH;
    return -1;
  }
  return pidfd;
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
    pidfd = pidfd_by_pid(cred);
    if (pidfd < 0) return identity_failure("pidfd_open");
  }
  caller.pidfd = std::make_shared<UniqueFd>(pidfd);
  if (!read_groups(socket_fd, caller.groups)) return identity_failure("SO_PEERGROUPS");
  return caller;
}

}  // namespace nsbroker::auth
