#include "server/connection.h"

#include <csignal>
#include <cstdio>

#include "auth/peer_credentials.h"
#include "wire/message_codec.h"

namespace nsbroker::server {
namespace {

constexpr std::size_t kSpawnFdCount = 4;  // stdin, stdout, stderr, cwd

}  // namespace

Connection::Connection(boost::asio::io_context& io, int socket_fd, Broker& broker)
    : socket_(io, socket_fd),
      broker_(broker),
      services_(broker.services()),
      activity_(services_.activity) {}

void Connection::start() {
  auto caller = auth::identify_peer(socket_.native_handle());
  if (!caller) {
    services_.log->warn("refusing connection: {}", caller.failure().message);
    return refuse(caller.failure().code, caller.failure().message);
  }
  caller_ = std::move(caller.value());
  services_.log->debug("uid={} pid={}: connected", caller_.uid, caller_.pid);
  wait_for_record();
}

void Connection::wait_for_record() {
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       if (!ec) self->read_record();
                     });
}

void Connection::read_record() {
  if (state_ == State::kClosing) return;
  wire::ReceiveResult received = wire::receive_record(socket_.native_handle());
  switch (received.status) {
    case wire::ReceiveStatus::kWouldBlock: return wait_for_record();
    case wire::ReceiveStatus::kClosed: return peer_gone();
    case wire::ReceiveStatus::kRecord: break;
    default:
      services_.log->warn("uid={} pid={}: bad record: {}", caller_.uid, caller_.pid,
                          wire::describe(received));
      return refuse(wire::ERROR_PROTOCOL, "bad record: " + wire::describe(received));
  }
  wire::ClientMessage message;
  std::string why;
  if (!wire::decode_client_message(received.record.bytes, message, why)) {
    services_.log->warn("uid={} pid={}: {}", caller_.uid, caller_.pid, why);
    return refuse(wire::ERROR_PROTOCOL, why);
  }
  handle(message, received.record);
  if (state_ != State::kClosing) wait_for_record();
}

void Connection::handle(const wire::ClientMessage& message, wire::Record& record) {
  if (message.body_case() != wire::ClientMessage::kSpawn && !record.fds.empty()) {
    return refuse(wire::ERROR_PROTOCOL, "only a Spawn record may carry file descriptors");
  }
  switch (message.body_case()) {
    case wire::ClientMessage::kHello:
      if (state_ != State::kAwaitHello) return refuse(wire::ERROR_PROTOCOL, "unexpected Hello");
      return handle_hello(message.hello());
    case wire::ClientMessage::kSpawn:
      if (state_ != State::kAwaitSpawn) {
        return refuse(wire::ERROR_PROTOCOL, state_ == State::kAwaitHello
                                                ? "Spawn before Hello"
                                                : "only one Spawn per connection");
      }
      return handle_spawn(message.spawn(), record);
    case wire::ClientMessage::kSignal:
      if (state_ != State::kRunning) return refuse(wire::ERROR_PROTOCOL, "Signal before Spawn");
      return handle_signal(message.signal());
    case wire::ClientMessage::BODY_NOT_SET: break;
  }
  refuse(wire::ERROR_PROTOCOL, "empty message");
}

void Connection::handle_hello(const wire::Hello& hello) {
  if (hello.protocol_version() != wire::kProtocolVersion) {
    return refuse(wire::ERROR_UNSUPPORTED_VERSION,
                  "client speaks protocol " + std::to_string(hello.protocol_version()) +
                      ", this nsbrokerd speaks " + std::to_string(wire::kProtocolVersion) +
                      ": install matching nsbroker and nsbrokerd versions");
  }
  wire::ServerMessage reply;
  reply.mutable_hello()->set_protocol_version(wire::kProtocolVersion);
  reply.mutable_hello()->set_software("nsbrokerd " NSBROKER_VERSION);
  send(reply);
  state_ = State::kAwaitSpawn;
}

void Connection::handle_spawn(const wire::Spawn& spawn, wire::Record& record) {
  if (record.fds.size() < kSpawnFdCount) {
    return refuse(wire::ERROR_PROTOCOL, "Spawn must carry at least 4 file descriptors (stdin, "
                                        "stdout, stderr, cwd), got " +
                                            std::to_string(record.fds.size()));
  }
  sandbox::RequestFds fds;
  for (int i = 0; i < 3; ++i) fds.stdio[i] = record.fds[static_cast<std::size_t>(i)].get();
  fds.cwd = record.fds[3].get();
  for (std::size_t i = kSpawnFdCount; i < record.fds.size(); ++i) fds.data.push_back(record.fds[i].get());
  supervise::RunEvents events;
  // Weak: the connection lives as long as its socket is watched; the run must not keep it
  // (a cycle through run_ would outlive the daemon's event loop at shutdown).
  std::weak_ptr<Connection> weak = shared_from_this();
  events.started = [weak](pid_t pid, int pidfd) {
    if (auto self = weak.lock()) self->on_started(pid, pidfd);
  };
  events.finished = [weak](const std::optional<Failure>& failure,
                           const supervise::ExitStatus& status) {
    if (auto self = weak.lock()) self->on_finished(failure, status);
  };
  auto run = broker_.spawn(caller_, spawn, fds, std::move(events));
  // The children have their copies: the daemon must not keep the caller's stdio open (a
  // reader of the command's stdout would otherwise never see end of file).
  record.fds.clear();
  if (!run) return refuse(run.failure().code, run.failure().message);
  run_ = std::move(run.value());
  state_ = State::kRunning;
}

void Connection::handle_signal(const wire::Signal& signal) {
  if (!Broker::may_forward_signal(signal.signal())) {
    return send_error(wire::ERROR_INVALID_ARGUMENT,
                      "signal " + std::to_string(signal.signal()) + " may not be forwarded");
  }
  if (run_) run_->send_signal(signal.signal());
}

void Connection::on_started(pid_t pid, int pidfd) {
  services_.log->info("uid={} pid={} sandbox={}: started as pid {}", caller_.uid, caller_.pid,
                      run_->id(), pid);
  if (state_ == State::kClosing) return;
  wire::ServerMessage message;
  message.mutable_started()->set_sandbox_id(run_->id());
  message.mutable_started()->set_pid(pid);
  send(message, pidfd);
}

void Connection::on_finished(const std::optional<Failure>& failure,
                             const supervise::ExitStatus& status) {
  std::string id = run_ ? run_->id() : "-";
  if (failure) {
    services_.log->info("uid={} pid={} sandbox={}: setup failed: {}", caller_.uid, caller_.pid, id,
                        failure->message);
    if (state_ != State::kClosing) refuse(failure->code, failure->message);
  } else {
    services_.log->info("uid={} pid={} sandbox={}: exited ({} {}) after {} ms", caller_.uid,
                        caller_.pid, id, status.signaled ? "signal" : "code", status.value,
                        status.duration.count());
    if (state_ != State::kClosing) {
      wire::ServerMessage message;
      wire::Exited* exited = message.mutable_exited();
      if (status.signaled) exited->set_signal(status.value);
      else exited->set_exit_code(status.value);
      exited->set_reason(status.reason);
      exited->mutable_rusage()->set_user_usec(status.usage.ru_utime.tv_sec * 1000000 + status.usage.ru_utime.tv_usec);
      exited->mutable_rusage()->set_system_usec(status.usage.ru_stime.tv_sec * 1000000 + status.usage.ru_stime.tv_usec);
      exited->mutable_rusage()->set_max_rss_kib(status.usage.ru_maxrss);
      send(message);
    }
  }
  close();
  run_.reset();
}

void Connection::send(const wire::ServerMessage& message, int fd) {
  int fds[1] = {fd};
  std::span<const int> attached = fd >= 0 ? std::span<const int>(fds) : std::span<const int>();
  if (int error = wire::send_record(socket_.native_handle(), wire::encode(message), attached)) {
    services_.log->debug("uid={} pid={}: send failed: {}", caller_.uid, caller_.pid,
                         std::strerror(error));
    peer_gone();
  }
}

void Connection::send_error(wire::ErrorCode code, const std::string& message) {
  wire::ServerMessage reply;
  reply.mutable_error()->set_code(code);
  reply.mutable_error()->set_message(message);
  send(reply);
}

void Connection::refuse(wire::ErrorCode code, const std::string& message) {
  if (state_ == State::kClosing) return;
  send_error(code, message);
  close();
}

void Connection::peer_gone() {
  if (run_) run_->kill(wire::EXIT_REASON_CLIENT_GONE);
  close();
}

void Connection::close() {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  // A sandbox still running dies with the connection.
  if (run_) run_->kill(wire::EXIT_REASON_CLIENT_GONE);
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  socket_.close(ignored);
}

}  // namespace nsbroker::server
