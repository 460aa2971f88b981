// One client connection: Hello -> Spawn -> Started | Error -> Exited, and Signal while the
// sandbox runs. Any protocol violation gets an Error and closes the connection; closing the
// connection kills the sandbox (DESIGN.md §4).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>
#include <string>

#include "auth/caller.h"
#include "core/broker.h"
#include "nsbroker.pb.h"
#include "server/services.h"
#include "service/activity.h"
#include "supervise/sandbox_run.h"
#include "wire/record_io.h"

namespace nsbroker::server {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::io_context& io, int socket_fd, Broker& broker);
  void start();

 private:
  enum class State { kAwaitHello, kAwaitSpawn, kRunning, kClosing };

  void wait_for_record();
  void read_record();
  void handle(const wire::ClientMessage& message, wire::Record& record);
  void handle_hello(const wire::Hello& hello);
  void handle_spawn(const wire::Spawn& spawn, wire::Record& record);
  void handle_signal(const wire::Signal& signal);
  void on_started(pid_t pid, int pidfd);
  void on_finished(const std::optional<Failure>& failure, const supervise::ExitStatus& status);

  void send(const wire::ServerMessage& message, int fd = -1);
  void send_error(wire::ErrorCode code, const std::string& message);
  void refuse(wire::ErrorCode code, const std::string& message);  // error + close
  void peer_gone();
  void close();

  boost::asio::posix::stream_descriptor socket_;
  Broker& broker_;
  const Services& services_;
  auth::Caller caller_;
  State state_ = State::kAwaitHello;
  std::shared_ptr<supervise::SandboxRun> run_;
  service::ActivityHold activity_;  // from accept until the connection and its sandbox are gone
};

}  // namespace nsbroker::server
