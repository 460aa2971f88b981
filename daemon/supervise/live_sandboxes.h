// Per-uid accounting of live sandboxes: a flood from one user never starves another.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <unordered_map>
#include <unordered_set>

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

  // The PID namespaces of running sandboxes (by nsfs inode), to recognise a request that
  // comes from inside one of them.
  void add_pid_namespace(ino_t ns) { pid_namespaces_.insert(ns); }
  void remove_pid_namespace(ino_t ns) { pid_namespaces_.erase(ns); }
  bool is_sandbox_pid_namespace(ino_t ns) const { return pid_namespaces_.count(ns) != 0; }

 private:
  std::size_t max_per_uid_;
  std::unordered_map<uid_t, std::size_t> live_;
  std::unordered_set<ino_t> pid_namespaces_;
};

}  // namespace nsbroker::supervise
