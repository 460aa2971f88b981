// Reading the policy file: what a good file becomes, and parse errors with FILE:LINE:COLUMN.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "policy/policy_loader.h"
#include "policy_test_support.h"

namespace nsbroker::policy {
namespace {

using testing::load_errors;
using testing::load_ok;

constexpr const char* kGoodFile = R"(# a comment
default_profile: "everyone"
daemon { audit_json_file: "/var/log/nsbroker/audit.jsonl" }
profile {
  name: "builders"
  match { uid: 4242 user: "alice" gid: 3000 group: "nas" }
  namespaces { net: REQUIRED ipc: FORBIDDEN uts: ALLOWED allow_user_namespace: true allow_root_inside: true }
  mounts {
    read_only: "/"
    read_write: ["/tmp", "/srv/build"]
    deny: "/etc/shadow"
    deny_other_users_homes: true
    homes_root: "/srv/homes"
    devices: "/dev/fuse"
    allow_proc: true
    allow_dev: true
    allow_tmpfs: true
    tmpfs_max_bytes: 0x10000000
    create_missing_mount_points: true
  }
  seccomp {
    rule { syscall: "socket" action: "EAFNOSUPPORT" arg { index: 0 op: EQ value: 17 } }
    rule { syscall: "personality" action: "KILL" }
    accept_client_filter: true
  }
  environment {
    strip: "LD_*"
    force { name: "PATH" value: "/usr/bin:/bin" }
    max_args: 100 max_env: 50 max_total_bytes: 32768
  }
  limits { max_live_sandboxes: 8 max_spawns_per_minute: 60 wall_time_seconds: 3600 }
}
profile { name: "everyone" }
)";

TEST(PolicyParse, AGoodFileBecomesACompiledPolicy) {
  auto policy = load_ok(kGoodFile);
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->source(), "test.pbtxt");
  ASSERT_EQ(policy->profiles().size(), 2u);
  ASSERT_NE(policy->default_profile(), nullptr);
  EXPECT_EQ(policy->default_profile()->name, "everyone");
  EXPECT_EQ(policy->daemon().audit_json_file, "/var/log/nsbroker/audit.jsonl");

  const CompiledProfile& p = policy->profiles()[0];
  EXPECT_EQ(p.name, "builders");
  EXPECT_EQ(p.where, "test.pbtxt:4:1");
  ASSERT_EQ(p.match.size(), 4u);
  EXPECT_EQ(p.match[0].id, 4242u);
  EXPECT_EQ(p.match[1].id, 1000u);  // alice, resolved at load time
  EXPECT_EQ(p.match[1].text, "match.user \"alice\" (uid 1000)");
  EXPECT_EQ(p.match[1].where, "test.pbtxt:6:21");
  EXPECT_EQ(p.match[2].kind, MatchEntry::Kind::kGid);
  EXPECT_EQ(p.match[3].id, 2000u);  // nas

  EXPECT_EQ(p.namespaces.net, NamespaceRule::kRequired);
  EXPECT_EQ(p.namespaces.ipc, NamespaceRule::kForbidden);
  EXPECT_EQ(p.namespaces.uts, NamespaceRule::kAllowed);
  EXPECT_EQ(p.namespaces.cgroup, NamespaceRule::kAllowed);
  EXPECT_TRUE(p.namespaces.allow_user_namespace);
  EXPECT_TRUE(p.namespaces.allow_root_inside);
  EXPECT_EQ(p.position_of("namespaces.net"), "test.pbtxt:7:16");

  const PathRules& paths = p.mounts.paths;
  EXPECT_TRUE(paths.enforce);
  EXPECT_EQ(paths.read_only, std::vector<std::string>{"/"});
  EXPECT_EQ(paths.read_write, (std::vector<std::string>{"/tmp", "/srv/build"}));
  EXPECT_EQ(paths.deny, std::vector<std::string>{"/etc/shadow"});
  EXPECT_EQ(paths.devices, std::vector<std::string>{"/dev/fuse"});
  EXPECT_TRUE(paths.deny_other_users_homes);
  EXPECT_EQ(paths.homes_root, "/srv/homes");
  EXPECT_TRUE(paths.create_missing_mount_points);
  EXPECT_EQ(p.mounts.origins.deny, std::vector<std::string>{"test.pbtxt:11:5"});
  EXPECT_TRUE(p.mounts.allow_proc);
  EXPECT_TRUE(p.mounts.allow_dev);
  EXPECT_TRUE(p.mounts.allow_tmpfs);
  EXPECT_EQ(p.mounts.tmpfs_max_bytes, 0x10000000u);

  ASSERT_EQ(p.syscall_rules.size(), 2u);
  EXPECT_EQ(p.syscall_rules[0].syscall, "socket");
  EXPECT_EQ(p.syscall_rules[0].error, EAFNOSUPPORT);
  ASSERT_EQ(p.syscall_rules[0].conditions.size(), 1u);
  EXPECT_EQ(p.syscall_rules[0].conditions[0].value, 17u);
  EXPECT_EQ(p.syscall_rules[1].action, sandbox::SyscallRule::Action::kKillProcess);
  EXPECT_TRUE(p.accept_client_filter);
  ASSERT_TRUE(p.seccomp);

  EXPECT_EQ(p.environment.strip, std::vector<std::string>{"LD_*"});
  ASSERT_EQ(p.environment.force.size(), 1u);
  EXPECT_EQ(p.environment.force[0].second, "/usr/bin:/bin");
  EXPECT_EQ(p.environment.max_args, 100u);
  EXPECT_EQ(p.environment.max_env, 50u);
  EXPECT_EQ(p.environment.max_total_bytes, 32768u);

  EXPECT_EQ(p.limits.max_live_sandboxes, 8u);
  EXPECT_EQ(p.limits.max_spawns_per_minute, 60u);
  EXPECT_EQ(p.limits.wall_time_seconds, 3600u);
}

TEST(PolicyParse, LeftOutFieldsGrantNothingAndLimitsGetDefaults) {
  auto policy = load_ok("default_profile: \"p\"\nprofile { name: \"p\" }\n");
  ASSERT_TRUE(policy);
  const CompiledProfile& p = policy->profiles()[0];
  EXPECT_FALSE(p.namespaces.allow_user_namespace);
  EXPECT_FALSE(p.mounts.allow_proc);
  EXPECT_FALSE(p.mounts.allow_dev);
  EXPECT_FALSE(p.mounts.allow_tmpfs);
  EXPECT_TRUE(p.mounts.paths.read_only.empty());
  EXPECT_TRUE(p.mounts.paths.homes_root.empty());
  EXPECT_FALSE(p.accept_client_filter);
  EXPECT_EQ(p.limits.max_live_sandboxes, kDefaultMaxLiveSandboxes);
  EXPECT_EQ(p.limits.max_spawns_per_minute, kDefaultMaxSpawnsPerMinute);
  EXPECT_EQ(p.limits.wall_time_seconds, 0u);
  EXPECT_EQ(p.position_of("mounts.allow_proc"), p.where) << "not written: the profile's position";
}

TEST(PolicyParse, HomesRootDefaultsToHome) {
  auto policy = load_ok(
      "default_profile: \"p\"\nprofile { name: \"p\" mounts { deny_other_users_homes: true } }\n");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->profiles()[0].mounts.paths.homes_root, "/home");
}

struct ParseErrorCase {
  const char* name;
  const char* text;
  const char* position;  // "LINE:COLUMN" of the first error
  const char* message_part;
};

class PolicyParseError : public ::testing::TestWithParam<ParseErrorCase> {};

TEST_P(PolicyParseError, SaysWhereAndWhat) {
  std::vector<std::string> errors = load_errors(GetParam().text);
  ASSERT_FALSE(errors.empty()) << "loaded: " << GetParam().text;
  std::string prefix = std::string("test.pbtxt:") + GetParam().position + ": ";
  EXPECT_EQ(errors[0].substr(0, prefix.size()), prefix) << errors[0];
  EXPECT_NE(errors[0].find(GetParam().message_part), std::string::npos) << errors[0];
}

INSTANTIATE_TEST_SUITE_P(
    Table, PolicyParseError,
    ::testing::Values(
        ParseErrorCase{"unknown_field",
                       "profile {\n  name: \"a\"\n  mounts {\n    read_onyl: \"/usr\"\n  }\n}\n",
                       "4:5", "has no field named \"read_onyl\""},
        ParseErrorCase{"unknown_top_level_field", "default_profil: \"a\"\n", "1:1",
                       "has no field named \"default_profil\""},
        ParseErrorCase{"unknown_enum_value",
                       "profile {\n  name: \"a\"\n  namespaces { net: MAYBE }\n}\n", "3:21",
                       "Unknown enumeration value of \"MAYBE\""},
        ParseErrorCase{"missing_closing_brace", "profile {\n  name: \"a\"\n", "3:1",
                       "the end of the file"},
        ParseErrorCase{"string_for_a_number",
                       "profile {\n  name: \"a\"\n  limits { wall_time_seconds: \"10\" }\n}\n",
                       "3:31", "Expected integer"},
        ParseErrorCase{"negative_number",
                       "profile { name: \"a\" limits { max_live_sandboxes: -1 } }\n", "1:50",
                       "Expected integer"},
        ParseErrorCase{"field_given_twice", "profile {\n  name: \"a\"\n  name: \"b\"\n}\n", "3:7",
                       "specified multiple times"},
        ParseErrorCase{"bad_token", "profile {\n  name: \"a\" ;; }\n", "2:14", "Expected"}),
    [](const ::testing::TestParamInfo<ParseErrorCase>& info) { return std::string(info.param.name); });

TEST(PolicyParse, ReportsEveryValidationErrorInFileOrder) {
  std::vector<std::string> errors = load_errors(
      "default_profile: \"p\"\n"
      "profile {\n"
      "  name: \"p\"\n"
      "  mounts { read_only: \"usr\" deny: \"/a/../b\" }\n"
      "  seccomp { rule { syscall: \"no_such_call\" action: \"EPERM\" } }\n"
      "}\n");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].substr(0, 16), "test.pbtxt:4:12:");
  EXPECT_EQ(errors[1].substr(0, 16), "test.pbtxt:4:29:");
  EXPECT_EQ(errors[2].substr(0, 16), "test.pbtxt:5:20:");
}

TEST(PolicyParse, EntriesWrittenAsAListShareTheFieldsPosition) {
  std::vector<std::string> errors = load_errors(
      "default_profile: \"p\"\nprofile {\n  name: \"p\"\n  mounts { read_only: [\"/usr\", \"/opt/\"] }\n}\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "test.pbtxt:4:12: mounts.read_only: \"/opt/\" is not canonical: write \"/opt\"");
}

class PolicyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/nsbroker-policy-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    path_ = dir_ + "/policy.pbtxt";
    std::ofstream(path_) << "default_profile: \"p\"\nprofile { name: \"p\" }\n";
  }
  void TearDown() override {
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
  std::string path_;
};

TEST_F(PolicyFile, LoadsFromAFileNamedInMessages) {
  auto policy = load_policy_file(path_);
  ASSERT_TRUE(policy) << policy.failure().message;
  EXPECT_EQ(policy.value()->source(), path_);
}

TEST_F(PolicyFile, AMissingFileIsAnErrorAtLineOne) {
  auto policy = load_policy_file(dir_ + "/missing.pbtxt");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.failure().message.rfind(dir_ + "/missing.pbtxt:1:1: cannot open", 0), 0u)
      << policy.failure().message;
}

TEST_F(PolicyFile, TheDaemonRefusesAFileOthersCanWrite) {
  ASSERT_EQ(::chmod(path_.c_str(), 0666), 0);
  LoadOptions options;
  options.require_root_owned = true;
  auto policy = load_policy_file(path_, options);
  ASSERT_FALSE(policy);
  EXPECT_NE(policy.failure().message.find("refusing the policy file"), std::string::npos)
      << policy.failure().message;
  EXPECT_TRUE(load_policy_file(path_)) << "tools read it anyway";
}

}  // namespace
}  // namespace nsbroker::policy
