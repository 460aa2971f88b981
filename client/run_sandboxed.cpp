#include "client/run_sandboxed.h"

#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "client/daemon_session.h"
#include "client/forwarded_signals.h"
#include "client/process_setup.h"
#include "client/served_fds.h"
#include "client/socket_path.h"
#include "client/working_directory.h"

namespace nsbroker::client {

int run_sandboxed(RunOptions& options) {
  ignore_sigpipe();
  if (options.spawn.die_with_parent()) die_with_parent();
  ensure_standard_fds_open();
  check_named_fds_open(options);
  // Before the signals are taken over: until the sandbox is asked for, Ctrl-C simply ends us.
  wait_for_block_fds(options);
  // Blocked before connecting, so a Ctrl-C from here on is forwarded rather than lost.
  ForwardedSignals signals;
  DaemonSession session = DaemonSession::connect(
      daemon_socket_path(options.socket_path, std::getenv("NSBROKER_SOCKET")));
  WorkingDirectory cwd = capture_working_directory();
  options.spawn.set_cwd_path(cwd.path);
  std::vector<int> attached_fds = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, cwd.fd.get()};
  attached_fds.insert(attached_fds.end(), options.data_fds.begin(), options.data_fds.end());
  StatusFds status(options);
  session.send_request(options.spawn, attached_fds);
  // --sync-fd needs nothing more: this process holds it until the sandbox has ended.
  return session.wait_for_exit(signals, status.wanted() ? &status : nullptr);
}

}  // namespace nsbroker::client
