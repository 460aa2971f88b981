// Table tests for the decision stage: check_request() turns a Spawn into a Plan or refuses it
// with a message that says what was wrong.
#include "policy/request_check.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "client/run_options.h"
#include "policy/evaluate.h"
#include "policy_test_support.h"

namespace nsbroker::policy {
namespace {

wire::Spawn minimal_spawn() {
  wire::Spawn spawn;
  spawn.add_argv("/bin/true");
  spawn.add_env("PATH=/usr/bin");
  return spawn;
}

wire::MountOp& add_mount(wire::Spawn& spawn, wire::MountKind kind, std::string source,
                         std::string dest) {
  wire::MountOp* op = spawn.add_mounts();
  op->set_kind(kind);
  op->set_source(std::move(source));
  op->set_dest(std::move(dest));
  return *op;
}

Result<Plan> check(const wire::Spawn& spawn) {
  return check_request(auth::Caller{}, spawn, SandboxMode::kPrivileged);
}

struct NormalizeCase {
  std::string input;
  std::optional<std::string> expected;
};

class NormalizeDestination : public ::testing::TestWithParam<NormalizeCase> {};

TEST_P(NormalizeDestination, GivesOneAbsolutePathOrRefuses) {
  EXPECT_EQ(normalize_destination(GetParam().input), GetParam().expected) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Table, NormalizeDestination,
    ::testing::Values(NormalizeCase{"/usr", "/usr"}, NormalizeCase{"usr/lib", "/usr/lib"},
                      NormalizeCase{"/a//b/./c/", "/a/b/c"}, NormalizeCase{"/", "/"},
                      NormalizeCase{"//", "/"}, NormalizeCase{"/a/../etc", std::nullopt},
                      NormalizeCase{"..", std::nullopt}, NormalizeCase{"", std::nullopt},
                      NormalizeCase{"/a/..b", "/a/..b"}));

struct RefusalCase {
  const char* name;
  void (*edit)(wire::Spawn&);
  const char* message_part;
};

class RefusedRequest : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(RefusedRequest, NamesTheProblem) {
  wire::Spawn spawn = minimal_spawn();
  GetParam().edit(spawn);
  auto plan = check(spawn);
  ASSERT_FALSE(plan.ok()) << GetParam().name;
  EXPECT_EQ(plan.failure().code, wire::ERROR_INVALID_ARGUMENT);
  EXPECT_NE(plan.failure().message.find(GetParam().message_part), std::string::npos)
      << "message: " << plan.failure().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RefusedRequest,
    ::testing::Values(
        RefusalCase{"no command", [](wire::Spawn& s) { s.clear_argv(); }, "no command given"},
        RefusalCase{"empty argv0", [](wire::Spawn& s) { s.set_argv(0, ""); }, "no command given"},
        RefusalCase{"NUL in argv",
                    [](wire::Spawn& s) { s.add_argv(std::string("a\0b", 3)); },
                    "argv strings must not contain NUL"},
        RefusalCase{"env without =", [](wire::Spawn& s) { s.add_env("JUSTANAME"); },
                    "'JUSTANAME' is not NAME=value"},
        RefusalCase{"env with empty name", [](wire::Spawn& s) { s.add_env("=x"); },
                    "is not NAME=value"},
        RefusalCase{"hostname without uts", [](wire::Spawn& s) { s.set_hostname("box"); },
                    "--hostname needs --unshare-uts"},
        RefusalCase{"bind without source",
                    [](wire::Spawn& s) { add_mount(s, wire::MOUNT_BIND, "", "/x"); },
                    "--bind: empty source"},
        RefusalCase{"tmpfs with source",
                    [](wire::Spawn& s) { add_mount(s, wire::MOUNT_TMPFS, "/src", "/x"); },
                    "--tmpfs takes no source"},
        RefusalCase{"dest with ..",
                    [](wire::Spawn& s) { add_mount(s, wire::MOUNT_TMPFS, "", "/a/../b"); },
                    "without '..'"},
        RefusalCase{"empty dest",
                    [](wire::Spawn& s) { add_mount(s, wire::MOUNT_PROC, "", ""); },
                    "--proc : destination must be a non-empty path"},
        RefusalCase{"perms on a bind",
                    [](wire::Spawn& s) {
                      auto& op = add_mount(s, wire::MOUNT_RO_BIND, "/usr", "/usr");
                      op.set_has_perms(true);
                      op.set_perms(0700);
                    },
                    "--ro-bind takes no permissions"},
        RefusalCase{"perms above 07777",
                    [](wire::Spawn& s) {
                      auto& op = add_mount(s, wire::MOUNT_DIR, "", "/d");
                      op.set_has_perms(true);
                      op.set_perms(010000);
                    },
                    "permissions above 07777"},
        RefusalCase{"size on a dir",
                    [](wire::Spawn& s) {
                      add_mount(s, wire::MOUNT_DIR, "", "/d").set_size_bytes(4096);
                    },
                    "--dir takes no size"},
        RefusalCase{"unknown kind",
                    [](wire::Spawn& s) {
                      add_mount(s, static_cast<wire::MountKind>(99), "", "/d");
                    },
                    "unknown mount operation kind 99"},
        RefusalCase{"two --dev",
                    [](wire::Spawn& s) {
                      add_mount(s, wire::MOUNT_DEV, "", "/dev");
                      add_mount(s, wire::MOUNT_DEV, "", "/dev2");
                    },
                    "--dev may be given only once"},
        RefusalCase{"data op without fd",
                    [](wire::Spawn& s) { add_mount(s, wire::MOUNT_RO_BIND_DATA, "", "/f"); },
                    "--ro-bind-data needs the fd its data comes from"},
        RefusalCase{"fd below the data fds",
                    [](wire::Spawn& s) {
                      add_mount(s, wire::MOUNT_FILE, "", "/f").set_source_fd(2);
                    },
                    "--file: fd 2 is not a data fd (those start at 4)"},
        RefusalCase{"fd on a tmpfs",
                    [](wire::Spawn& s) {
                      add_mount(s, wire::MOUNT_TMPFS, "", "/t").set_source_fd(4);
                    },
                    "--tmpfs takes no file descriptor"},
        RefusalCase{"try form of a tmpfs",
                    [](wire::Spawn& s) {
                      add_mount(s, wire::MOUNT_TMPFS, "", "/t").set_ignore_missing_source(true);
                    },
                    "--tmpfs has no -try form"},
        RefusalCase{"chmod without mode",
                    [](wire::Spawn& s) { add_mount(s, wire::MOUNT_CHMOD, "", "/t"); },
                    "--chmod needs the mode"},
        RefusalCase{"unknown capability",
                    [](wire::Spawn& s) { s.add_cap_add("CAP_FLY"); },
                    "--cap-add CAP_FLY: unknown capability"},
        RefusalCase{"seccomp fd below the data fds",
                    [](wire::Spawn& s) { s.add_seccomp_fds(1); },
                    "seccomp_fds names fd 1, which is not a data fd"},
        RefusalCase{"too many mounts",
                    [](wire::Spawn& s) {
                      for (int i = 0; i < 513; ++i) add_mount(s, wire::MOUNT_DIR, "", "/d");
                    },
                    "more than 512 mount operations"}),
    [](const ::testing::TestParamInfo<RefusalCase>& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(AcceptedRequest, KeepsOrderNamespacesAndNormalisedDestinations) {
  wire::Spawn spawn = minimal_spawn();
  spawn.mutable_unshare()->set_net(true);
  spawn.mutable_unshare()->set_uts(true);
  spawn.set_hostname("box");
  add_mount(spawn, wire::MOUNT_RO_BIND, "/usr", "usr");
  auto& tmpfs = add_mount(spawn, wire::MOUNT_TMPFS, "", "/tmp//x/");
  tmpfs.set_has_perms(true);
  tmpfs.set_perms(01777);
  tmpfs.set_size_bytes(1 << 20);
  add_mount(spawn, wire::MOUNT_SYMLINK, "usr/bin", "/bin");
  spawn.set_cwd_path("/home/alice/project");
  spawn.set_as_pid_1(true);

  auto plan = check(spawn);
  ASSERT_TRUE(plan.ok()) << plan.failure().message;
  const Plan& p = plan.value();
  EXPECT_TRUE(p.unshare_net);
  EXPECT_TRUE(p.unshare_uts);
  EXPECT_FALSE(p.unshare_ipc);
  EXPECT_EQ(p.hostname, "box");
  ASSERT_EQ(p.mounts.size(), 3u);
  EXPECT_EQ(p.mounts[0].dest, "/usr");
  EXPECT_EQ(p.mounts[1].dest, "/tmp/x");
  EXPECT_EQ(p.mounts[1].perms, 01777u);
  EXPECT_EQ(p.mounts[1].size_bytes, 1u << 20);
  EXPECT_EQ(p.mounts[2].source, "usr/bin");
  EXPECT_EQ(p.cwd_path, "/home/alice/project");
  EXPECT_TRUE(p.as_pid_1);
  EXPECT_EQ(p.mode, SandboxMode::kPrivileged);
}

TEST(AcceptedRequest, DataFdsBecomeIndexesFromTheFirstDataFd) {
  wire::Spawn spawn = minimal_spawn();
  auto& bind = add_mount(spawn, wire::MOUNT_RO_BIND, "", "/by-fd");
  bind.set_source_fd(5);
  bind.set_ignore_missing_source(true);
  auto& data = add_mount(spawn, wire::MOUNT_RO_BIND_DATA, "", "/data");
  data.set_source_fd(4);
  data.set_has_perms(true);
  data.set_perms(0);
  spawn.add_seccomp_fds(6);
  spawn.set_argv0("shown-name");
  spawn.add_cap_add("net_admin");
  auto plan = check(spawn);
  ASSERT_TRUE(plan.ok()) << plan.failure().message;
  EXPECT_EQ(plan.value().mounts[0].source_fd, 1u);
  EXPECT_TRUE(plan.value().mounts[0].ignore_missing_source);
  EXPECT_EQ(plan.value().mounts[1].source_fd, 0u);
  EXPECT_EQ(plan.value().mounts[1].perms, 0u);
  EXPECT_EQ(plan.value().client_filter_fds, std::vector<std::size_t>{2});
  EXPECT_EQ(plan.value().argv0, "shown-name");
  EXPECT_EQ(plan.value().capabilities_inside, std::uint64_t{1} << 12);
}

TEST(CapabilityMask, KnowsNamesWithAndWithoutPrefixAndAll) {
  EXPECT_EQ(capability_mask("CAP_CHOWN"), std::uint64_t{1});
  EXPECT_EQ(capability_mask("sys_admin"), std::uint64_t{1} << 21);
  EXPECT_EQ(capability_mask("ALL"), (std::uint64_t{1} << 41) - 1);
  EXPECT_EQ(capability_mask("CAP_NOPE"), std::nullopt);
}

TEST(AcceptedRequest, IgnoresARelativeWorkingDirectory) {
  wire::Spawn spawn = minimal_spawn();
  spawn.set_cwd_path("relative/dir");
  auto plan = check(spawn);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan.value().cwd_path, "");
}


// ---- The client is not a security boundary (DESIGN.md §2) ---------------------------------
//
// Every refusal of the client's parser (client/run_options.cpp) whose request could still be
// written on the wire, next to that request sent raw: the daemon refuses it as well, with a
// message that says what was wrong. Refusals that leave nothing on the wire (a --perms or
// --size waiting for the next option, --argv0 twice, --seccomp mixed with --add-seccomp-fd,
// the --userns-block-fd/--disable-userns rules about fds and flags the client serves itself,
// --args files, unknown options) have no raw equivalent to test.

struct ClientRefusalCase {
  const char* name;
  const char* client_words;  // `nsbroker run` words the client refuses
  const char* client_error;  // part of the client's message
  void (*raw)(wire::Spawn&);  // the same request as the client would have sent it
  const char* daemon_error;  // part of the daemon's message
};

class ClientRefusal : public ::testing::TestWithParam<ClientRefusalCase> {};

client::ParseOutcome parse_client(const std::string& words) {
  std::vector<std::string> split;
  std::istringstream in(words);
  for (std::string word; in >> word;) split.push_back(word == "''" ? "" : word);
  std::vector<std::string_view> views(split.begin(), split.end());
  return client::parse_run_options(views, {});
}

TEST_P(ClientRefusal, IsARefusalOfTheDaemonToo) {
  const ClientRefusalCase& c = GetParam();
  client::ParseOutcome parsed = parse_client(c.client_words);
  ASSERT_EQ(parsed.kind, client::ParseKind::kError) << c.client_words;
  EXPECT_NE(parsed.error.find(c.client_error), std::string::npos) << "client: " << parsed.error;

  wire::Spawn spawn = minimal_spawn();
  c.raw(spawn);
  auto plan = check(spawn);
  ASSERT_FALSE(plan.ok()) << c.name << ": the daemon accepted what the client refuses";
  EXPECT_EQ(plan.failure().code, wire::ERROR_INVALID_ARGUMENT);
  EXPECT_NE(plan.failure().message.find(c.daemon_error), std::string::npos)
      << "daemon: " << plan.failure().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClientRefusal,
    ::testing::Values(
        ClientRefusalCase{"lock_file_with_as_pid_1", "--as-pid-1 --lock-file /l -- /bin/true",
                          "--as-pid-1 and --lock-file cannot be combined",
                          [](wire::Spawn& s) {
                            s.set_as_pid_1(true);
                            add_mount(s, wire::MOUNT_LOCK_FILE, "", "/l");
                          },
                          "--lock-file cannot be combined with --as-pid-1"},
        ClientRefusalCase{"lock_file_before_as_pid_1", "--lock-file /l --as-pid-1 -- /bin/true",
                          "cannot be combined",
                          [](wire::Spawn& s) {
                            add_mount(s, wire::MOUNT_DIR, "", "/d");
                            add_mount(s, wire::MOUNT_LOCK_FILE, "", "/l");
                            s.set_as_pid_1(true);
                          },
                          "drop one of them"},
        ClientRefusalCase{"uid_minus_one", "--unshare-user --uid 4294967295 -- /bin/true",
                          "--uid needs a numeric id",
                          [](wire::Spawn& s) {
                            s.set_has_uid(true);
                            s.set_uid(4294967295u);
                          },
                          "--uid 4294967295 is (uid_t)-1, which names nobody"},
        ClientRefusalCase{"gid_minus_one", "--unshare-user --gid 4294967295 -- /bin/true",
                          "--gid needs a numeric id",
                          [](wire::Spawn& s) {
                            s.set_has_gid(true);
                            s.set_gid(4294967295u);
                          },
                          "--gid 4294967295 is (gid_t)-1, which names nobody"},
        ClientRefusalCase{"perms_on_a_lock_file", "--perms 0600 --lock-file /l -- /bin/true",
                          "--perms must come right before",
                          [](wire::Spawn& s) {
                            auto& op = add_mount(s, wire::MOUNT_LOCK_FILE, "", "/l");
                            op.set_has_perms(true);
                            op.set_perms(0600);
                          },
                          "--lock-file takes no permissions"},
        ClientRefusalCase{"perms_on_a_bind", "--perms 0600 --ro-bind /usr /usr -- /bin/true",
                          "--perms must come right before",
                          [](wire::Spawn& s) {
                            auto& op = add_mount(s, wire::MOUNT_RO_BIND, "/usr", "/usr");
                            op.set_has_perms(true);
                            op.set_perms(0600);
                          },
                          "--ro-bind takes no permissions"},
        ClientRefusalCase{"perms_above_07777", "--perms 10000 --tmpfs /t -- /bin/true",
                          "--perms needs an octal mode from 0 to 7777",
                          [](wire::Spawn& s) {
                            auto& op = add_mount(s, wire::MOUNT_TMPFS, "", "/t");
                            op.set_has_perms(true);
                            op.set_perms(010000);
                          },
                          "permissions above 07777"},
        ClientRefusalCase{"chmod_above_07777", "--chmod 10000 /t -- /bin/true",
                          "--chmod needs an octal mode from 0 to 7777",
                          [](wire::Spawn& s) {
                            auto& op = add_mount(s, wire::MOUNT_CHMOD, "", "/t");
                            op.set_has_perms(true);
                            op.set_perms(010000);
                          },
                          "--chmod: permissions above 07777"},
        ClientRefusalCase{"size_on_a_dir", "--size 4096 --dir /d -- /bin/true",
                          "--size must come right before the --tmpfs",
                          [](wire::Spawn& s) {
                            add_mount(s, wire::MOUNT_DIR, "", "/d").set_size_bytes(4096);
                          },
                          "--dir takes no size"},
        ClientRefusalCase{"negative_data_fd", "--file -1 /f -- /bin/true",
                          "FD must be a file descriptor number",
                          [](wire::Spawn& s) {
                            add_mount(s, wire::MOUNT_FILE, "", "/f").set_source_fd(3);
                          },
                          "--file: fd 3 is not a data fd (those start at 4)"},
        ClientRefusalCase{"negative_seccomp_fd", "--seccomp -1 -- /bin/true",
                          "FD must be a file descriptor number",
                          [](wire::Spawn& s) { s.add_seccomp_fds(0); },
                          "seccomp_fds names fd 0, which is not a data fd"},
        ClientRefusalCase{"unknown_capability_name", "--cap-add CAP_FLY -- /bin/true",
                          "unknown capability 'CAP_FLY'",
                          [](wire::Spawn& s) { s.add_cap_add("CAP_FLY"); },
                          "--cap-add CAP_FLY: unknown capability"},
        ClientRefusalCase{"capability_number_out_of_range", "--cap-add 41 -- /bin/true",
                          "unknown capability '41'",
                          [](wire::Spawn& s) { s.add_cap_add("41"); },
                          "--cap-add 41: unknown capability"},
        ClientRefusalCase{"hostname_without_uts", "--hostname box -- /bin/true",
                          "--hostname needs a new UTS namespace",
                          [](wire::Spawn& s) { s.set_hostname("box"); },
                          "--hostname needs --unshare-uts"},
        ClientRefusalCase{"empty_variable_name", "--setenv '' value -- /bin/true",
                          "VAR must not be empty",
                          [](wire::Spawn& s) { s.add_env("=value"); },
                          "'=value' is not NAME=value"},
        ClientRefusalCase{"empty_bind_source", "--bind '' /x -- /bin/true",
                          "SRC must not be empty",
                          [](wire::Spawn& s) { add_mount(s, wire::MOUNT_BIND, "", "/x"); },
                          "--bind: empty source"},
        ClientRefusalCase{"empty_symlink_target", "--symlink '' /x -- /bin/true",
                          "TARGET must not be empty",
                          [](wire::Spawn& s) { add_mount(s, wire::MOUNT_SYMLINK, "", "/x"); },
                          "--symlink: empty source"},
        ClientRefusalCase{"empty_destination", "--tmpfs '' -- /bin/true",
                          "DEST must not be empty",
                          [](wire::Spawn& s) { add_mount(s, wire::MOUNT_TMPFS, "", ""); },
                          "destination must be a non-empty path"},
        ClientRefusalCase{"no_command", "--unshare-net --", "no command given",
                          [](wire::Spawn& s) { s.clear_argv(); }, "no command given"}),
    [](const ::testing::TestParamInfo<ClientRefusalCase>& info) { return std::string(info.param.name); });

// The same combination through the whole decision stage (what the daemon runs), for a caller
// whose profile allows everything else.
TEST(ClientRefusal, EvaluateRefusesLockFileWithAsPid1) {
  auto policy = testing::load_ok(
      "default_profile: \"p\"\nprofile { name: \"p\" mounts { read_only: \"/\" } }\n");
  ASSERT_NE(policy, nullptr);
  wire::Spawn spawn = minimal_spawn();
  spawn.set_as_pid_1(true);
  add_mount(spawn, wire::MOUNT_LOCK_FILE, "", "/run/lock");
  Evaluation result = evaluate(*policy, testing::caller(1000, 1000), spawn, SandboxMode::kPrivileged);
  ASSERT_FALSE(result.allowed());
  EXPECT_EQ(result.denial().code, wire::ERROR_INVALID_ARGUMENT);
  EXPECT_NE(result.denial().message.find("--lock-file cannot be combined with --as-pid-1"),
            std::string::npos)
      << result.denial().message;
}

// --uid, --gid and --cap-add need a user namespace. The client leaves that to the daemon
// (it cannot know the mode); the decision stage refuses them in privileged mode, even where
// the profile would allow root inside a user namespace.
TEST(ClientRefusal, IdsAndCapabilitiesInsideNeedAUserNamespace) {
  auto policy = testing::load_ok(
      "default_profile: \"p\"\nprofile { name: \"p\" namespaces { allow_user_namespace: true "
      "allow_root_inside: true } mounts { read_only: \"/\" } }\n");
  ASSERT_NE(policy, nullptr);
  for (const char* words : {"--uid 0 -- /bin/true", "--gid 0 -- /bin/true", "--uid 1234 -- /bin/true",
                            "--cap-add CAP_NET_ADMIN -- /bin/true"}) {
    wire::Spawn spawn = testing::run(words);
    Evaluation privileged = evaluate(*policy, testing::caller(1000, 1000), spawn, SandboxMode::kPrivileged);
    ASSERT_FALSE(privileged.allowed()) << words;
    EXPECT_NE(privileged.denial().message.find("needs a user namespace"), std::string::npos)
        << words << ": " << privileged.denial().message;
    Evaluation userns =
        evaluate(*policy, testing::caller(1000, 1000), spawn, SandboxMode::kUserNamespace);
    EXPECT_TRUE(userns.allowed()) << words << ": " << (userns.allowed() ? "" : userns.denial().message);
  }
}

}  // namespace
}  // namespace nsbroker::policy
