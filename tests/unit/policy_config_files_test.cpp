// The policy files shipped in config/: every one validates (with this host's user and group
// names), and each allows and refuses what its comments promise. The default must allow what
// scripts/demo.sh, tests/bench and Codex's bwrap calls ask for.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "policy/evaluate.h"
#include "policy/policy_loader.h"
#include "policy_test_support.h"

namespace nsbroker::policy {
namespace {

using testing::caller;
using testing::run;

const std::filesystem::path kConfigDir = std::filesystem::path(NSBROKER_SOURCE_DIR) / "config";

std::vector<std::filesystem::path> shipped_policy_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& dir : {kConfigDir, kConfigDir / "examples"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".pbtxt") files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ConfigFiles, EveryShippedPolicyValidates) {
  std::vector<std::filesystem::path> files = shipped_policy_files();
  std::vector<std::string> names;
  for (const auto& file : files) names.push_back(file.lexically_relative(kConfigDir).string());
  for (const char* expected : {"policy.pbtxt", "examples/codex.pbtxt", "examples/shared-nas.pbtxt",
                               "examples/locked-down.pbtxt"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected << " is missing";
  }
  for (const auto& file : files) {
    auto policy = load_policy_file(file.string());
    EXPECT_TRUE(policy) << file << ":\n" << policy.failure().message;
  }
}

std::shared_ptr<const CompiledPolicy> shipped(const char* relative) {
  auto policy = load_policy_file((kConfigDir / relative).string());
  if (!policy) {
    ADD_FAILURE() << relative << ":\n" << policy.failure().message;
    return nullptr;
  }
  return policy.value();
}

struct Expectation {
  const char* name;
  const char* file;
  uid_t uid;
  std::vector<gid_t> groups;
  const char* words;
  bool allowed;
};

class ShippedPolicy : public ::testing::TestWithParam<Expectation> {};

TEST_P(ShippedPolicy, DoesWhatItsCommentsSay) {
  const Expectation& e = GetParam();
  auto policy = shipped(e.file);
  ASSERT_TRUE(policy);
  for (SandboxMode mode : {SandboxMode::kUserNamespace, SandboxMode::kPrivileged}) {
    Evaluation result = evaluate(*policy, caller(e.uid, e.uid, e.groups), run(e.words), mode);
    EXPECT_EQ(result.allowed(), e.allowed)
        << e.file << " " << to_string(mode) << ": " << e.words << "\n"
        << (result.allowed() ? std::string("allowed") : result.denial().message);
  }
}

// Codex's calls as captured (/work/shared/testdata), minus --cap-drop/--argv0, which the run
// parser does not take (the bwrap front handles them).
constexpr const char* kCodexStartupProbe = "--unshare-user --unshare-net --ro-bind / / /bin/true";
constexpr const char* kCodexPreflight =
    "--as-pid-1 --new-session --die-with-parent --tmpfs / --dev /dev --ro-bind /bin /bin "
    "--ro-bind /etc /etc --ro-bind /lib /lib --ro-bind /lib64 /lib64 --ro-bind /sbin /sbin "
    "--ro-bind /usr /usr --unshare-user --unshare-pid --unshare-ipc --unshare-net --proc /proc "
    "-- /usr/bin/true";
constexpr const char* kCodexMain =
    "--as-pid-1 --new-session --die-with-parent --ro-bind / / --dev /dev "
    "--perms 000 --tmpfs /tmp/codex-daemon-0 --remount-ro /tmp/codex-daemon-0 --bind /tmp /tmp "
    "--perms 555 --tmpfs /tmp/.git --remount-ro /tmp/.git "
    "--ro-bind /tmp/codex-bwrap-synthetic-mount-targets-0 /tmp/codex-bwrap-synthetic-mount-targets-0 "
    "--bind /home/alice/project /home/alice/project "
    "--ro-bind /home/alice/project/.git /home/alice/project/.git "
    "--perms 555 --tmpfs /home/alice/project/.codex --remount-ro /home/alice/project/.codex "
    "--dir /home/alice/project/secret/ok --bind /var/tmp/alice-tmp /var/tmp/alice-tmp "
    "--ro-bind /dev/null /home/alice/project/.env "
    "--unshare-user --unshare-pid --unshare-ipc --unshare-net --proc /proc --chdir /home/alice/project "
    "-- /usr/bin/codex --sandbox-policy-cwd /home/alice/project -- /bin/sh -c true";
constexpr const char* kCodexMinimal =
    "--as-pid-1 --new-session --die-with-parent --tmpfs / --dev /dev --ro-bind /bin /bin "
    "--ro-bind /etc /etc --ro-bind /home/alice/project /home/alice/project --ro-bind /lib /lib "
    "--ro-bind /var/lib/codex-home/tmp/arg0-linux/codex-arg0X /var/lib/codex-home/tmp/arg0-linux/codex-arg0X "
    "--ro-bind /usr /usr --bind /home/alice/project /home/alice/project --unshare-user --unshare-pid "
    "--unshare-ipc --unshare-net --proc /proc -- /usr/bin/codex";
// scripts/demo.sh and tests/bench/bench_run.sh, as uid 1500 (no passwd entry).
constexpr const char* kDemo =
    "--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/sbin /sbin --symlink usr/lib /lib "
    "--symlink usr/lib64 /lib64 --ro-bind /etc /etc --proc /proc --dev /dev --tmpfs /tmp "
    "--unshare-all --hostname nsbroker-demo --die-with-parent --new-session --chdir / --clearenv "
    "--setenv PATH /usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin --setenv HOME /tmp -- /bin/sh -c true";
constexpr const char* kBench =
    "--ro-bind / / --dev /dev --tmpfs /tmp --unshare-pid --unshare-net --unshare-ipc --new-session "
    "--die-with-parent -- /bin/true";

INSTANTIATE_TEST_SUITE_P(
    Table, ShippedPolicy,
    ::testing::Values(
        // the default
        Expectation{"default_codex_startup_probe", "policy.pbtxt", 1000, {}, kCodexStartupProbe, true},
        Expectation{"default_codex_preflight", "policy.pbtxt", 1000, {}, kCodexPreflight, true},
        Expectation{"default_codex_main", "policy.pbtxt", 1000, {}, kCodexMain, true},
        Expectation{"default_codex_minimal", "policy.pbtxt", 1000, {}, kCodexMinimal, true},
        Expectation{"default_demo", "policy.pbtxt", 1500, {}, kDemo, true},
        Expectation{"default_bench", "policy.pbtxt", 1500, {}, kBench, true},
        Expectation{"default_no_shadow", "policy.pbtxt", 1000, {}, "--ro-bind /etc/shadow /s -- /bin/true", false},
        Expectation{"default_no_daemon_socket", "policy.pbtxt", 1000, {},
                    "--ro-bind /run/nsbroker/nsbroker.sock /s -- /bin/true", false},
        Expectation{"default_no_docker", "policy.pbtxt", 1000, {}, "--bind /run/docker.sock /d -- /bin/true", false},
        Expectation{"default_system_read_only", "policy.pbtxt", 1000, {}, "--bind /usr /usr -- /bin/true", false},
        Expectation{"default_no_block_devices", "policy.pbtxt", 1000, {}, "--dev-bind /dev/sda /d -- /bin/true", false},
        Expectation{"default_tmpfs_cap", "policy.pbtxt", 1000, {}, "--size 2147483648 --tmpfs /t -- /bin/true", false},
        // codex
        Expectation{"codex_main", "examples/codex.pbtxt", 1000, {}, kCodexMain, true},
        Expectation{"codex_preflight", "examples/codex.pbtxt", 1000, {}, kCodexPreflight, true},
        Expectation{"codex_minimal", "examples/codex.pbtxt", 1000, {}, kCodexMinimal, true},
        Expectation{"codex_no_root_home", "examples/codex.pbtxt", 1000, {}, "--ro-bind /root /r -- /bin/true", false},
        Expectation{"codex_no_write_outside", "examples/codex.pbtxt", 1000, {}, "--bind /etc /etc -- /bin/true", false},
        // shared NAS, by group
        Expectation{"nas_member_writes_projects", "examples/shared-nas.pbtxt", 1200, {100},
                    "--ro-bind /usr /usr --bind /volume1/projects/film /w --proc /proc -- /bin/true", true},
        Expectation{"nas_member_media_read_only", "examples/shared-nas.pbtxt", 1200, {100},
                    "--bind /volume1/media /m -- /bin/true", false},
        Expectation{"nas_member_admin_dir_denied", "examples/shared-nas.pbtxt", 1200, {100},
                    "--ro-bind /volume1/projects/.admin /a -- /bin/true", false},
        Expectation{"nas_guest_public_only", "examples/shared-nas.pbtxt", 1300, {},
                    "--ro-bind /volume1/public /p -- /bin/true", true},
        Expectation{"nas_guest_no_projects", "examples/shared-nas.pbtxt", 1300, {},
                    "--ro-bind /volume1/projects /p -- /bin/true", false},
        // locked down
        Expectation{"locked_system_dirs", "examples/locked-down.pbtxt", 1000, {},
                    "--ro-bind /usr /usr --tmpfs /tmp --proc /proc --dev /dev -- /bin/true", true},
        Expectation{"locked_no_root_bind", "examples/locked-down.pbtxt", 1000, {}, kCodexStartupProbe, false},
        Expectation{"locked_no_writable_bind", "examples/locked-down.pbtxt", 1000, {},
                    "--bind /tmp /tmp -- /bin/true", false}),
    [](const ::testing::TestParamInfo<Expectation>& info) { return std::string(info.param.name); });

TEST(ConfigFiles, CodexProfileKeepsTheNetworkOff) {
  auto policy = shipped("examples/codex.pbtxt");
  ASSERT_TRUE(policy);
  Evaluation result = evaluate(*policy, caller(1000, 1000), run("--ro-bind / / -- /bin/true"),
                               SandboxMode::kUserNamespace);
  ASSERT_TRUE(result.allowed()) << result.denial().message;
  EXPECT_TRUE(result.decision().plan.unshare_net);
}

TEST(ConfigFiles, SharedNasSelectsByGroupAndStaysPrivileged) {
  auto policy = shipped("examples/shared-nas.pbtxt");
  ASSERT_TRUE(policy);
  Evaluation member = evaluate(*policy, caller(1200, 1200, {100}), run("-- /bin/true"), SandboxMode::kUserNamespace);
  ASSERT_TRUE(member.allowed());
  EXPECT_EQ(member.decision().profile, "nas-users");
  EXPECT_EQ(member.decision().plan.mode, SandboxMode::kPrivileged);
  Evaluation guest = evaluate(*policy, caller(1300, 1300), run("-- /bin/true"), SandboxMode::kUserNamespace);
  ASSERT_TRUE(guest.allowed());
  EXPECT_EQ(guest.decision().profile, "guest");
}

TEST(ConfigFiles, LockedDownForcesPathAndAddsSeccompRules) {
  auto policy = shipped("examples/locked-down.pbtxt");
  ASSERT_TRUE(policy);
  Evaluation result = evaluate(*policy, caller(1000, 1000), run("-- /bin/true", {"PATH=/home/x/bin", "LD_PRELOAD=/x.so"}),
                               SandboxMode::kUserNamespace);
  ASSERT_TRUE(result.allowed()) << result.denial().message;
  EXPECT_EQ(result.decision().plan.env, std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin"});
  auto base = sandbox::SeccompProgram::compile_base();
  ASSERT_TRUE(base);
  EXPECT_GT(result.decision().plan.seccomp->instruction_count(), base.value().instruction_count());
}

}  // namespace
}  // namespace nsbroker::policy
