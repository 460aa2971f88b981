#include "client/daemon_session.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "client/client_error.h"
#include "client/conversation.h"
#include "client/forwarded_signals.h"
#include "client/version.h"
#include "wire/message_codec.h"
#include "wire/record_io.h"

namespace nsbroker::client {
namespace {

ClientError unreachable(const std::string& socket_path, int error) {
  return ClientError("cannot reach nsbrokerd at " + socket_path + ": " + std::strerror(error) +
                     " — is the service running?");
}

// A closed connection is not reported when sending: the daemon may have queued its reason
// (Error, or a Hello with another version) before closing, and reading shows it.
bool connection_lost(int error) { return error == EPIPE || error == ECONNRESET; }

ClientError send_failure(int error, std::size_t bytes) {
  if (error == EMSGSIZE) {
    return ClientError("the request is too large (" + std::to_string(bytes) +
                       " bytes; nsbrokerd accepts at most " +
                       std::to_string(wire::kMaxRecordBytes) +
                       "): shorten the command line or the environment");
  }
  return system_error("cannot send to nsbrokerd", error);
}

// When the daemon closes while our pipelined records are still unread, the kernel reports
// ECONNRESET once, ahead of the records the daemon sent before closing (its Error, say).
// Reading on shows them; a plain close is reported afterwards.
bool reset_ahead_of_queued_records(const wire::ReceiveResult& received) {
  return received.status == wire::ReceiveStatus::kClosed && received.error == ECONNRESET;
}

wire::ClientMessage hello_message() {
  wire::ClientMessage message;
  wire::Hello& hello = *message.mutable_hello();
  hello.set_protocol_version(wire::kProtocolVersion);
  hello.set_software(std::string(kSoftware));
  return message;
}

wire::ServerMessage decode(const wire::ReceiveResult& received) {
  if (received.status == wire::ReceiveStatus::kClosed) {
    throw ClientError("lost connection to nsbrokerd");
  }
  if (received.status != wire::ReceiveStatus::kRecord) {
    throw ClientError("bad record from nsbrokerd: " + wire::describe(received));
  }
  wire::ServerMessage message;
  if (!wire::decode_server_message(received.record.bytes, message)) {
    throw ClientError("nsbrokerd sent a record that is not a ServerMessage");
  }
  return message;
}

}  // namespace

DaemonSession DaemonSession::connect(const std::string& socket_path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(address.sun_path)) throw unreachable(socket_path, ENAMETOOLONG);
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());

  UniqueFd socket(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!socket) throw unreachable(socket_path, errno);
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw unreachable(socket_path, errno);
  }
  return DaemonSession(std::move(socket));
}

void DaemonSession::send_request(const wire::Spawn& spawn, std::span<const int> fds) {
  send(hello_message());
  wire::ClientMessage request;
  *request.mutable_spawn() = spawn;
  send(request, fds);
}

int DaemonSession::wait_for_exit(ForwardedSignals& signals, SandboxObserver* observer) {
  Conversation conversation;
  for (;;) {
    wait_for_activity(signals.fd());
    forward(signals.drain());
    wire::ReceiveResult received = wire::receive_record(socket_.get());
    if (received.status == wire::ReceiveStatus::kWouldBlock) continue;
    if (reset_ahead_of_queued_records(received)) continue;
    wire::ServerMessage message = decode(received);
    if (message.has_started() && !received.record.fds.empty()) {
      sandbox_pidfd_ = std::move(received.record.fds.front());
    }
    Reaction reaction = conversation.on_message(message);
    if (reaction.kind == Reaction::Kind::kFail) throw ClientError(reaction.error);
    if (observer != nullptr && message.has_started()) {
      observer->started(sandbox_pidfd_ ? sandbox_pidfd_.get() : -1, message.started().pid());
    }
    if (reaction.kind == Reaction::Kind::kExit) {
      if (observer != nullptr) observer->exited(reaction.exit_status);
      return reaction.exit_status;
    }
  }
}

void DaemonSession::send(const wire::ClientMessage& message, std::span<const int> fds) {
  std::string bytes = wire::encode(message);
  int error = wire::send_record(socket_.get(), bytes, fds);
  if (error != 0 && !connection_lost(error)) throw send_failure(error, bytes.size());
}

void DaemonSession::wait_for_activity(int signal_fd) {
  pollfd watched[] = {{socket_.get(), POLLIN, 0}, {signal_fd, POLLIN, 0}};
  if (::poll(watched, std::size(watched), -1) < 0 && errno != EINTR) {
    throw system_error("poll", errno);
  }
}

void DaemonSession::forward(std::span<const int> signals) {
  for (int signal : signals) {
    wire::ClientMessage message;
    message.mutable_signal()->set_signal(signal);
    send(message);
  }
}

}  // namespace nsbroker::client
