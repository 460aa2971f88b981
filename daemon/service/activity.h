// Activity: how many things keep nsbrokerd busy right now — open socket connections, live
// sandboxes, D-Bus requests in flight. Idle exit (service/idle_exit.h) and the systemd STATUS
// line watch it. Single-threaded, like the event loop that owns it.
//
// A transport takes one ActivityHold per thing it serves and lets it go when that thing ends;
// a null Activity* makes a hold that counts nothing (tests, or a daemon run without the
// service runtime). A hold may outlive its Activity (objects torn down with the io_context
// after main's locals): it then only updates a count nobody reads.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

namespace nsbroker::service {

class Activity {
 public:
  using Listener = std::function<void(std::size_t active)>;

  Activity() : state_(std::make_shared<State>()) {}
  ~Activity() { state_->listener = nullptr; }
  Activity(const Activity&) = delete;
  Activity& operator=(const Activity&) = delete;

  std::size_t active() const { return state_->active; }
  // Called after every change, with the new count.
  void set_listener(Listener listener) { state_->listener = std::move(listener); }

 private:
  friend class ActivityHold;
  struct State {
    std::size_t active = 0;
    Listener listener;
    void acquire() {
      ++active;
      if (listener) listener(active);
    }
    void release() {
      if (active > 0) --active;
      if (listener) listener(active);
    }
  };
  std::shared_ptr<State> state_;
};

// One unit of activity, held for as long as this object (or the one it was moved into) lives.
class ActivityHold {
 public:
  ActivityHold() = default;
  explicit ActivityHold(Activity* activity) {
    if (activity) {
      state_ = activity->state_;
      state_->acquire();
    }
  }
  ActivityHold(const ActivityHold&) = delete;
  ActivityHold& operator=(const ActivityHold&) = delete;
  ActivityHold(ActivityHold&& other) noexcept = default;
  ActivityHold& operator=(ActivityHold&& other) noexcept {
    if (this != &other) {
      reset();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~ActivityHold() { reset(); }

  void reset() {
    if (auto state = std::move(state_)) state->release();
  }

 private:
  std::shared_ptr<Activity::State> state_;
};

}  // namespace nsbroker::service
