// One connection to nsbrokerd carrying one sandboxed command (DESIGN.md §4).
#pragma once

#include <span>
#include <string>

#include "nsbroker.pb.h"
#include "wire/unique_fd.h"

namespace nsbroker::client {

class ForwardedSignals;

// What a front wants to hear about the sandbox besides its exit status (the bwrap front's
// --info-fd and --json-status-fd). Called from wait_for_exit(); may throw ClientError.
class SandboxObserver {
 public:
  // The sandbox runs: `pidfd` is the pidfd nsbrokerd sent (-1 if none), `daemon_pid` the pid
  // in the daemon's pid namespace (Started.pid).
  virtual void started(int pidfd, int daemon_pid) = 0;
  // The command ended with `exit_status` (its code, or 128 + the signal).
  virtual void exited(int exit_status) = 0;

 protected:
  ~SandboxObserver() = default;
};

class DaemonSession {
 public:
  // Connects to the SOCK_SEQPACKET socket at `socket_path`; throws ClientError if unreachable.
  static DaemonSession connect(const std::string& socket_path);

  // Sends Hello and then Spawn with `fds` attached, back to back: waiting for the daemon's
  // Hello first would cost a round trip on every command.
  void send_request(const wire::Spawn& spawn, std::span<const int> fds);

  // Reads the daemon's answers, forwarding `signals` meanwhile, until the command ends.
  // Returns the client's exit status; throws ClientError on refusal or a broken conversation.
  // `observer`, when given, hears of the start and the end.
  int wait_for_exit(ForwardedSignals& signals, SandboxObserver* observer = nullptr);

 private:
  explicit DaemonSession(UniqueFd socket) : socket_(std::move(socket)) {}

  void send(const wire::ClientMessage& message, std::span<const int> fds = {});
  void wait_for_activity(int signal_fd);
  void forward(std::span<const int> signals);

  UniqueFd socket_;
  UniqueFd sandbox_pidfd_;  // arrives with Started; held for the command's lifetime
};

}  // namespace nsbroker::client
