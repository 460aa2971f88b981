// The listening socket: a SOCK_SEQPACKET Unix socket at a filesystem path (reachable from
// network-isolated callers), or the one systemd passes (LISTEN_FDS).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <optional>
#include <string>

#include "core/broker.h"
#include "core/result.h"
#include "server/services.h"
#include "wire/unique_fd.h"

namespace nsbroker::server {

// The socket systemd passed (sd_listen_fds protocol), if any. Refuses anything but one
// listening AF_UNIX SOCK_SEQPACKET socket.
Result<std::optional<UniqueFd>> socket_from_systemd();

// Creates the directory (0755), removes a stale socket left by a dead daemon (but refuses if a
// live one answers), binds, makes the socket 0666 and listens.
Result<UniqueFd> listen_on_path(const std::string& path);

// The file-system path listening socket `fd` is bound to (getsockname), canonical — its
// directory's symlinks resolved — since bind sources are judged by the path the kernel
// reports for them. Fails for an abstract or unnamed socket: nothing in a sandbox's mount
// namespace could hide one.
Result<std::string> bound_path(int fd);

class Listener {
 public:
  Listener(boost::asio::io_context& io, UniqueFd socket, Broker& broker);
  void start();

 private:
  void wait_for_connection();
  void accept_all();

  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor socket_;
  Broker& broker_;
};

}  // namespace nsbroker::server
