// The signals a user sends to `nsbroker run` (SIGINT, SIGTERM, SIGHUP, SIGQUIT) are meant for
// the sandboxed command. They are blocked and read from a signalfd, so no handler ever runs
// asynchronously; the session forwards each one to the daemon.
#pragma once

#include <vector>

#include "wire/unique_fd.h"

namespace nsbroker::client {

class ForwardedSignals {
 public:
  // Blocks the signals for the rest of the process's life: unblocking later would deliver a
  // pending one with its default action and replace the command's exit status.
  ForwardedSignals();

  int fd() const { return fd_.get(); }

  // The signals received since the last call, in arrival order.
  std::vector<int> drain();

 private:
  UniqueFd fd_;
};

}  // namespace nsbroker::client
