// Evaluation: (Policy, Caller, Request) -> Plan | Denial. Every rule kind both allows and
// denies, and each answer names the profile and the rule that decided.
#include <gtest/gtest.h>

#include <string>

#include "policy/evaluate.h"
#include "policy/policy_loader.h"
#include "policy_test_support.h"
#include "sandbox/seccomp.h"

namespace nsbroker::policy {
namespace {

using testing::any_contains;
using testing::caller;
using testing::load_ok;
using testing::run;

// ---- profile selection ----------------------------------------------------------------------

constexpr const char* kSelectionPolicy = R"(
default_profile: "fallback"
profile { name: "by-uid"   match { uid: 1001 } }
profile { name: "by-user"  match { user: "carol" } }
profile { name: "by-group" match { group: "nas" } }
profile { name: "by-gid"   match { gid: 4000 } }
profile { name: "fallback" }
)";

struct SelectionCase {
  const char* name;
  auth::Caller who;
  const char* profile;
  const char* reason_part;
};

class ProfileSelection : public ::testing::TestWithParam<SelectionCase> {};

TEST_P(ProfileSelection, PicksTheFirstMatchingProfileElseTheDefault) {
  auto policy = load_ok(kSelectionPolicy);
  ASSERT_TRUE(policy);
  Evaluation result = evaluate(*policy, GetParam().who, run("-- /bin/true"), SandboxMode::kPrivileged);
  ASSERT_TRUE(result.allowed()) << result.denial().message;
  EXPECT_EQ(result.decision().profile, GetParam().profile);
  EXPECT_NE(result.decision().selected_by.find(GetParam().reason_part), std::string::npos)
      << result.decision().selected_by;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProfileSelection,
    ::testing::Values(
        SelectionCase{"uid", caller(1001, 1001), "by-uid", "match.uid 1001 of profile \"by-uid\" at test.pbtxt:3:"},
        SelectionCase{"user_name", caller(1002, 1002), "by-user", "match.user \"carol\" (uid 1002)"},
        SelectionCase{"supplementary_group", caller(1003, 1003, {50, 2000}), "by-group",
                      "match.group \"nas\" (gid 2000)"},
        SelectionCase{"primary_group", caller(1003, 2000), "by-group", "match.group \"nas\""},
        SelectionCase{"numeric_gid", caller(1003, 1003, {4000}), "by-gid", "match.gid 4000"},
        SelectionCase{"file_order_decides", caller(1002, 1002, {2000}), "by-user", "match.user"},
        SelectionCase{"default", caller(1500, 1500), "fallback",
                      "default_profile \"fallback\" (no profile matches uid 1500)"}),
    [](const ::testing::TestParamInfo<SelectionCase>& info) { return std::string(info.param.name); });

TEST(ProfileSelection, NoMatchAndNoDefaultIsADenial) {
  auto policy = load_ok("profile { name: \"only\" match { uid: 1001 } }\n");
  ASSERT_TRUE(policy);
  Evaluation result = evaluate(*policy, caller(1500, 1500), run("-- /bin/true"), SandboxMode::kPrivileged);
  ASSERT_FALSE(result.allowed());
  EXPECT_EQ(result.denial().code, wire::ERROR_DENIED);
  EXPECT_EQ(result.denial().profile, "");
  EXPECT_NE(result.denial().message.find("no profile matches uid 1500 (gid 1500) and the policy has no "
                                         "default_profile"),
            std::string::npos)
      << result.denial().message;
  EXPECT_EQ(result.failure().code, wire::ERROR_DENIED);
}

// ---- one profile per rule kind --------------------------------------------------------------

constexpr const char* kPolicy = R"(
default_profile: "p"
profile {
  name: "p"
  namespaces {
    net: REQUIRED
    ipc: FORBIDDEN
    uts: ALLOWED
    cgroup: ALLOWED
    allow_user_namespace: true
  }
  mounts {
    read_only: "/usr"
    read_only: "/etc"
    read_write: "/home"
    read_write: "/tmp"
    deny: "/etc/shadow"
    deny: "/run/nsbroker"
    deny_other_users_homes: true
    devices: "/dev/null"
    devices: "/dev/dri"
    allow_proc: true
    allow_tmpfs: true
    tmpfs_max_bytes: 1048576
  }
  seccomp { rule { syscall: "personality" action: "EPERM" } }
  environment {
    strip: "LD_*"
    strip: "SECRET"
    force { name: "PATH" value: "/usr/bin" }
    force { name: "HOME" value: "/nonexistent" }
  }
  limits { max_live_sandboxes: 3 max_spawns_per_minute: 30 wall_time_seconds: 60 }
}
profile {
  name: "no-userns"
  match { uid: 1001 }
}
profile {
  name: "capped"
  match { uid: 1002 }
  environment { max_args: 3 max_env: 2 max_total_bytes: 40 }
}
)";

class Evaluate : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = load_ok(kPolicy);
    ASSERT_TRUE(policy_);
  }
  Evaluation eval(std::string_view words, SandboxMode mode = SandboxMode::kUserNamespace,
                  auth::Caller who = caller(1000, 1000)) {
    return evaluate(*policy_, who, run(words), mode);
  }
  std::shared_ptr<const CompiledPolicy> policy_;
};

TEST_F(Evaluate, ADecisionCarriesTheProfilesFilterPathRulesAndLimits) {
  Evaluation result = eval("-- /bin/true");
  ASSERT_TRUE(result.allowed()) << result.denial().message;
  const Decision& d = result.decision();
  EXPECT_EQ(d.profile, "p");
  ASSERT_TRUE(d.plan.seccomp);
  EXPECT_EQ(d.plan.seccomp, policy_->profiles()[0].seccomp) << "compiled once, shared";
  EXPECT_TRUE(d.plan.path_rules.enforce);
  EXPECT_EQ(d.plan.path_rules.deny, (std::vector<std::string>{"/etc/shadow", "/run/nsbroker"}));
  EXPECT_EQ(d.plan.path_rules.homes_root, "/home");
  EXPECT_EQ(d.limits.max_live_sandboxes, 3u);
  EXPECT_EQ(d.limits.max_spawns_per_minute, 30u);
  EXPECT_EQ(d.limits.wall_time_seconds, 60u);
}

// -- namespaces

TEST_F(Evaluate, RequiredNamespaceIsAlwaysUnshared) {
  Evaluation result = eval("-- /bin/true");
  ASSERT_TRUE(result.allowed());
  EXPECT_TRUE(result.decision().plan.unshare_net);
  EXPECT_TRUE(any_contains(result.decision().rules, "namespaces.net REQUIRED: always a new net namespace (not requested) [test.pbtxt:6:5]"));
}

TEST_F(Evaluate, ForbiddenNamespaceRefusesTheRequest) {
  Evaluation result = eval("--unshare-ipc -- /bin/true");
  ASSERT_FALSE(result.allowed());
  EXPECT_EQ(result.denial().code, wire::ERROR_DENIED);
  EXPECT_EQ(result.denial().message, "denied by profile \"p\": namespaces.ipc FORBIDDEN refuses --unshare-ipc");
  EXPECT_EQ(result.denial().rules, std::vector<std::string>{"namespaces.ipc FORBIDDEN refuses --unshare-ipc [test.pbtxt:7:5]"});
}

TEST_F(Evaluate, AllowedNamespaceFollowsTheRequest) {
  Evaluation asked = eval("--unshare-uts --hostname box -- /bin/true");
  ASSERT_TRUE(asked.allowed()) << asked.denial().message;
  EXPECT_TRUE(asked.decision().plan.unshare_uts);
  EXPECT_FALSE(asked.decision().plan.unshare_cgroup);
  Evaluation not_asked = eval("-- /bin/true");
  ASSERT_TRUE(not_asked.allowed());
  EXPECT_FALSE(not_asked.decision().plan.unshare_uts);
}

// -- mode

TEST_F(Evaluate, UserNamespaceModeNeedsTheHostAndTheProfile) {
  EXPECT_EQ(eval("-- /bin/true", SandboxMode::kUserNamespace).decision().plan.mode, SandboxMode::kUserNamespace);
  EXPECT_EQ(eval("-- /bin/true", SandboxMode::kPrivileged).decision().plan.mode, SandboxMode::kPrivileged);
  Evaluation no_userns = eval("--unshare-user -- /bin/true", SandboxMode::kUserNamespace, caller(1001, 1001));
  ASSERT_TRUE(no_userns.allowed()) << "--unshare-user is satisfied by privileged mode";
  EXPECT_EQ(no_userns.decision().plan.mode, SandboxMode::kPrivileged);
  EXPECT_TRUE(any_contains(no_userns.decision().rules,
                           "namespaces.allow_user_namespace is off: privileged mode (satisfies --unshare-user)"));
}

// -- bind sources, as strings

struct BindCase {
  const char* name;
  const char* words;
  bool allowed;
  const char* rule_part;  // in the decision's rules or the denial's message
};

class BindSources : public Evaluate, public ::testing::WithParamInterface<BindCase> {};

TEST_P(BindSources, AreMatchedByWholeComponents) {
  std::string words = std::string(GetParam().words) + " -- /bin/true";
  Evaluation result = eval(words);
  ASSERT_EQ(result.allowed(), GetParam().allowed)
      << words << ": " << (result.allowed() ? "allowed" : result.denial().message);
  if (result.allowed()) {
    EXPECT_TRUE(any_contains(result.decision().rules, GetParam().rule_part))
        << ::testing::PrintToString(result.decision().rules);
  } else {
    EXPECT_EQ(result.denial().code, wire::ERROR_DENIED);
    EXPECT_NE(result.denial().message.find(GetParam().rule_part), std::string::npos) << result.denial().message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, BindSources,
    ::testing::Values(
        BindCase{"read_only_prefix", "--ro-bind /usr /usr", true, "mounts.read_only \"/usr\" allows --ro-bind /usr /usr [test.pbtxt:13:5]"},
        BindCase{"inside_read_only", "--ro-bind /usr/lib /lib", true, "mounts.read_only \"/usr\" allows"},
        BindCase{"component_boundary", "--ro-bind /usrlocal /x", false,
                 "no mounts.read_only or mounts.read_write entry covers --ro-bind /usrlocal /x"},
        BindCase{"outside_every_prefix", "--ro-bind /opt /opt", false, "no mounts.read_only or mounts.read_write"},
        BindCase{"denied_path", "--ro-bind /etc/shadow /s", false,
                 "denied by profile \"p\": mounts.deny \"/etc/shadow\" covers --ro-bind /etc/shadow /s"},
        BindCase{"below_a_denied_path", "--ro-bind /run/nsbroker/nsbroker.sock /s", false, "mounts.deny \"/run/nsbroker\""},
        BindCase{"denial_component_boundary", "--ro-bind /etc/shadow- /s", true, "mounts.read_only \"/etc\""},
        BindCase{"dot_dot_into_a_denied_path", "--ro-bind /usr/../etc/shadow /s", false, "mounts.deny \"/etc/shadow\""},
        BindCase{"rw_bind_under_a_read_only_prefix", "--bind /usr/lib /x", false,
                 "no mounts.read_write entry covers --bind /usr/lib /x (mounts.read_only \"/usr\" allows read-only binds only)"},
        BindCase{"rw_bind_under_read_write", "--bind /tmp/work /w", true, "mounts.read_write \"/tmp\" allows --bind /tmp/work /w"},
        BindCase{"ro_bind_under_read_write", "--ro-bind /tmp/work /w", true, "mounts.read_write \"/tmp\" allows --ro-bind"},
        BindCase{"own_home_as_far_as_strings_tell", "--bind /home/alice/project /p", true, "mounts.read_write \"/home\""},
        BindCase{"listed_device", "--dev-bind /dev/null /dev/null", true, "mounts.devices \"/dev/null\" allows"},
        BindCase{"device_below_a_listed_directory", "--dev-bind /dev/dri/card0 /dev/dri/card0", true, "mounts.devices \"/dev/dri\""},
        BindCase{"unlisted_device", "--dev-bind /dev/sda /dev/sda", false, "no mounts.devices entry covers --dev-bind /dev/sda /dev/sda"},
        BindCase{"dev_bind_of_a_read_only_tree", "--dev-bind /usr /usr", false, "no mounts.devices entry covers"}),
    [](const ::testing::TestParamInfo<BindCase>& info) { return std::string(info.param.name); });

TEST_F(Evaluate, RelativeSourcesAndHomesAreLeftToTheAsOpenedCheck) {
  Evaluation result = eval("--bind project /p --bind /home/bob/x /x -- /bin/true");
  ASSERT_TRUE(result.allowed()) << result.denial().message;
  const auto& notes = result.decision().notes;
  EXPECT_TRUE(any_contains(notes, "--bind project /p: relative source, checked only as opened"));
  EXPECT_TRUE(any_contains(notes, "--bind /home/bob/x /x: allowed only if /home/bob is the caller's own home (owned by uid 1000)"));
}

TEST_F(Evaluate, ABindContainingADeniedPathIsAllowedWithTheNoteThatItIsHidden) {
  auto policy = load_ok(
      "default_profile: \"p\"\nprofile { name: \"p\" mounts { read_only: \"/\" deny: \"/run/nsbroker\" "
      "deny_other_users_homes: true } }\n");
  ASSERT_TRUE(policy);
  Evaluation result = evaluate(*policy, caller(1000, 1000), run("--ro-bind / / -- /bin/true"), SandboxMode::kPrivileged);
  ASSERT_TRUE(result.allowed()) << result.denial().message;
  EXPECT_TRUE(any_contains(result.decision().notes, "--ro-bind / /: contains mounts.deny \"/run/nsbroker\" (hidden inside the sandbox)"));
  EXPECT_TRUE(any_contains(result.decision().notes, "contains /home; other users' homes in it are hidden"));
}

// -- mount kinds

TEST_F(Evaluate, TmpfsWithoutSizeGetsTheCap) {
  Evaluation result = eval("--tmpfs /tmp -- /bin/true");
  ASSERT_TRUE(result.allowed()) << result.denial().message;
  ASSERT_EQ(result.decision().plan.mounts.size(), 1u);
  EXPECT_EQ(result.decision().plan.mounts[0].size_bytes, 1048576u);
}

TEST_F(Evaluate, TmpfsWithinTheCapKeepsItsSize) {
  Evaluation result = eval("--size 4096 --tmpfs /tmp -- /bin/true");
  ASSERT_TRUE(result.allowed()) << result.denial().message;
  EXPECT_EQ(result.decision().plan.mounts[0].size_bytes, 4096u);
}

TEST_F(Evaluate, TmpfsAboveTheCapIsRefused) {
  Evaluation result = eval("--size 1048577 --tmpfs /tmp -- /bin/true");
  ASSERT_FALSE(result.allowed());
  EXPECT_EQ(result.denial().message,
            "denied by profile \"p\": mounts.tmpfs_max_bytes 1048576 refuses --tmpfs /tmp of 1048577 bytes");
}

struct KindCase {
  const char* name;
  const char* words;
  uid_t uid;  // 1000: profile "p"; 1001: profile "no-userns" (nothing allowed)
  bool allowed;
  const char* part;
};

class MountKinds : public Evaluate, public ::testing::WithParamInterface<KindCase> {};

TEST_P(MountKinds, AreAllowedOnlyWhereTheProfileSaysSo) {
  std::string words = std::string(GetParam().words) + " -- /bin/true";
  Evaluation result = eval(words, SandboxMode::kUserNamespace, caller(GetParam().uid, GetParam().uid));
  ASSERT_EQ(result.allowed(), GetParam().allowed)
      << words << ": " << (result.allowed() ? "allowed" : result.denial().message);
  const std::vector<std::string>& lines = result.allowed() ? result.decision().rules : result.denial().rules;
  EXPECT_TRUE(any_contains(lines, GetParam().part)) << ::testing::PrintToString(lines);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MountKinds,
    ::testing::Values(KindCase{"proc_allowed", "--proc /proc", 1000, true, "mounts.allow_proc: --proc /proc"},
                      KindCase{"proc_refused", "--proc /proc", 1001, false, "mounts.allow_proc is off: --proc /proc refused"},
                      KindCase{"dev_refused", "--dev /dev", 1000, false, "mounts.allow_dev is off: --dev /dev refused [test.pbtxt:12:3]"},
                      KindCase{"tmpfs_refused", "--tmpfs /tmp", 1001, false, "mounts.allow_tmpfs is off: --tmpfs /tmp refused"},
                      KindCase{"bind_with_no_allow_list", "--ro-bind /usr /usr", 1001, false, "no mounts.read_only"},
                      KindCase{"dir_symlink_remount_always", "--dir /d --symlink usr/lib /lib --remount-ro /d", 1001, true,
                               "privileged mode"}),
    [](const ::testing::TestParamInfo<KindCase>& info) { return std::string(info.param.name); });

// -- environment

TEST_F(Evaluate, EnvironmentIsStrippedThenForced) {
  wire::Spawn request = run("-- /bin/true", {"LD_PRELOAD=/evil.so", "PATH=/home/alice/bin", "SECRET=1", "SECRETS=2",
                                             "LD_LIBRARY_PATH=/x", "TERM=xterm"});
  Evaluation result = evaluate(*policy_, caller(1000, 1000), request, SandboxMode::kUserNamespace);
  ASSERT_TRUE(result.allowed()) << result.denial().message;
  EXPECT_EQ(result.decision().plan.env,
            (std::vector<std::string>{"PATH=/usr/bin", "SECRETS=2", "TERM=xterm", "HOME=/nonexistent"}));
  EXPECT_TRUE(any_contains(result.decision().rules, "environment.strip \"LD_*\": removed 2 variables"));
  EXPECT_TRUE(any_contains(result.decision().rules, "environment.strip \"SECRET\": removed 1 variable"));
  EXPECT_TRUE(any_contains(result.decision().rules, "environment.force \"HOME\""));
}

struct CapCase {
  const char* name;
  const char* words;
  std::vector<std::string> env;
  bool allowed;
  const char* part;
};

class SizeCaps : public Evaluate, public ::testing::WithParamInterface<CapCase> {};

TEST_P(SizeCaps, ApplyToTheRequestAsSent) {
  Evaluation result = evaluate(*policy_, caller(1002, 1002), run(GetParam().words, GetParam().env),
                               SandboxMode::kPrivileged);
  ASSERT_EQ(result.allowed(), GetParam().allowed) << (result.allowed() ? "allowed" : result.denial().message);
  if (!result.allowed()) {
    EXPECT_NE(result.denial().message.find(GetParam().part), std::string::npos) << result.denial().message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, SizeCaps,
    ::testing::Values(
        CapCase{"args_at_the_cap", "-- /bin/echo a b", {"A=1"}, true, ""},
        CapCase{"args_over_the_cap", "-- /bin/echo a b c", {"A=1"}, false,
                "denied by profile \"capped\": environment.max_args 3: the command has 4 arguments"},
        CapCase{"env_at_the_cap", "-- /bin/true", {"A=1", "B=2"}, true, ""},
        CapCase{"env_over_the_cap", "-- /bin/true", {"A=1", "B=2", "C=3"}, false,
                "environment.max_env 2: the environment has 3 entries"},
        // "/bin/echo" + 1, "aaaaaaaaaaaaaaaaaaaa" + 1, "A=1" + 1 = 10 + 21 + 4 = 35 bytes.
        CapCase{"bytes_under_the_cap", "-- /bin/echo aaaaaaaaaaaaaaaaaaaa", {"A=1"}, true, ""},
        CapCase{"bytes_over_the_cap", "-- /bin/echo aaaaaaaaaaaaaaaaaaaaaaaaaa", {"A=1"}, false,
                "environment.max_total_bytes 40: argv and environment take 41 bytes"}),
    [](const ::testing::TestParamInfo<CapCase>& info) { return std::string(info.param.name); });

// -- denials

TEST_F(Evaluate, EveryRefusingRuleIsListedAndTheMessageNamesTheFirst) {
  Evaluation result = eval("--unshare-ipc --dev /dev --ro-bind /etc/shadow /s -- /bin/true");
  ASSERT_FALSE(result.allowed());
  const Denial& denial = result.denial();
  EXPECT_EQ(denial.profile, "p");
  EXPECT_EQ(denial.selected_by, "default_profile \"p\" (no profile matches uid 1000)");
  ASSERT_EQ(denial.rules.size(), 3u);
  EXPECT_EQ(denial.rules[0], "namespaces.ipc FORBIDDEN refuses --unshare-ipc [test.pbtxt:7:5]");
  EXPECT_EQ(denial.rules[1], "mounts.allow_dev is off: --dev /dev refused [test.pbtxt:12:3]");  // not written: its block
  EXPECT_EQ(denial.rules[2], "mounts.deny \"/etc/shadow\" covers --ro-bind /etc/shadow /s [test.pbtxt:17:5]");
  EXPECT_EQ(denial.message,
            "denied by profile \"p\": namespaces.ipc FORBIDDEN refuses --unshare-ipc "
            "(and 2 more: `nsbroker policy explain` lists them)");
  EXPECT_TRUE(any_contains(denial.allowed_rules, "namespaces.net REQUIRED"));
}

TEST_F(Evaluate, AMalformedRequestIsAnInvalidArgumentBeforeAnyProfile) {
  wire::Spawn request = run("-- /bin/true");
  request.add_env("NOT_AN_ASSIGNMENT");
  Evaluation result = evaluate(*policy_, caller(1000, 1000), request, SandboxMode::kPrivileged);
  ASSERT_FALSE(result.allowed());
  EXPECT_EQ(result.denial().code, wire::ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(result.denial().profile, "");
  EXPECT_NE(result.denial().message.find("'NOT_AN_ASSIGNMENT' is not NAME=value"), std::string::npos);
}

TEST_F(Evaluate, IsPureTheSameInputsGiveTheSameAnswer) {
  wire::Spawn request = run("--ro-bind /usr /usr --tmpfs /tmp --bind /home/alice/p /p -- /bin/true");
  Evaluation first = evaluate(*policy_, caller(1000, 1000), request, SandboxMode::kUserNamespace);
  Evaluation second = evaluate(*policy_, caller(1000, 1000), request, SandboxMode::kUserNamespace);
  ASSERT_TRUE(first.allowed());
  ASSERT_TRUE(second.allowed());
  EXPECT_EQ(first.decision().rules, second.decision().rules);
  EXPECT_EQ(first.decision().notes, second.decision().notes);
  EXPECT_EQ(first.decision().plan.env, second.decision().plan.env);
}


// ---- the daemon's own socket: denied in every profile, wherever it is ----------------------

std::shared_ptr<const CompiledPolicy> load_with_socket(std::string_view text, const std::string& socket) {
  LoadOptions options;
  options.names = &testing::test_names();
  options.always_deny = {{socket, "nsbrokerd's own socket"}};
  auto policy = load_policy_text(text, testing::kFile, options);
  EXPECT_TRUE(policy.ok()) << (policy.ok() ? "" : policy.failure().message);
  return policy.ok() ? policy.value() : nullptr;
}

constexpr const char* kOpenProfiles =
    "default_profile: \"open\"\n"
    "profile { name: \"open\" mounts { read_write: \"/\" } }\n"
    "profile { name: \"other\" match { uid: 1001 } mounts { read_only: \"/usr\" } }\n";

TEST(DaemonSocket, IsDeniedInEveryProfileWithItsOrigin) {
  auto policy = load_with_socket(kOpenProfiles, "/srv/broker/nsb.sock");
  ASSERT_TRUE(policy);
  for (const CompiledProfile& profile : policy->profiles()) {
    EXPECT_EQ(profile.mounts.paths.deny, std::vector<std::string>{"/srv/broker/nsb.sock"}) << profile.name;
    EXPECT_EQ(profile.mounts.origins.deny, std::vector<std::string>{"nsbrokerd's own socket"});
  }
  Evaluation bind = evaluate(*policy, caller(1000, 1000), run("--ro-bind /srv/broker/nsb.sock /s -- /bin/true"),
                             SandboxMode::kPrivileged);
  ASSERT_FALSE(bind.allowed());
  EXPECT_EQ(bind.denial().message,
            "denied by profile \"open\": mounts.deny \"/srv/broker/nsb.sock\" covers --ro-bind "
            "/srv/broker/nsb.sock /s");
  EXPECT_TRUE(any_contains(bind.denial().rules, "[nsbrokerd's own socket]"));
  Evaluation root = evaluate(*policy, caller(1000, 1000), run("--ro-bind / / -- /bin/true"), SandboxMode::kPrivileged);
  ASSERT_TRUE(root.allowed()) << root.denial().message;
  EXPECT_TRUE(any_contains(root.decision().notes,
                           "--ro-bind / /: contains mounts.deny \"/srv/broker/nsb.sock\" (hidden inside the sandbox)"));
  EXPECT_EQ(root.decision().plan.path_rules.deny, std::vector<std::string>{"/srv/broker/nsb.sock"})
      << "the plan carries it to the sandbox, which masks it";
}

TEST(DaemonSocket, IsNotAddedTwiceWhereTheFileAlreadyDeniesIt) {
  auto policy = load_with_socket(
      "default_profile: \"p\"\nprofile { name: \"p\" mounts { read_only: \"/\" deny: \"/run/nsbroker\" } }\n",
      "/run/nsbroker/nsbroker.sock");
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->profiles()[0].mounts.paths.deny, std::vector<std::string>{"/run/nsbroker"});
}

TEST(DaemonSocket, ToolsThatLoadTheFileAloneSeeOnlyItsOwnRules) {
  auto policy = load_ok(kOpenProfiles);
  ASSERT_TRUE(policy);
  EXPECT_TRUE(policy->profiles()[0].mounts.paths.deny.empty());
}

}  // namespace
}  // namespace nsbroker::policy
