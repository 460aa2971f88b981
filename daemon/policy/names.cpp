#include "policy/names.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace nsbroker::policy {
namespace {

// Buffer size for the *_r lookups; grown on ERANGE (a group with many members can need more).
constexpr std::size_t kInitialBuffer = 16 * 1024;
constexpr std::size_t kMaxBuffer = 4 * 1024 * 1024;

class SystemNames final : public NameResolver {
 public:
  std::optional<uid_t> user_id(const std::string& name) const override {
    std::vector<char> buffer(kInitialBuffer);
    while (true) {
      passwd entry{};
      passwd* found = nullptr;
      int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
      if (rc == ERANGE && buffer.size() < kMaxBuffer) {
        buffer.resize(buffer.size() * 2);
        continue;
      }
      if (rc != 0 || found == nullptr) return std::nullopt;
      return found->pw_uid;
    }
  }

  std::optional<gid_t> group_id(const std::string& name) const override {
    std::vector<char> buffer(kInitialBuffer);
    while (true) {
      group entry{};
      group* found = nullptr;
      int rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
      if (rc == ERANGE && buffer.size() < kMaxBuffer) {
        buffer.resize(buffer.size() * 2);
        continue;
      }
      if (rc != 0 || found == nullptr) return std::nullopt;
      return found->gr_gid;
    }
  }
};

}  // namespace

const NameResolver& system_names() {
  static const SystemNames names;
  return names;
}

std::optional<uid_t> TableNames::user_id(const std::string& name) const {
  for (const Entry& entry : users_) {
    if (entry.name == name) return static_cast<uid_t>(entry.id);
  }
  return std::nullopt;
}

std::optional<gid_t> TableNames::group_id(const std::string& name) const {
  for (const Entry& entry : groups_) {
    if (entry.name == name) return static_cast<gid_t>(entry.id);
  }
  return std::nullopt;
}

}  // namespace nsbroker::policy
