// Caller: who is asking, as the kernel told us (SO_PEERCRED, SO_PEERPIDFD, SO_PEERGROUPS).
// Never filled from anything the client sent.
#pragma once

#include <sys/types.h>

#include <memory>
#include <vector>

#include "wire/unique_fd.h"

namespace nsbroker::auth {

struct CallerContext;

struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  std::vector<gid_t> groups;        // supplementary groups, all of them
  std::shared_ptr<UniqueFd> pidfd;  // the connecting process; used to join its namespaces
  const char* transport = "socket";  // which front the request came through, for the audit
  // Root, limits, cgroups and PID namespaces of the calling process, read by the Broker when
  // a request arrives (auth/caller_context.h); null before that.
  std::shared_ptr<const CallerContext> context;
};

}  // namespace nsbroker::auth
