#include "supervise/live_sandboxes.h"

namespace nsbroker::supervise {

bool LiveSandboxes::try_acquire(uid_t uid, std::size_t limit) {
  std::size_t& count = live_[uid];
  if (count >= effective_limit(limit)) return false;
  ++count;
  return true;
}

void LiveSandboxes::release(uid_t uid) {
  auto it = live_.find(uid);
  if (it == live_.end()) return;
  if (--it->second == 0) live_.erase(it);
}

std::size_t LiveSandboxes::count(uid_t uid) const {
  auto it = live_.find(uid);
  return it == live_.end() ? 0 : it->second;
}

}  // namespace nsbroker::supervise
