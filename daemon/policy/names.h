// User and group names in the policy file are resolved to ids once, when the policy is
// loaded (never per request: a name service can be slow or hang, and the daemon's event loop
// must not). Tests substitute their own table.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace nsbroker::policy {

class NameResolver {
 public:
  virtual ~NameResolver() = default;
  virtual std::optional<uid_t> user_id(const std::string& name) const = 0;
  virtual std::optional<gid_t> group_id(const std::string& name) const = 0;
};

// getpwnam_r / getgrnam_r.
const NameResolver& system_names();

// A fixed table, for tests and tools.
class TableNames final : public NameResolver {
 public:
  struct Entry {
    std::string name;
    unsigned id;
  };
  TableNames(std::vector<Entry> users, std::vector<Entry> groups)
      : users_(std::move(users)), groups_(std::move(groups)) {}
  std::optional<uid_t> user_id(const std::string& name) const override;
  std::optional<gid_t> group_id(const std::string& name) const override;

 private:
  std::vector<Entry> users_;
  std::vector<Entry> groups_;
};

}  // namespace nsbroker::policy
