// BusLoop: drives an sdbus-c++ connection from the daemon's Boost.Asio event loop, in the
// same thread — no sdbus-c++ event-loop thread, and nothing here ever waits on the bus.
//
// The bus fd (a duplicate of it) is watched with async_wait for what sd-bus asks
// (readable, and writable while output is queued) and sd-bus's own timeout runs on a
// steady_timer (CLOCK_MONOTONIC, the clock sd-bus uses). On any of them: process every
// pending message, then arm again. Code that sends outside of a dispatch calls wake().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include <sdbus-c++/IConnection.h>

namespace nsbroker::dbus {

class BusLoop {
 public:
  // `on_lost` runs once, from the event loop, when the connection fails.
  BusLoop(boost::asio::io_context& io, sdbus::IConnection& connection,
          std::function<void(const std::string& why)> on_lost);
  ~BusLoop();
  BusLoop(const BusLoop&) = delete;
  BusLoop& operator=(const BusLoop&) = delete;

  void start();
  // Flushes what was queued outside of a dispatch (replies, signals) and re-arms.
  void wake();
  // Stops watching; the connection itself is left alone.
  void stop();
  // Processes every message sd-bus already holds, now (used while exiting on idle).
  void dispatch();

 private:
  void arm();
  void lost(const std::string& why);

  boost::asio::io_context& io_;
  sdbus::IConnection& connection_;
  std::function<void(const std::string&)> on_lost_;
  boost::asio::posix::stream_descriptor fd_;
  boost::asio::steady_timer timer_;
  unsigned generation_ = 0;
  bool wake_posted_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace nsbroker::dbus
