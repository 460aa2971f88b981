// The admin policy at work in a real daemon: refusals that name the rule and touch nothing,
// paths judged as opened (not as sent), the seccomp filters inside the sandbox, SIGHUP
// reload, and the audit trail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <seccomp.h>

#include "harness.h"

namespace nsbroker::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string directory_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to start nsbrokerd";
    work_ = std::make_unique<TempDir>("nsb-it-policy-", 0755);
    home_ = *work_ / "home";
    outside_ = *work_ / "outside";
    make_dir(home_, kCallerUid, kCallerUid, 0755);
    make_dir(home_ + "/proj", kCallerUid, kCallerUid, 0755);
    make_dir(outside_, kCallerUid, kCallerUid, 0755);
    // Readable by the caller, but denied by the policy: only the policy can stop a bind.
    denied_ = home_ + "/denied";
    make_dir(denied_, kCallerUid, kCallerUid, 0755);
    write_file(denied_ + "/note", "private\n");
    ::chown((denied_ + "/note").c_str(), kCallerUid, kCallerUid);
    ::symlink(denied_.c_str(), (home_ + "/innocent-link").c_str());
    ::lchown((home_ + "/innocent-link").c_str(), kCallerUid, kCallerUid);
    audit_ = *work_ / "audit.jsonl";
  }

  // A profile for uid 1500 with narrow prefixes and one extra seccomp rule.
  std::string policy(const std::string& extra_profile_text = "", bool client_filters = false) const {
    return "default_profile: \"user\"\n"
           "profile {\n"
           "  name: \"user\"\n"
           "  namespaces { net: ALLOWED ipc: ALLOWED uts: ALLOWED allow_user_namespace: true }\n"
           "  mounts {\n"
           "    read_only: \"/usr\"\n"
           "    read_only: \"/etc\"\n"
           "    read_only: \"" + directory_of(binaries().helper) + "\"\n"
           "    read_write: \"" + home_ + "\"\n"
           "    deny: \"" + denied_ + "\"\n"
           "    deny: \"/etc/shadow\"\n"
           "    devices: \"/dev\"\n"
           "    allow_proc: true\n"
           "    allow_dev: true\n"
           "    allow_tmpfs: true\n"
           "    create_missing_mount_points: true\n"
           "  }\n"
           "  seccomp {\n"
           "    rule { syscall: \"socket\" action: \"EACCES\" arg { index: 0 op: EQ value: 2 } }\n" +
           (client_filters ? "    accept_client_filter: true\n" : "") +
           "  }\n" +
           extra_profile_text +
           "}\n";
  }

  void start(const std::string& policy_text) {
    DaemonSpec spec;
    spec.policy_text = policy_text;
    spec.extra_args = {"--audit-json", audit_};
    daemon_ = std::make_unique<DaemonProcess>(spec);
    ASSERT_TRUE(daemon_->ready()) << daemon_->error();
  }

  ProcessResult run(std::vector<std::string> args) {
    std::vector<std::string> all = base_mounts();
    all.insert(all.end(), args.begin(), args.end());
    return run_process(client_spec(daemon_->socket_path(), all));
  }

  std::string audit_text() const {
    std::ifstream in(audit_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::unique_ptr<TempDir> work_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string home_, outside_, denied_, audit_;
};

TEST_F(PolicyTest, BindOutsideTheAllowedPrefixesIsDeniedNamingTheRuleAndCreatesNothing) {
  start(policy());
  std::set<std::string> before = list_tree(work_->path());
  auto r = run({"--bind", home_ + "/proj", "/proj", "--dir", "/proj/would-be-made", "--bind",
                outside_, "/out", "--", "true"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("denied by profile \"user\""));
  EXPECT_THAT(r.err, HasSubstr("--bind " + outside_ + " /out")) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("read_write")) << "the message names the rule\n" << r.describe();
  EXPECT_EQ(list_tree(work_->path()), before) << "a denied request touched the host";
  EXPECT_THAT(daemon_->log(), Not(HasSubstr("started as pid"))) << "no sandbox was created";
}

TEST_F(PolicyTest, DeniedPathReachedThroughASymlinkIsStillDenied) {
  start(policy());
  std::set<std::string> before = list_tree(work_->path());
  // The string names an allowed place; the kernel says it is the denied directory.
  auto r = run({"--bind", home_ + "/proj", "/proj", "--dir", "/proj/would-be-made", "--ro-bind",
                home_ + "/innocent-link", "/x", "--", "cat", "/x/note"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("(opened as " + denied_ + "): denied by policy: covered by mounts.deny"))
      << r.describe();
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(list_tree(work_->path()), before) << "nothing may be created for a denied request";
}

TEST_F(PolicyTest, DeniedPathInsideALargerBindIsMasked) {
  start(policy());
  auto r = run({"--ro-bind", home_, "/h", "--", "sh", "-c", "ls -d /h/proj && cat /h/denied/note"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("Permission denied")) << r.describe();
  EXPECT_EQ(r.out, "/h/proj\n") << "the rest of the bind is there";
}

TEST_F(PolicyTest, BaseFilterAndTheProfilesRuleHoldInsideTheSandbox) {
  start(policy());
  std::vector<std::string> args = {"--ro-bind", binaries().helper, "/nsb-helper", "--dev", "/dev",
                                   "--", "/nsb-helper", "--nsb-helper", "syscalls"};
  auto r = run(args);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("keyctl=EPERM\n"));
  EXPECT_THAT(r.out, HasSubstr("bpf=EPERM\n"));
  EXPECT_THAT(r.out, HasSubstr("ptrace=EPERM\n"));
  EXPECT_THAT(r.out, HasSubstr("perf_event_open=EPERM\n"));
  EXPECT_THAT(r.out, HasSubstr("io_uring_setup=ENOSYS\n"));
  EXPECT_THAT(r.out, HasSubstr("unshare_user=EPERM\n"));
  EXPECT_THAT(r.out, HasSubstr("tiocsti=EPERM\n"));
  EXPECT_THAT(r.out, HasSubstr("socket_inet=EACCES\n")) << "the profile's own rule (AF_INET)";
  EXPECT_THAT(r.out, HasSubstr("socket_unix=ok\n")) << "its argument condition spares AF_UNIX";
}

TEST_F(PolicyTest, SighupKeepsTheOldPolicyOnABrokenFileAndTakesAGoodOne) {
  start(policy());
  const std::string& file = daemon_->policy_path();
  auto denied_now = run({"--ro-bind", outside_, "/out", "--", "true"});
  ASSERT_EQ(denied_now.exit_code, 1) << denied_now.describe();

  write_file(file, "profile { name: \"broken\" no_such_field: 1 }\n");
  ::kill(daemon_->pid(), SIGHUP);
  ASSERT_TRUE(poll_until(5s, [&] { return daemon_->log().find("keeping the previous policy") != std::string::npos; }))
      << daemon_->log();
  EXPECT_THAT(daemon_->log(), HasSubstr("policy.pbtxt:1:")) << "the error says where";
  auto still = run({"--ro-bind", outside_, "/out", "--", "true"});
  EXPECT_EQ(still.exit_code, 1) << "the old policy still applies\n" << still.describe();
  auto allowed_still = run({"--ro-bind", home_, "/h", "--", "true"});
  EXPECT_EQ(allowed_still.exit_code, 0) << allowed_still.describe();

  std::string widened = policy();
  widened.replace(widened.find("    read_write: "), 0, "    read_only: \"" + outside_ + "\"\n");
  write_file(file, widened);
  ::kill(daemon_->pid(), SIGHUP);
  ASSERT_TRUE(poll_until(5s, [&] { return daemon_->log().find("SIGHUP: reloaded") != std::string::npos; }))
      << daemon_->log();
  auto now_allowed = run({"--ro-bind", outside_, "/out", "--", "true"});
  EXPECT_EQ(now_allowed.exit_code, 0) << now_allowed.describe();
}

TEST_F(PolicyTest, AuditRecordsEveryDecisionStartAndExit) {
  start(policy());
  auto ok = run({"--", "sh", "-c", "exit 5"});
  ASSERT_EQ(ok.exit_code, 5) << ok.describe();
  auto denied = run({"--ro-bind", outside_, "/out", "--", "true"});
  ASSERT_EQ(denied.exit_code, 1);
  std::string audit;
  ASSERT_TRUE(poll_until(5s, [&] {
    audit = audit_text();
    return audit.find("\"exit_code\":5") != std::string::npos;
  })) << audit;
  EXPECT_THAT(audit, HasSubstr("\"event\":\"decision\",\"verdict\":\"allow\",\"uid\":1500"));
  EXPECT_THAT(audit, HasSubstr("\"event\":\"start\""));
  EXPECT_THAT(audit, HasSubstr("\"event\":\"exit\""));
  EXPECT_THAT(audit, HasSubstr("\"verdict\":\"deny\""));
  EXPECT_THAT(audit, HasSubstr("\"profile\":\"user\""));
  EXPECT_THAT(audit, HasSubstr("mounts.read_only")) << "the deciding rules are recorded";
}

TEST_F(PolicyTest, RequiredNetworkNamespaceIsForcedAndAForbiddenOneRefused) {
  std::string text = policy();
  text.replace(text.find("net: ALLOWED"), std::string("net: ALLOWED").size(), "net: REQUIRED");
  text.replace(text.find("uts: ALLOWED"), std::string("uts: ALLOWED").size(), "uts: FORBIDDEN");
  start(text);
  auto r = run({"--ro-bind", binaries().helper, "/nsb-helper", "--proc", "/proc", "--",
                "/nsb-helper", "--nsb-helper", "lo"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("interfaces=lo\n")) << "network unshared although not asked";
  auto uts = run({"--unshare-uts", "--", "true"});
  EXPECT_EQ(uts.exit_code, 1) << uts.describe();
  EXPECT_THAT(uts.err, HasSubstr("namespaces.uts")) << uts.describe();
}

// A BPF program written by libseccomp: `default_action` for everything, EPERM for `denied`.
std::string write_client_filter(const std::string& path, uint32_t default_action,
                                const char* denied) {
  scmp_filter_ctx ctx = seccomp_init(default_action);
  if (denied) seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), seccomp_syscall_resolve_name(denied), 0);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  seccomp_export_bpf(ctx, fd);
  ::close(fd);
  seccomp_release(ctx);
  return path;
}

TEST_F(PolicyTest, ClientFilterIsStackedAndCannotLoosenTheBaseFilter) {
  start(policy("", /*client_filters=*/true));
  std::string deny_uname = write_client_filter(*work_ / "deny-uname.bpf", SCMP_ACT_ALLOW, "uname");
  std::string allow_all = write_client_filter(*work_ / "allow-all.bpf", SCMP_ACT_ALLOW, nullptr);
  // The client passes its fd 5 (a shell redirection) with --seccomp 5.
  auto with_fd5 = [&](const std::string& file, std::vector<std::string> run_args) {
    std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 5<" + file,
                                     binaries().client, "run", "--socket", daemon_->socket_path()};
    for (const std::string& m : base_mounts()) argv.push_back(m);
    argv.insert(argv.end(), run_args.begin(), run_args.end());
    ProcessSpec spec = client_spec(daemon_->socket_path(), {});
    spec.argv = argv;
    return run_process(spec);
  };
  auto denied = with_fd5(deny_uname, {"--seccomp", "5", "--", "uname"});
  EXPECT_NE(denied.exit_code, 0) << denied.describe();
  EXPECT_THAT(denied.err, HasSubstr("Operation not permitted")) << denied.describe();

  auto loosened = with_fd5(allow_all, {"--add-seccomp-fd", "5", "--ro-bind", binaries().helper,
                                       "/nsb-helper", "--dev", "/dev", "--", "/nsb-helper",
                                       "--nsb-helper", "syscalls"});
  ASSERT_EQ(loosened.exit_code, 0) << loosened.describe();
  EXPECT_THAT(loosened.out, HasSubstr("unshare_user=EPERM\n")) << "an allow-all filter changes nothing";
  EXPECT_THAT(loosened.out, HasSubstr("keyctl=EPERM\n"));
}

TEST_F(PolicyTest, ClientFilterIsRefusedWhenTheProfileDoesNotAcceptOne) {
  start(policy());
  std::string file = write_client_filter(*work_ / "f.bpf", SCMP_ACT_ALLOW, "uname");
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 5<" + file,
                                   binaries().client, "run", "--socket", daemon_->socket_path(),
                                   "--seccomp", "5", "--", "true"};
  ProcessSpec spec = client_spec(daemon_->socket_path(), {});
  spec.argv = argv;
  auto r = run_process(spec);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("seccomp.accept_client_filter is off")) << r.describe();
}

}  // namespace
}  // namespace nsbroker::itest
