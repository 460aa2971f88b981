// Caller: who is asking, as the kernel told us (SO_PEERCRED, SO_PEERPIDFD, SO_PEERGROUPS).
// Never filled from anything the client sent.
#pragma once

#include <sys/types.h>

#include <memory>
#include <vector>

#include "wire/unique_fd.h"

namespace nsbroker::auth {

struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  std::vector<gid_t> groups;        // supplementary groups, all of them
  std::shared_ptr<UniqueFd> pidfd;  // the connecting process; used to join its namespaces
  const char* transport = "socket";  // which front the request came through, for the audit
};

}  // namespace nsbroker::auth
