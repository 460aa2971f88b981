// Per-uid accounting of live sandboxes: a flood from one user never starves another.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <unordered_map>

namespace nsbroker::supervise {

class LiveSandboxes {
 public:
  explicit LiveSandboxes(std::size_t max_per_uid) : max_per_uid_(max_per_uid) {}

  // Counts one more sandbox for `uid` unless it already has the maximum.
  bool try_acquire(uid_t uid);
  void release(uid_t uid);
  std::size_t count(uid_t uid) const;
  std::size_t max_per_uid() const { return max_per_uid_; }

 private:
  std::size_t max_per_uid_;
  std::unordered_map<uid_t, std::size_t> live_;
};

}  // namespace nsbroker::supervise
