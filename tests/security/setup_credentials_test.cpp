// Issue 8, finding 3: every file the daemon opens or reads for a request is opened and read
// with the caller's credentials and no capability that widens access (CAP_SYS_PTRACE and
// CAP_SYSLOG included), and a combination the client refuses is refused by the daemon too.
// The daemon's own /proc files are the probe: uid 1500 may not open /proc/<daemon>/maps, and
// reads /proc/<daemon>/stat with the code and stack addresses zeroed.
#include <sys/stat.h>
#include <unistd.h>

#include "security_fixture.h"
#include "wire/message_codec.h"

namespace nsbroker::sectest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Fields 26-30 of /proc/PID/stat: startcode endcode startstack kstkesp kstkeip.
std::vector<std::string> code_and_stack_fields(const std::string& stat) {
  std::vector<std::string> fields = stat_fields(stat);
  if (fields.size() < 28) return {};
  return std::vector<std::string>(fields.begin() + 23, fields.begin() + 28);
}

class SetupCredentialsTest : public SecurityTest {
 protected:
  std::string daemon_proc(const std::string& file) const {
    return "/proc/" + std::to_string(daemon_->pid()) + "/" + file;
  }

  // What uid 1500 itself reads from `path` on the host.
  ProcessResult read_as_caller(const std::string& path) const {
    ProcessSpec s;
    s.argv = {"cat", path};
    return run_process(s);
  }

  // --file/--bind-data/--ro-bind-data OPTION with the caller's fd 5 on the daemon's stat:
  // the sandbox may see no more than uid 1500 reading that fd itself.
  void expect_daemon_stat_as_the_caller_sees_it(const std::string& option) {
    SCOPED_TRACE(option);
    ProcessResult own = read_as_caller(daemon_proc("stat"));
    ASSERT_EQ(own.exit_code, 0) << own.describe();
    std::vector<std::string> expected = code_and_stack_fields(own.out);
    ASSERT_EQ(expected.size(), 5u) << own.out;
    ProcessResult r = run_process(spec_with_fd5(
        daemon_proc("stat"), with_base({"--tmpfs", "/tmp", option, "5", "/tmp/st", "--", "cat", "/tmp/st"})));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    std::vector<std::string> seen = code_and_stack_fields(r.out);
    EXPECT_EQ(seen, expected) << "the daemon read its own stat for the caller with more than the caller's "
                                 "access (startcode endcode startstack kstkesp kstkeip)\nsandbox: "
                              << r.out << "caller: " << own.out;
  }
};

TEST_P(SetupCredentialsTest, LockFileOnTheDaemonsMapsIsRefused) {
  // The caller itself cannot open it.
  ProcessResult own = read_as_caller(daemon_proc("maps"));
  ASSERT_NE(own.exit_code, 0) << "uid 1500 can read the daemon's maps on this host\n" << own.describe();

  ProcessResult r = run({"--ro-bind", "/", "/", "--ro-bind", "/proc", "/proc", "--lock-file", daemon_proc("maps"),
                         "--", "echo", "sandbox-ran"});
  EXPECT_EQ(r.exit_code, 1) << "setup opened a file the caller cannot open\n" << r.describe();
  EXPECT_THAT(r.out, Not(HasSubstr("sandbox-ran"))) << r.describe();
  // Refused for that reason (not because some other step failed).
  EXPECT_THAT(r.err, HasSubstr("lock file " + daemon_proc("maps") + ": Permission denied")) << r.describe();
}

TEST_P(SetupCredentialsTest, LockFileOnARootOnlyFileIsRefused) {
  std::string secret = *work_ / "root-only";
  write_file(secret, "nsb-root-only\n");
  ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);
  ProcessResult own = read_as_caller(secret);
  ASSERT_NE(own.exit_code, 0) << own.describe();

  ProcessResult r = run({"--ro-bind", "/", "/", "--lock-file", secret, "--", "echo", "sandbox-ran"});
  EXPECT_EQ(r.exit_code, 1) << "setup opened a 0600 root file for uid 1500\n" << r.describe();
  EXPECT_THAT(r.out, Not(HasSubstr("sandbox-ran"))) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("lock file " + secret + ": Permission denied")) << r.describe();
}

TEST_P(SetupCredentialsTest, FileFromTheDaemonsStatHoldsOnlyWhatTheCallerCouldRead) {
  expect_daemon_stat_as_the_caller_sees_it("--file");
}

TEST_P(SetupCredentialsTest, BindDataFromTheDaemonsStatHoldsOnlyWhatTheCallerCouldRead) {
  expect_daemon_stat_as_the_caller_sees_it("--bind-data");
  expect_daemon_stat_as_the_caller_sees_it("--ro-bind-data");
}

// --lock-file with --as-pid-1 hands the lock fd to the command (no init holds it): the client
// refuses the combination, and so must the daemon, whoever speaks to it. Sent by uid 1500
// over the raw protocol with /proc/kallsyms (opened by root, it shows real kernel addresses).
TEST_P(SetupCredentialsTest, LockFileWithAsPid1IsRefusedByTheDaemon) {
  ProcessSpec s;
  s.argv = {binaries().helper, "--nsb-helper", "raw-lock-pid1", daemon_->socket_path(), "/proc/kallsyms"};
  ProcessResult r = run_process(s);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, Not(HasSubstr("reply=started"))) << "the daemon started the combination the client refuses\n"
                                                      << r.describe();
  EXPECT_THAT(r.out, HasSubstr("reply=error\n")) << r.describe();
  // Refused as a request, before any setup (not a setup step that happened to fail).
  std::string code = r.out.substr(r.out.find("code=") == std::string::npos ? 0 : r.out.find("code="));
  EXPECT_TRUE(code.rfind("code=" + std::to_string(wire::ERROR_INVALID_ARGUMENT) + "\n", 0) == 0 ||
              code.rfind("code=" + std::to_string(wire::ERROR_DENIED) + "\n", 0) == 0)
      << "expected ERROR_INVALID_ARGUMENT or ERROR_DENIED\n" << r.out;
  EXPECT_THAT(r.out, HasSubstr("lock")) << "the refusal should name --lock-file\n" << r.out;
}

INSTANTIATE_TEST_SUITE_P(Configs, SetupCredentialsTest, ::testing::ValuesIn(kAllConfigs), ConfigName());

}  // namespace
}  // namespace nsbroker::sectest
