// Identity from the kernel: who is on the other end of a Unix socket.
#pragma once

#include "auth/caller.h"
#include "core/result.h"

namespace nsbroker::auth {

// SO_PEERCRED (uid, gid, pid at connect time), SO_PEERPIDFD (a pidfd of that very process;
// on kernels before 6.5, pidfd_open(pid) and a re-check that the process is still the one
// with that uid) and SO_PEERGROUPS (all supplementary groups).
Result<Caller> identify_peer(int socket_fd);

}  // namespace nsbroker::auth
