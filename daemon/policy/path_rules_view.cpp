#include "policy/path_rules_view.h"

namespace nsbroker::policy {
namespace {

std::vector<const char*> pointers(const std::vector<std::string>& strings) {
  std::vector<const char*> out;
  out.reserve(strings.size());
  for (const std::string& s : strings) out.push_back(s.c_str());
  return out;
}

}  // namespace

sandbox::ChildPathRules view_of(const PathRules& rules) {
  sandbox::ChildPathRules view;
  view.enforce = rules.enforce;
  view.read_only = pointers(rules.read_only);
  view.read_write = pointers(rules.read_write);
  view.deny = pointers(rules.deny);
  view.devices = pointers(rules.devices);
  view.deny_other_users_homes = rules.deny_other_users_homes;
  view.homes_root = rules.deny_other_users_homes ? rules.homes_root.c_str() : nullptr;
  view.create_missing_mount_points = !rules.enforce || rules.create_missing_mount_points;
  return view;
}

}  // namespace nsbroker::policy
