#include "policy_test_support.h"

#include <gtest/gtest.h>

#include <sstream>

#include "client/run_options.h"
#include "policy/policy_loader.h"

namespace nsbroker::policy::testing {

const NameResolver& test_names() {
  static const TableNames names(
      {{"alice", 1000}, {"bob", 1001}, {"carol", 1002}, {"dave", 1003}},
      {{"users", 100}, {"staff", 50}, {"nas", 2000}, {"alice", 1000}});
  return names;
}

std::shared_ptr<const CompiledPolicy> load_ok(std::string_view text) {
  LoadOptions options;
  options.names = &test_names();
  auto policy = load_policy_text(text, kFile, options);
  if (!policy) {
    ADD_FAILURE() << "policy did not load:\n" << policy.failure().message;
    return nullptr;
  }
  return policy.value();
}

std::vector<std::string> load_errors(std::string_view text) {
  LoadOptions options;
  options.names = &test_names();
  auto policy = load_policy_text(text, kFile, options);
  if (policy) return {};
  return error_lines(policy.failure());
}

auth::Caller caller(uid_t uid, gid_t gid, std::vector<gid_t> groups) {
  auth::Caller c;
  c.uid = uid;
  c.gid = gid;
  c.groups = std::move(groups);
  return c;
}

wire::Spawn run(std::string_view words, const std::vector<std::string>& env) {
  std::vector<std::string> split;
  std::istringstream in{std::string(words)};
  for (std::string word; in >> word;) split.push_back(word);
  std::vector<std::string_view> views(split.begin(), split.end());
  std::vector<std::string_view> environment(env.begin(), env.end());
  auto parsed = client::parse_run_options(views, environment);
  EXPECT_EQ(parsed.kind, client::ParseKind::kRun) << words << ": " << parsed.error;
  return parsed.options.spawn;
}

bool any_contains(const std::vector<std::string>& lines, std::string_view part) {
  for (const std::string& line : lines) {
    if (line.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace nsbroker::policy::testing
