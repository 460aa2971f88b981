#include "sandbox/netns_pool.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/net.h"
#include "sandbox/syscalls.h"
#include "wire/record_io.h"

namespace nsbroker::sandbox {
namespace {

// The factory: one request byte in, one namespace fd out, until the daemon goes away.
[[noreturn]] void run_factory(int channel) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::prctl(PR_SET_NAME, "nsbrokerd-netns", 0, 0, 0);
  sys::close_range(0, static_cast<unsigned>(channel) - 1, 0);
  sys::close_range(static_cast<unsigned>(channel) + 1, ~0U, 0);
  char request;
  while (::read(channel, &request, 1) == 1) {
    // Each unshare gives this process a new namespace; the fd we send keeps it alive.
    if (::unshare(CLONE_NEWNET) < 0 || !bring_up_loopback()) ::_exit(1);
    int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) ::_exit(1);
    int fds[1] = {fd};
    if (wire::send_record(channel, "n", fds) != 0) ::_exit(1);
    ::close(fd);
  }
  ::_exit(0);
}

}  // namespace

Result<std::unique_ptr<NetnsPool>> NetnsPool::start(boost::asio::io_context& io, std::size_t size) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    return fail(wire::ERROR_INTERNAL, std::string("socketpair: ") + std::strerror(errno));
  }
  pid_t pid = ::fork();
  if (pid < 0) return fail(wire::ERROR_INTERNAL, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) run_factory(pair[1]);
  ::close(pair[1]);
  std::unique_ptr<NetnsPool> pool(new NetnsPool(io, pid, UniqueFd(pair[0]), size));
  pool->refill();
  pool->wait_for_delivery();
  return pool;
}

NetnsPool::NetnsPool(boost::asio::io_context& io, pid_t factory, UniqueFd channel, std::size_t size)
    : factory_(factory), channel_(io, channel.release()), size_(size) {
  channel_.non_blocking(true);
}

NetnsPool::~NetnsPool() {
  boost::system::error_code ignored;
  channel_.close(ignored);  // the factory reads end of file and exits
  ::waitpid(factory_, nullptr, 0);
}

UniqueFd NetnsPool::take() {
  UniqueFd fd;
  if (!ready_.empty()) {
    fd = std::move(ready_.front());
    ready_.pop_front();
  }
  refill();
  return fd;
}

void NetnsPool::refill() {
  while (ready_.size() + requested_ < size_) {
    char request = 'n';
    if (::write(channel_.native_handle(), &request, 1) != 1) return;  // factory gone: no pool
    ++requested_;
  }
}

void NetnsPool::wait_for_delivery() {
  channel_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](const boost::system::error_code& ec) {
                        if (!ec) receive_deliveries();
                      });
}

void NetnsPool::receive_deliveries() {
  while (true) {
    wire::ReceiveResult received = wire::receive_record(channel_.native_handle());
    if (received.status == wire::ReceiveStatus::kWouldBlock) break;
    if (received.status != wire::ReceiveStatus::kRecord || received.record.fds.size() != 1) {
      return;  // factory gone: the pool stays empty and sandboxes make their own namespaces
    }
    if (requested_ > 0) --requested_;
    ready_.push_back(std::move(received.record.fds[0]));
  }
  wait_for_delivery();
}

}  // namespace nsbroker::sandbox
