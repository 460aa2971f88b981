#include "service/idle_exit.h"

namespace nsbroker::service {

IdleExit::IdleExit(boost::asio::io_context& io, std::chrono::seconds timeout,
                   std::function<void()> on_idle)
    : timer_(io), timeout_(timeout), on_idle_(std::move(on_idle)) {}

void IdleExit::update(std::size_t active) {
  if (active > 0) {
    if (armed_) {
      armed_ = false;
      ++generation_;
      timer_.cancel();
    }
    return;
  }
  if (!armed_) arm();
}

void IdleExit::arm() {
  armed_ = true;
  unsigned generation = ++generation_;
  timer_.expires_after(timeout_);
  timer_.async_wait([this, generation](const boost::system::error_code& ec) {
    if (ec || generation != generation_) return;
    armed_ = false;
    if (on_idle_) on_idle_();
  });
}

}  // namespace nsbroker::service
