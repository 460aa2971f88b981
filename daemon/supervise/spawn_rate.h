// Per-uid spawn rate: a token bucket per user, refilled continuously at `per_minute / 60`
// tokens a second up to `per_minute`. One user's burst never slows another user.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <unordered_map>

namespace nsbroker::supervise {

class SpawnRate {
 public:
  using Clock = std::chrono::steady_clock;

  // True (and one token spent) when `uid` may spawn now under a limit of `per_minute`
  // (0 = unlimited).
  bool try_spawn(uid_t uid, unsigned per_minute, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  std::unordered_map<uid_t, Bucket> buckets_;
};

}  // namespace nsbroker::supervise
