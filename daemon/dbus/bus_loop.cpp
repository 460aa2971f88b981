#include "dbus/bus_loop.h"

#include <fcntl.h>
#include <poll.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>

#include <sdbus-c++/Error.h>

namespace nsbroker::dbus {

BusLoop::BusLoop(boost::asio::io_context& io, sdbus::IConnection& connection,
                 std::function<void(const std::string&)> on_lost)
    : io_(io), connection_(connection), on_lost_(std::move(on_lost)), fd_(io), timer_(io) {}

BusLoop::~BusLoop() {
  *alive_ = false;
  stop();
}

void BusLoop::start() {
  try {
    auto poll = connection_.getEventLoopPollData();
    // A duplicate: asio closes what it owns, and the fd belongs to sd-bus.
    int fd = ::fcntl(poll.fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return lost(std::string("cannot duplicate the bus fd: ") + std::strerror(errno));
    fd_.assign(fd);
  } catch (const sdbus::Error& error) {
    return lost(error.getMessage());
  }
  // Messages may already wait in sd-bus's queue (read while requesting the name).
  dispatch();
}

void BusLoop::wake() {
  if (stopped_ || wake_posted_) return;
  wake_posted_ = true;
  boost::asio::post(io_, [this, alive = alive_] {
    if (!*alive) return;
    wake_posted_ = false;
    if (!stopped_) dispatch();
  });
}

void BusLoop::stop() {
  if (stopped_) return;
  stopped_ = true;
  ++generation_;
  boost::system::error_code ignored;
  fd_.cancel(ignored);
  fd_.close(ignored);
  timer_.cancel();
}

void BusLoop::dispatch() {
  if (stopped_) return;
  try {
    // Each call handles at most one message (and runs its callbacks); repeat until sd-bus
    // says it needs the fd again.
    while (!stopped_ && connection_.processPendingRequest()) {
    }
  } catch (const sdbus::Error& error) {
    return lost(error.getMessage());
  }
  if (!stopped_) arm();
}

void BusLoop::arm() {
  sdbus::IConnection::PollData poll;
  try {
    poll = connection_.getEventLoopPollData();
  } catch (const sdbus::Error& error) {
    return lost(error.getMessage());
  }
  unsigned generation = ++generation_;
  boost::system::error_code ignored;
  fd_.cancel(ignored);
  timer_.cancel();
  auto on_ready = [this, generation, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive || ec == boost::asio::error::operation_aborted || generation != generation_) return;
    dispatch();
  };
  fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read, on_ready);
  if (poll.events & POLLOUT) fd_.async_wait(boost::asio::posix::stream_descriptor::wait_write, on_ready);
  if (poll.timeout_usec != std::numeric_limits<std::uint64_t>::max()) {
    // sd-bus's timeouts are CLOCK_MONOTONIC microseconds, steady_clock's epoch on Linux.
    timer_.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::microseconds(poll.timeout_usec))));
    timer_.async_wait(on_ready);
  }
}

void BusLoop::lost(const std::string& why) {
  if (stopped_) return;
  stop();
  if (on_lost_) {
    // Not from inside sd-bus: the handler may destroy the connection.
    boost::asio::post(io_, [on_lost = on_lost_, why, alive = alive_] {
      if (*alive) on_lost(why);
    });
  }
}

}  // namespace nsbroker::dbus
