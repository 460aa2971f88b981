// Proves that nsbroker-test-deny-userns simulates the restricted hosts of DESIGN.md §3:
// under it `unshare -U true` fails with the chosen errno (as root and as uid 1500), the raw
// syscalls behave as documented (clone/unshare with CLONE_NEWUSER → errno, clone3 → ENOSYS,
// everything else untouched), and without it the same commands succeed.
//
// The binary doubles as its own syscall probe: `deny_userns_test --probe` tries the syscalls
// and prints one "name=result" line each. The tests run it under the tool.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#ifndef NSBROKER_DENY_USERNS_TOOL
#error "NSBROKER_DENY_USERNS_TOOL must name the tool's path"
#endif

namespace {

namespace fs = std::filesystem;

constexpr uid_t kTestUid = 1500;  // the unprivileged test uid; needs no passwd entry

std::string g_self;  // path of this test binary, for --probe

// ---------------------------------------------------------------------------------------------
// The probe (runs under the tool, prints results, never uses gtest).

// clone_args as of Linux 5.3 (CLONE_ARGS_SIZE_VER0 = 64 bytes); declared here to avoid
// mixing <linux/sched.h> with glibc's <sched.h>.
struct CloneArgsV0 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

const char* errno_name(int err) {
  switch (err) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOSPC: return "ENOSPC";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EUSERS: return "EUSERS";
    case ENOMEM: return "ENOMEM";
    default: return "OTHER";
  }
}

// Runs `attempt` in a forked child so a successful namespace change never leaks into the
// probe. The child exits with 0 or the errno of the attempt.
template <typename Fn>
int in_child(Fn attempt) {
  const pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) _exit(attempt());
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return errno;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

// Raw clone(flags | SIGCHLD) with no new stack: fork semantics. The child exits at once.
int try_clone(unsigned long flags) {
#if defined(__s390__) || defined(__s390x__)
  const long rc = syscall(SYS_clone, 0UL, flags | SIGCHLD, 0UL, 0UL, 0UL);
#else
  const long rc = syscall(SYS_clone, flags | SIGCHLD, 0UL, 0UL, 0UL, 0UL);
#endif
  if (rc < 0) return errno;
  if (rc == 0) _exit(0);
  int status = 0;
  waitpid(static_cast<pid_t>(rc), &status, 0);
  return 0;
}

int try_clone3(uint64_t flags) {
  CloneArgsV0 args{};
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  const long rc = syscall(SYS_clone3, &args, sizeof(args));
  if (rc < 0) return errno;
  if (rc == 0) _exit(0);
  int status = 0;
  waitpid(static_cast<pid_t>(rc), &status, 0);
  return 0;
}

int probe_main() {
  const bool root = geteuid() == 0;
  const auto report = [](const char* name, int err) { std::printf("%s=%s\n", name, errno_name(err)); };
  report("unshare_newuser", in_child([] { return unshare(CLONE_NEWUSER) == 0 ? 0 : errno; }));
  report("unshare_newuser_newns",
         in_child([] { return unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : errno; }));
  if (root) {
    report("unshare_newns_newnet",
           in_child([] { return unshare(CLONE_NEWNS | CLONE_NEWNET) == 0 ? 0 : errno; }));
  }
  report("clone_newuser", try_clone(CLONE_NEWUSER));
  report("clone_newuser_newpid", try_clone(CLONE_NEWUSER | CLONE_NEWPID));
  report("clone_plain", try_clone(0));
  report("clone3_plain", try_clone3(0));
  report("clone3_newuser", try_clone3(CLONE_NEWUSER));
  report("fork", in_child([] { return 0; }));
  std::fflush(stdout);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Helpers for the tests.

struct Result {
  int exit_code = -1;  // -1 if killed by a signal
  std::string output;  // stdout and stderr, interleaved
};

Result run(const std::vector<std::string>& argv) {
  Result result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    result.output = std::string("pipe2: ") + std::strerror(errno);
    return result;
  }
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (chdir("/") != 0) _exit(125);
    execvp(cargv[0], cargv.data());
    std::fprintf(stderr, "exec %s: %s\n", cargv[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    result.output = std::string("fork: ") + std::strerror(errno);
    return result;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n > 0) {
      result.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::vector<std::string> as_test_uid(std::vector<std::string> argv) {
  std::vector<std::string> full = {"setpriv", "--reuid=" + std::to_string(kTestUid),
                                   "--regid=" + std::to_string(kTestUid), "--clear-groups"};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::map<std::string, std::string> parse_probe(const std::string& out) {
  std::map<std::string, std::string> m;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    if (end == std::string::npos) end = out.size();
    const std::string line = out.substr(pos, end - pos);
    const size_t eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
    pos = end + 1;
  }
  return m;
}

// A copy of the tool in a fresh 0755 directory, so uid 1500 can execute it even when the
// build tree lives under a directory it cannot enter (e.g. /root).
class ToolCopy {
 public:
  ToolCopy() {
    char tmpl[] = "/tmp/nsbroker-deny-userns-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    std::error_code ec;
    fs::permissions(dir_, fs::perms(0755), ec);
    path_ = dir_ + "/nsbroker-test-deny-userns";
    fs::copy_file(NSBROKER_DENY_USERNS_TOOL, path_, ec);
    if (!ec) fs::permissions(path_, fs::perms(0755), ec);
    if (ec) path_.clear();
  }
  ~ToolCopy() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

struct Case {
  const char* name;
  int err;
};

std::vector<std::string> tool(const Case& c) {
  return {NSBROKER_DENY_USERNS_TOOL, "--errno", c.name, "--"};
}

const std::vector<std::string> kUnshareUser = {"unshare", "-U", "true"};

void expect_unshare_fails(const Result& r, const Case& c) {
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(std::string("unshare failed: ") + std::strerror(c.err)),
            std::string::npos)
      << "expected unshare(1) to report '" << std::strerror(c.err) << "', got:\n"
      << r.output;
}

#define REQUIRE_ROOT()                                                   \
  do {                                                                   \
    if (geteuid() != 0) GTEST_SKIP() << "needs root (runs setpriv)";     \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Without the tool: the host must allow user namespaces, or the simulation proves nothing.

TEST(DenyUsernsBaseline, UnshareUserSucceedsAsRootWithoutTool) {
  REQUIRE_ROOT();
  const Result r = run(kUnshareUser);
  if (r.exit_code != 0) {
    GTEST_SKIP() << "this host already forbids user namespaces for root:\n" << r.output;
  }
  EXPECT_EQ(r.exit_code, 0);
}

TEST(DenyUsernsBaseline, UnshareUserSucceedsAsUid1500WithoutTool) {
  REQUIRE_ROOT();
  const Result r = run(as_test_uid(kUnshareUser));
  if (r.exit_code != 0) {
    GTEST_SKIP() << "this host already forbids unprivileged user namespaces:\n" << r.output;
  }
  EXPECT_EQ(r.exit_code, 0);
}

TEST(DenyUsernsBaseline, ProbeWithoutToolAllowsEverything) {
  const Result r = run({g_self, "--probe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto m = parse_probe(r.output);
  EXPECT_EQ(m.at("clone_plain"), "OK");
  EXPECT_EQ(m.at("clone3_plain"), "OK");
  EXPECT_EQ(m.at("fork"), "OK");
  if (geteuid() == 0 && m.at("unshare_newuser") == "OK") {
    EXPECT_EQ(m.at("clone_newuser"), "OK") << r.output;
    EXPECT_EQ(m.at("clone3_newuser"), "OK") << r.output;
  }
}

// ---------------------------------------------------------------------------------------------
// With the tool, for each simulated host.

class DenyUserns : public ::testing::TestWithParam<Case> {};

TEST_P(DenyUserns, UnshareUserFailsAsRoot) {
  REQUIRE_ROOT();
  expect_unshare_fails(run(concat(tool(GetParam()), kUnshareUser)), GetParam());
}

// The tool runs as root and the command drops to uid 1500 under the inherited filter.
TEST_P(DenyUserns, UnshareUserFailsAsUid1500UnderRootLaunchedFilter) {
  REQUIRE_ROOT();
  expect_unshare_fails(run(concat(tool(GetParam()), as_test_uid(kUnshareUser))), GetParam());
}

// uid 1500 runs the tool itself (no privilege involved in installing the filter).
TEST_P(DenyUserns, UnshareUserFailsAsUid1500RunningTool) {
  REQUIRE_ROOT();
  ToolCopy copy;
  ASSERT_FALSE(copy.path().empty()) << "could not copy the tool to a 0755 temp dir";
  const std::vector<std::string> argv = {copy.path(), "--errno", GetParam().name, "--"};
  expect_unshare_fails(run(as_test_uid(concat(argv, kUnshareUser))), GetParam());
}

TEST_P(DenyUserns, RawSyscallsAsDocumented) {
  const Result r = run(concat(tool(GetParam()), {g_self, "--probe"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto m = parse_probe(r.output);
  const std::string want = GetParam().name;
  EXPECT_EQ(m.at("unshare_newuser"), want) << r.output;
  EXPECT_EQ(m.at("unshare_newuser_newns"), want) << r.output;
  EXPECT_EQ(m.at("clone_newuser"), want) << r.output;
  EXPECT_EQ(m.at("clone_newuser_newpid"), want) << r.output;
  EXPECT_EQ(m.at("clone3_newuser"), "ENOSYS") << r.output;
  EXPECT_EQ(m.at("clone3_plain"), "ENOSYS") << r.output;
  // Collateral: nothing else is affected.
  EXPECT_EQ(m.at("clone_plain"), "OK") << r.output;
  EXPECT_EQ(m.at("fork"), "OK") << r.output;
  if (geteuid() == 0) {
    EXPECT_EQ(m.at("unshare_newns_newnet"), "OK") << r.output;
  }
}

TEST_P(DenyUserns, SetsNoNewPrivsAndSeccomp) {
  const Result r = run(concat(tool(GetParam()), {"grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("NoNewPrivs:\t1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Seccomp:\t2"), std::string::npos) << r.output;
}

TEST_P(DenyUserns, PassesThroughExitCode) {
  EXPECT_EQ(run(concat(tool(GetParam()), {"sh", "-c", "exit 42"})).exit_code, 42);
}

INSTANTIATE_TEST_SUITE_P(Hosts, DenyUserns,
                         ::testing::Values(Case{"EPERM", EPERM}, Case{"ENOSPC", ENOSPC},
                                           Case{"EINVAL", EINVAL}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// Usage errors are clear and distinct from the command's own failures.

TEST(DenyUsernsUsage, Errors) {
  const std::string t = NSBROKER_DENY_USERNS_TOOL;
  struct {
    std::vector<std::string> argv;
    const char* message;
  } cases[] = {
      {{t}, "--errno EPERM|ENOSPC|EINVAL is required"},
      {{t, "--", "true"}, "--errno EPERM|ENOSPC|EINVAL is required"},
      {{t, "--errno"}, "--errno needs a value"},
      {{t, "--errno", "EACCES", "--", "true"}, "unsupported --errno 'EACCES'"},
      {{t, "--errno", "EPERM"}, "no command given after '--'"},
      {{t, "--errno", "EPERM", "--"}, "no command given after '--'"},
      {{t, "--errno", "EPERM", "true"}, "missing '--' before the command 'true'"},
      {{t, "--bogus"}, "unknown option '--bogus'"},
  };
  for (const auto& c : cases) {
    const Result r = run(c.argv);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--help"), std::string::npos) << r.output;
  }
}

TEST(DenyUsernsUsage, HelpAndErrnoEqualsForm) {
  const std::string t = NSBROKER_DENY_USERNS_TOOL;
  const Result help = run({t, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("usage:"), std::string::npos) << help.output;
  EXPECT_EQ(run({t, "--errno=ENOSPC", "--", "true"}).exit_code, 0);
}

TEST(DenyUsernsUsage, MissingCommandIs127) {
  const Result r = run({NSBROKER_DENY_USERNS_TOOL, "--errno", "EPERM", "--",
                        "/nonexistent/nsbroker-no-such-command"});
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.output.find("cannot execute"), std::string::npos) << r.output;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "--probe") return probe_main();
  std::error_code ec;
  g_self = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) {
    std::fprintf(stderr, "cannot resolve /proc/self/exe: %s\n", ec.message().c_str());
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
