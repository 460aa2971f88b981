// The fds a command line names for the client itself to serve, as bubblewrap serves them:
// --block-fd and --userns-block-fd (wait before the sandbox is asked for), --info-fd and
// --json-status-fd (JSON about the running sandbox), --sync-fd (held open until the end).
// They never reach nsbrokerd; the data fds (--file FD, --seccomp FD, ...) do.
#pragma once

#include <optional>

#include "client/daemon_session.h"
#include "client/run_options.h"

namespace nsbroker::client {

// Throws ClientError naming the first fd `options` names (data fds included) that is not
// open: sending a closed fd would fail with a far less helpful EBADF.
void check_named_fds_open(const RunOptions& options);

// --userns-block-fd, then --block-fd: waits until each has data or is at end of file, reads
// one byte of it and closes it. The sandbox is not asked for before both are through.
// (nsbrokerd owns the sandbox's user namespace and writes its id maps itself, so there is no
// earlier moment to stop at than before the request.)
void wait_for_block_fds(const RunOptions& options);

// Writes --info-fd and --json-status-fd as the session reports the sandbox's start and end.
class StatusFds final : public SandboxObserver {
 public:
  explicit StatusFds(const RunOptions& options)
      : info_fd_(options.info_fd), json_status_fd_(options.json_status_fd) {}

  // Whether the command line asked for either; otherwise no observer is needed.
  bool wanted() const { return info_fd_ || json_status_fd_; }

  void started(int pidfd, int daemon_pid) override;
  void exited(int exit_status) override;

 private:
  std::optional<int> info_fd_;
  std::optional<int> json_status_fd_;
};

}  // namespace nsbroker::client
