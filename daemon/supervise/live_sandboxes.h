// Per-uid accounting of live sandboxes: a flood from one user never starves another.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <unordered_map>

namespace nsbroker::supervise {

class LiveSandboxes {
 public:
  // `max_per_uid`: the daemon-wide ceiling (--max-sandboxes-per-uid); a profile may set less.
  explicit LiveSandboxes(std::size_t max_per_uid) : max_per_uid_(max_per_uid) {}

  // Counts one more sandbox for `uid` unless it already has `limit` (capped by the ceiling).
  bool try_acquire(uid_t uid, std::size_t limit);
  bool try_acquire(uid_t uid) { return try_acquire(uid, max_per_uid_); }
  std::size_t effective_limit(std::size_t limit) const { return limit < max_per_uid_ ? limit : max_per_uid_; }
  void release(uid_t uid);
  std::size_t count(uid_t uid) const;
  std::size_t max_per_uid() const { return max_per_uid_; }

 private:
  std::size_t max_per_uid_;
  std::unordered_map<uid_t, std::size_t> live_;
};

}  // namespace nsbroker::supervise
