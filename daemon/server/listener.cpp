#include "server/listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "server/connection.h"

namespace nsbroker::server {
namespace {

Failure os_failure(const std::string& what) {
  return fail(wire::ERROR_INTERNAL, what + ": " + std::strerror(errno));
}

bool make_address(const std::string& path, sockaddr_un& address) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return true;
}

int make_directories(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return -1;
  }
  return 0;
}

// Whether a daemon is already serving `address`.
bool someone_listens(const sockaddr_un& address) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  return probe && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address),
                            sizeof(address)) == 0;
}

}  // namespace

Result<std::optional<UniqueFd>> socket_from_systemd() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (!pid || !fds || std::atoi(pid) != ::getpid()) return std::optional<UniqueFd>();
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (std::atoi(fds) != 1) {
    return fail(wire::ERROR_INTERNAL, std::string("expected exactly one socket from systemd, got ") + fds);
  }
  constexpr int kFirstPassedFd = 3;
  int type = 0;
  int listening = 0;
  socklen_t length = sizeof(type);
  ::getsockopt(kFirstPassedFd, SOL_SOCKET, SO_TYPE, &type, &length);
  length = sizeof(listening);
  ::getsockopt(kFirstPassedFd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length);
  if (type != SOCK_SEQPACKET || !listening) {
    return fail(wire::ERROR_INTERNAL, "the socket from systemd is not a listening SOCK_SEQPACKET "
                                      "socket: use ListenSequentialPacket= in nsbrokerd.socket");
  }
  ::fcntl(kFirstPassedFd, F_SETFD, FD_CLOEXEC);
  ::fcntl(kFirstPassedFd, F_SETFL, ::fcntl(kFirstPassedFd, F_GETFL) | O_NONBLOCK);
  return std::optional<UniqueFd>(UniqueFd(kFirstPassedFd));
}

Result<UniqueFd> listen_on_path(const std::string& path) {
  sockaddr_un address;
  if (!make_address(path, address) || path[0] != '/') {
    return fail(wire::ERROR_INTERNAL, "socket path must be absolute and shorter than " +
                                          std::to_string(sizeof(address.sun_path)) + " bytes: " + path);
  }
  if (make_directories(path) < 0) return os_failure("creating the directory of " + path);
  if (someone_listens(address)) {
    return fail(wire::ERROR_INTERNAL, "another nsbrokerd is already listening on " + path);
  }
  ::unlink(path.c_str());  // a stale socket of a daemon that is gone
  UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock) return os_failure("socket");
  if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0) {
    return os_failure("bind " + path);
  }
  // Anyone may connect: identity comes from SO_PEERCRED and policy decides.
  if (::chmod(path.c_str(), 0666) < 0) return os_failure("chmod " + path);
  if (::listen(sock.get(), SOMAXCONN) < 0) return os_failure("listen " + path);
  return sock;
}

Result<std::string> bound_path(int fd) {
  sockaddr_un address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) < 0) {
    return os_failure("getsockname of the listening socket");
  }
  constexpr socklen_t kPathOffset = offsetof(sockaddr_un, sun_path);
  if (address.sun_family != AF_UNIX || length <= kPathOffset || address.sun_path[0] == '\0') {
    return fail(wire::ERROR_INTERNAL,
                "the listening socket is not bound to a file-system path (abstract or unnamed), "
                "so sandboxes could not be kept from reaching it: give it a path (--socket PATH, "
                "or ListenSequentialPacket=/run/nsbroker/nsbroker.sock)");
  }
  std::string path(address.sun_path, ::strnlen(address.sun_path, length - kPathOffset));
  std::size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == std::string::npos || slash + 1 == path.size()) {
    return fail(wire::ERROR_INTERNAL, "the listening socket's path is not absolute: " + path);
  }
  std::string directory = slash == 0 ? "/" : path.substr(0, slash);
  char resolved[PATH_MAX];
  if (::realpath(directory.c_str(), resolved) == nullptr) {
    return os_failure("resolving the directory of the listening socket " + path);
  }
  std::string canonical = resolved;
  if (canonical != "/") canonical += '/';
  return canonical + path.substr(slash + 1);
}

Listener::Listener(boost::asio::io_context& io, UniqueFd socket, Broker& broker)
    : io_(io), socket_(io, socket.release()), broker_(broker) {}

void Listener::start() { wait_for_connection(); }

void Listener::wait_for_connection() {
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (!ec) accept_all();
                     });
}

void Listener::accept_all() {
  while (true) {
    int fd = ::accept4(socket_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN) broker_.services().log->warn("accept: {}", std::strerror(errno));
      break;
    }
    std::make_shared<Connection>(io_, fd, broker_)->start();
  }
  wait_for_connection();
}

}  // namespace nsbroker::server
