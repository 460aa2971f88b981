// The outside stage's path rules: component-wise prefixes, deny before allow, the kind of bind
// deciding which list applies, and other users' homes.
#include "sandbox/path_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace nsbroker::sandbox {
namespace {

struct UnderCase {
  const char* path;
  const char* prefix;
  bool under;
};

class PathIsUnder : public ::testing::TestWithParam<UnderCase> {};

TEST_P(PathIsUnder, ComparesWholeComponents) {
  EXPECT_EQ(path_is_under(GetParam().path, GetParam().prefix), GetParam().under)
      << GetParam().path << " under " << GetParam().prefix;
}

INSTANTIATE_TEST_SUITE_P(Table, PathIsUnder,
                         ::testing::Values(UnderCase{"/home/alice", "/home/al", false},
                                           UnderCase{"/home/alice/x", "/home/alice", true},
                                           UnderCase{"/home/alice", "/home/alice", true},
                                           UnderCase{"/home/alice", "/home/alice/", true},
                                           UnderCase{"/etc/shadow", "/", true},
                                           UnderCase{"/", "/", true},
                                           UnderCase{"/usr", "/usr/lib", false},
                                           UnderCase{"/usrlib", "/usr", false}));

TEST(PathContains, OnlyStrictlyBelow) {
  EXPECT_TRUE(path_contains("/", "/run/nsbroker"));
  EXPECT_TRUE(path_contains("/run", "/run/nsbroker"));
  EXPECT_FALSE(path_contains("/run/nsbroker", "/run/nsbroker"));
  EXPECT_FALSE(path_contains("/run/nsbroker/x", "/run/nsbroker"));
  EXPECT_FALSE(path_contains("/", "/"));
}

TEST(HomeDirectoryOf, FindsTheTopDirectoryBelowTheHomesRoot) {
  char home[64];
  ASSERT_TRUE(home_directory_of("/home/bob/src/x", "/home", home, sizeof(home)));
  EXPECT_STREQ(home, "/home/bob");
  ASSERT_TRUE(home_directory_of("/home/bob", "/home/", home, sizeof(home)));
  EXPECT_STREQ(home, "/home/bob");
  EXPECT_FALSE(home_directory_of("/home", "/home", home, sizeof(home)));
  EXPECT_FALSE(home_directory_of("/srv/bob", "/home", home, sizeof(home)));
  EXPECT_FALSE(home_directory_of("/home/bob", nullptr, home, sizeof(home)));
}

class CheckBindSource : public ::testing::Test {
 protected:
  CheckBindSource() {
    rules.enforce = true;
    rules.read_only = {"/usr", "/etc", "/"};
    rules.read_write = {"/tmp", "/home/alice", "/home/bob/shared"};
    rules.deny = {"/etc/shadow", "/run/nsbroker"};
    rules.devices = {"/dev/null", "/dev/dri"};
    rules.homes_root = "/home";
    rules.deny_other_users_homes = true;
  }
  PathVerdict check(const char* path, wire::MountKind kind, uid_t home_owner = kAlice) {
    return check_bind_source(rules, path, kind, kAlice, home_owner, &rule);
  }
  static constexpr uid_t kAlice = 1000;
  static constexpr uid_t kBob = 1001;
  ChildPathRules rules;
  int rule = -1;
};

TEST_F(CheckBindSource, DenyWinsOverEveryAllowance) {
  EXPECT_EQ(check("/etc/shadow", wire::MOUNT_RO_BIND), PathVerdict::kDenied);
  EXPECT_EQ(rule, 0);
  EXPECT_EQ(check("/run/nsbroker/nsbroker.sock", wire::MOUNT_RO_BIND), PathVerdict::kDenied);
  EXPECT_EQ(rule, 1);
}

TEST_F(CheckBindSource, ReadOnlyNeedsAnyAllowance) {
  EXPECT_EQ(check("/usr/lib", wire::MOUNT_RO_BIND), PathVerdict::kAllowed);
  EXPECT_EQ(check("/tmp/x", wire::MOUNT_RO_BIND), PathVerdict::kAllowed);
  rules.read_only = {"/usr"};
  EXPECT_EQ(check("/opt", wire::MOUNT_RO_BIND), PathVerdict::kNotReadOnly);
}

TEST_F(CheckBindSource, ReadWriteNeedsAReadWriteEntry) {
  EXPECT_EQ(check("/tmp/work", wire::MOUNT_BIND), PathVerdict::kAllowed);
  EXPECT_EQ(rule, 0);
  EXPECT_EQ(check("/usr/lib", wire::MOUNT_BIND), PathVerdict::kNotReadWrite);
}

TEST_F(CheckBindSource, DevBindOnlyOfListedDevices) {
  EXPECT_EQ(check("/dev/dri/card0", wire::MOUNT_DEV_BIND), PathVerdict::kAllowed);
  EXPECT_EQ(check("/dev/sda", wire::MOUNT_DEV_BIND), PathVerdict::kNotDevice);
}

TEST_F(CheckBindSource, OtherUsersHomesOnlyWhereListed) {
  EXPECT_EQ(check("/home/alice/src", wire::MOUNT_BIND), PathVerdict::kAllowed);
  EXPECT_EQ(check("/home/bob/secret", wire::MOUNT_RO_BIND, kBob), PathVerdict::kOtherUsersHome)
      << "the broad read_only \"/\" does not list bob's home";
  EXPECT_EQ(check("/home/bob/shared/doc", wire::MOUNT_RO_BIND, kBob), PathVerdict::kAllowed);
  rules.deny_other_users_homes = false;
  EXPECT_EQ(check("/home/bob/secret", wire::MOUNT_RO_BIND, kBob), PathVerdict::kAllowed);
}

TEST_F(CheckBindSource, NothingIsEnforcedWithoutAProfile) {
  rules.enforce = false;
  EXPECT_EQ(check("/etc/shadow", wire::MOUNT_BIND), PathVerdict::kAllowed);
}

}  // namespace
}  // namespace nsbroker::sandbox
