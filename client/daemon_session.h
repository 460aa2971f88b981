// One connection to nsbrokerd carrying one sandboxed command (DESIGN.md §4).
#pragma once

#include <span>
#include <string>

#include "nsbroker.pb.h"
#include "wire/unique_fd.h"

namespace nsbroker::client {

class ForwardedSignals;

class DaemonSession {
 public:
  // Connects to the SOCK_SEQPACKET socket at `socket_path`; throws ClientError if unreachable.
  static DaemonSession connect(const std::string& socket_path);

  // Sends Hello and then Spawn with `fds` attached, back to back: waiting for the daemon's
  // Hello first would cost a round trip on every command.
  void send_request(const wire::Spawn& spawn, std::span<const int> fds);

  // Reads the daemon's answers, forwarding `signals` meanwhile, until the command ends.
  // Returns the client's exit status; throws ClientError on refusal or a broken conversation.
  int wait_for_exit(ForwardedSignals& signals);

 private:
  explicit DaemonSession(UniqueFd socket) : socket_(std::move(socket)) {}

  void send(const wire::ClientMessage& message, std::span<const int> fds = {});
  void wait_for_activity(int signal_fd);
  void forward(std::span<const int> signals);

  UniqueFd socket_;
  UniqueFd sandbox_pidfd_;  // arrives with Started; held for the command's lifetime
};

}  // namespace nsbroker::client
