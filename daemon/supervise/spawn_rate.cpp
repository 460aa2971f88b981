#include "supervise/spawn_rate.h"

#include <algorithm>

namespace nsbroker::supervise {

bool SpawnRate::try_spawn(uid_t uid, unsigned per_minute, Clock::time_point now) {
  if (per_minute == 0) return true;
  auto [it, fresh] = buckets_.try_emplace(uid);
  Bucket& bucket = it->second;
  double capacity = per_minute;
  if (fresh) {
    bucket.tokens = capacity;
  } else {
    std::chrono::duration<double> elapsed = now - bucket.updated;
    bucket.tokens = std::min(capacity, bucket.tokens + elapsed.count() * capacity / 60.0);
  }
  bucket.updated = now;
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

}  // namespace nsbroker::supervise
