// IdleExit: when nothing has kept nsbrokerd busy (Activity at zero) for `timeout`, call
// `on_idle`. Any activity cancels the countdown; the next idle period starts it afresh.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>

namespace nsbroker::service {

class IdleExit {
 public:
  IdleExit(boost::asio::io_context& io, std::chrono::seconds timeout, std::function<void()> on_idle);

  // Tell it every change of the activity count.
  void update(std::size_t active);

 private:
  void arm();

  boost::asio::steady_timer timer_;
  std::chrono::seconds timeout_;
  std::function<void()> on_idle_;
  bool armed_ = false;
  unsigned generation_ = 0;
};

}  // namespace nsbroker::service
