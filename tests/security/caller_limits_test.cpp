// Issue 8, finding 5: the sandbox inherits the caller's resource confinement: every rlimit
// (soft and hard), the nice value, the umask and the cgroup (the caller's own or one below
// it, in every hierarchy), never the daemon's.
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "security_fixture.h"

namespace nsbroker::sectest {
namespace {


// "Max open files" -> "128 128 files", from a /proc/PID/limits text.
std::map<std::string, std::string> parse_limits(const std::string& text) {
  std::map<std::string, std::string> limits;
  for (const std::string& line : lines_of(text)) {
    if (line.rfind("Max ", 0) != 0 || line.size() < 26) continue;
    std::string name = line.substr(0, 26);
    name.erase(name.find_last_not_of(' ') + 1);
    std::istringstream values(line.substr(26));
    std::string soft, hard, units;
    values >> soft >> hard >> units;
    limits[name] = soft + " " + hard;
  }
  return limits;
}

// The text between "==NAME==" and the next "==" marker line of a probe's output.
std::string section(const std::string& out, const std::string& name) {
  std::string start = "==" + name + "==\n";
  std::size_t at = out.find(start);
  if (at == std::string::npos) return "";
  at += start.size();
  std::size_t end = out.find("\n==", at);
  return out.substr(at, end == std::string::npos ? std::string::npos : end + 1 - at);
}

const char* const kReport =
    "echo ==limits==; cat /proc/self/limits; echo ==stat==; cat /proc/self/stat; "
    "echo ==status==; cat /proc/self/status; echo ==end==";

class CallerLimitsTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    try {
      cgroup_ = std::make_unique<CallerCgroup>();
    } catch (const std::exception& e) {
      FAIL() << "cannot make the caller a cgroup of its own: " << e.what();
    }
  }
  void TearDown() override {
    SecurityTest::TearDown();
    cgroup_.reset();
  }

  // The caller of the issue: ulimit -n 128 -u 400, two more limits whose soft and hard
  // values differ, nice 10, umask 077, a cgroup of its own.
  void limit(ProcessSpec& s) const {
    s.rlimits = {{RLIMIT_NOFILE, 128, 128},
                 {RLIMIT_NPROC, 400, 400},
                 {RLIMIT_FSIZE, 1 << 30, 3u << 30},
                 {RLIMIT_SIGPENDING, 500, 1000}};
    s.nice = 10;
    s.umask = 077;
    s.cgroup = cgroup_.get();
  }

  // The same caller's own view, on the host.
  std::map<std::string, std::string> callers_own_limits() const {
    ProcessSpec s;
    s.argv = {"cat", "/proc/self/limits"};
    limit(s);
    ProcessResult r = run_process(s);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return parse_limits(r.out);
  }

  // Runs the report in a sandbox of the limited caller and checks limits, nice and umask.
  void expect_inherited(ProcessSpec s, const std::map<std::string, std::string>& expected) {
    limit(s);
    ProcessResult r = run_process(s);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    std::map<std::string, std::string> inside = parse_limits(section(r.out, "limits"));
    ASSERT_FALSE(inside.empty()) << r.describe();
    EXPECT_EQ(inside, expected) << "/proc/self/limits (soft hard) inside the sandbox vs the caller's";
    expect_nice_and_umask(r.out);
  }

  static void expect_nice_and_umask(const std::string& out) {
    std::vector<std::string> stat = stat_fields(section(out, "stat"));
    ASSERT_GT(stat.size(), 16u) << out;
    EXPECT_EQ(stat[19 - 3], "10") << "nice (field 19 of /proc/self/stat)";
    EXPECT_EQ(umask_of(section(out, "status")), "0077") << "Umask of /proc/self/status";
  }

  static std::string umask_of(const std::string& status) {
    for (const std::string& line : lines_of(status)) {
      if (line.rfind("Umask:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 6));
    }
    return "(no Umask line)";
  }

  // A sandbox of the limited caller running `sleep`, found from the host by its marker: every
  // process of it is in the caller's cgroup or below, in every hierarchy.
  void expect_in_callers_cgroup(ProcessSpec s, const std::string& token) {
    limit(s);
    ChildProcess client(s);
    std::vector<pid_t> pids = sandbox_pids("NSB_MARK=" + token, client.pid());
    ASSERT_FALSE(pids.empty()) << "the sandbox did not start: " << client.wait(1s).describe();
    std::optional<std::string> caller = cgroup_->not_within(client.pid());
    ASSERT_FALSE(caller) << "the harness did not place the caller: " << *caller;
    for (pid_t pid : pids) {
      std::optional<std::string> problem = cgroup_->not_within(pid);
      EXPECT_FALSE(problem) << "sandbox process " << pid << " is outside the caller's cgroup: " << *problem;
    }
    client.signal(SIGTERM);
    client.wait(10s);
  }

  std::unique_ptr<CallerCgroup> cgroup_;
};

TEST_P(CallerLimitsTest, LimitsNiceAndUmaskOfTheCallerApplyInside) {
  auto expected = callers_own_limits();
  ASSERT_EQ(expected["Max open files"], "128 128");
  ASSERT_EQ(expected["Max processes"], "400 400");
  expect_inherited(spec(with_base({"--proc", "/proc", "--", "sh", "-c", kReport})), expected);
}

TEST_P(CallerLimitsTest, LimitsNiceAndUmaskOfTheCallerApplyInsideARootBind) {
  auto expected = callers_own_limits();
  expect_inherited(spec({"--ro-bind", "/", "/", "--proc", "/proc", "--", "sh", "-c", kReport}), expected);
}

TEST_P(CallerLimitsTest, SandboxIsInTheCallersCgroupOrBelow) {
  std::string token = random_token();
  expect_in_callers_cgroup(spec(with_base({"--setenv", "NSB_MARK", token, "--", "sleep", "30"})), token);
}

TEST_P(CallerLimitsTest, SandboxOfARootBindIsInTheCallersCgroupOrBelow) {
  std::string token = random_token();
  expect_in_callers_cgroup(spec({"--ro-bind", "/", "/", "--setenv", "NSB_MARK", token, "--", "sleep", "30"}), token);
}

// A chrooted and limited caller at once, with --ro-bind / /: the jail is the root, and the
// limits still hold.
TEST_P(CallerLimitsTest, ChrootedLimitedCallerKeepsJailAndLimits) {
  auto expected = callers_own_limits();
  std::string jail = *work_ / "jail";
  make_dir(jail, 0, 0, 0755);
  for (const char* dir : {"/usr", "/proc", "/tmp"}) make_dir(jail + dir, 0, 0, 0755);
  for (const char* link : {"bin", "lib", "lib64"}) make_symlink(std::string("usr/") + link, jail + "/" + link, 0, 0);
  write_file(jail + "/nsb-jail-marker", "");
  std::string client_dir = binaries().client.substr(0, binaries().client.rfind('/'));
  std::string socket_dir = daemon_->socket_path().substr(0, daemon_->socket_path().rfind('/'));
  for (const std::string& dir : {client_dir, socket_dir}) {
    std::filesystem::create_directories(jail + dir);
    std::filesystem::permissions(jail + dir, std::filesystem::perms(0755));
  }
  ProcessSpec s = spec({"--ro-bind", "/", "/", "--proc", "/proc", "--", "sh", "-c",
                        std::string("test -e /nsb-jail-marker || echo NOT-IN-JAIL; ") + kReport});
  std::vector<std::pair<std::string, std::string>> binds = {
      {"/usr", jail + "/usr"}, {"/proc", jail + "/proc"}, {client_dir, jail + client_dir}, {socket_dir, jail + socket_dir}};
  s.before_drop = [binds] {
    if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) ::_exit(125);
    for (const auto& [from, to] : binds) {
      if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) ::_exit(125);
    }
  };
  s.chroot_dir = jail;
  limit(s);
  ProcessResult r = run_process(s);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out.find("NOT-IN-JAIL"), std::string::npos) << "the sandbox's / is not the caller's jail";
  std::map<std::string, std::string> inside = parse_limits(section(r.out, "limits"));
  EXPECT_EQ(inside, expected) << "/proc/self/limits (soft hard) inside the sandbox vs the caller's";
  expect_nice_and_umask(r.out);
}

INSTANTIATE_TEST_SUITE_P(Configs, CallerLimitsTest, ::testing::ValuesIn(kAllConfigs), ConfigName());

}  // namespace
}  // namespace nsbroker::sectest
