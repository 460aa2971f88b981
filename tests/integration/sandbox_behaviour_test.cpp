// What a caller observes from a sandbox, in each of the three daemon configurations
// (userns mode, privileged mode forced, privileged mode reached by --mode auto on a daemon
// that cannot create user namespaces). Every test runs `nsbroker run` as uid 1500.
//
// The numbered sections follow the list. Item 10 (hostile records) is in
// raw_protocol_test.cpp, item 13 (no daemon) in no_daemon_test.cpp, restricted callers in
// restricted_client_test.cpp. Item 12 (the per-uid cap of 64 live sandboxes) is deliberately
// not covered here: reaching it means holding 64 sandboxes open, too slow for this suite.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "sandbox_fixture.h"

namespace nsbroker::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// "Key:\tvalue" lines of /proc/PID/status.
std::map<std::string, std::string> parse_status(const std::string& text) {
  std::map<std::string, std::string> fields;
  for (const std::string& line : lines_of(text)) {
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::size_t value = line.find_first_not_of(" \t", colon + 1);
    fields[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  return fields;
}

// "key=value" lines printed by the helper probes.
std::map<std::string, std::string> parse_probe(const std::string& text) {
  std::map<std::string, std::string> fields;
  for (const std::string& line : lines_of(text)) {
    std::size_t eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return fields;
}

// Interface names listed in a /proc/net/dev text.
std::set<std::string> interfaces_in(const std::string& net_dev) {
  std::set<std::string> names;
  for (const std::string& line : lines_of(net_dev)) {
    std::size_t colon = line.find(':');
    if (colon == std::string::npos || line.find('|') != std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    names.insert(name);
  }
  return names;
}

// Mount points (field 5) and their filesystem types, from a mountinfo text.
std::multimap<std::string, std::string> mounts_in(const std::string& mountinfo) {
  std::multimap<std::string, std::string> mounts;
  for (const std::string& line : lines_of(mountinfo)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    if (!(fields >> id >> parent >> devno >> root >> point)) continue;
    std::size_t dash = line.find(" - ");
    std::string type;
    if (dash != std::string::npos) std::istringstream(line.substr(dash + 3)) >> type;
    mounts.emplace(point, type);
  }
  return mounts;
}

bool has_mount(const std::multimap<std::string, std::string>& mounts, const std::string& point,
               const std::string& type) {
  auto [begin, end] = mounts.equal_range(point);
  return std::any_of(begin, end, [&](const auto& m) { return m.second == type; });
}

std::set<std::string> numeric_entries(const std::string& listing) {
  std::set<std::string> pids;
  for (const std::string& line : lines_of(listing)) {
    if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) pids.insert(line);
  }
  return pids;
}

// The client's own errors are exactly one line "nsbroker: ..." and exit code 1.
void expect_client_error(const ProcessResult& r, const std::string& must_contain) {
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, StartsWith("nsbroker: ")) << r.describe();
  EXPECT_THAT(r.err, HasSubstr(must_contain)) << r.describe();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line expected\n" << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
}

std::vector<pid_t> without(std::vector<pid_t> pids, pid_t excluded) {
  pids.erase(std::remove(pids.begin(), pids.end(), excluded), pids.end());
  return pids;
}

// ---------------------------------------------------------------------------------------------
// 1. Output, exit codes and signals pass through.

TEST_P(SandboxTest, OutputAndExitCodePassThrough) {
  auto r = run({"--", "sh", "-c", "echo hi; exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.describe();
  EXPECT_EQ(r.out, "hi\n") << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();

  r = run({"--", "sh", "-c", "echo to-stderr >&2"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
  EXPECT_EQ(r.err, "to-stderr\n") << r.describe();
}

TEST_P(SandboxTest, CommandKilledBySignalGives128PlusSignal) {
  auto r = run({"--", "sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.describe();
  EXPECT_EQ(r.term_signal, 0) << "the client itself must exit, not die\n" << r.describe();

  r = run({"--", "sh", "-c", "kill -KILL $$"});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.describe();
}

TEST_P(SandboxTest, SigtermToClientIsForwardedToTheSandbox) {
  std::string token = random_token();
  ProcessSpec s = spec({"--setenv", "NSB_MARK", token, "--", "sleep", "30"});
  ChildProcess client(s);
  std::string marker = "NSB_MARK=" + token;  // in the sandbox's environment only
  ASSERT_TRUE(poll_until(5s, [&] { return !find_processes_with_marker(marker).empty(); }))
      << "the sandboxed sleep never appeared; client: " << client.wait(1s).describe();

  auto signalled = std::chrono::steady_clock::now();
  client.signal(SIGTERM);
  ProcessResult r = client.wait(10s);
  auto took = std::chrono::steady_clock::now() - signalled;
  EXPECT_FALSE(r.timed_out) << r.describe();
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.describe();
  EXPECT_LT(took, 3s) << "the client must forward SIGTERM, not wait for sleep 30";
  EXPECT_TRUE(poll_until(1s, [&] { return find_processes_with_marker(marker).empty(); }))
      << "sandbox processes survived the forwarded SIGTERM";
}

// ---------------------------------------------------------------------------------------------
// 2. The caller's permissions apply to every path.

TEST_P(SandboxTest, ShadowIsUnreadableInsideAndRefusedAsBindSource) {
  // Unreadable: cat fails with EACCES (or, should policy mask the file, reads nothing) — the
  // content never reaches the sandbox.
  auto r = run({"--ro-bind", "/etc", "/etc", "--", "cat", "/etc/shadow"});
  EXPECT_EQ(r.out, "") << r.describe();
  if (r.exit_code != 0) {
    EXPECT_THAT(r.err, HasSubstr("/etc/shadow: Permission denied")) << r.describe();
  }

  r = run({"--ro-bind", "/etc/shadow", "/x", "--", "cat", "/x"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_EQ(r.err, "nsbroker: bind source /etc/shadow: Permission denied (checked as uid 1500)\n")
      << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
}

TEST_P(SandboxTest, OtherUsersPrivateDirIsUnreadableInsideAndRefusedAsBindSource) {
  auto r = run({"--ro-bind", other_, "/o", "--", "ls", "/o/secret"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("Permission denied")) << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();

  r = run({"--bind", other_, "/o", "--", "cat", "/o/secret/file"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, Not(HasSubstr("nsb-secret-content"))) << r.describe();

  for (const char* option : {"--ro-bind", "--bind"}) {
    r = run({option, secret_, "/s", "--", "ls", "/s"});
    expect_client_error(r, "bind source " + secret_ + ": Permission denied (checked as uid 1500)");
    r = run({option, secret_ + "/file", "/f", "--", "cat", "/f"});
    expect_client_error(r, secret_ + "/file");
    EXPECT_THAT(r.err, HasSubstr("checked as uid 1500")) << r.describe();
  }
}

// All of the caller's supplementary groups count, and only those: a directory readable only
// through group 1600 can be bound by a caller in that group and not by one without it.
TEST_P(SandboxTest, CallerSupplementaryGroupsCountAndNoOthers) {
  constexpr gid_t kGroup = 1600;
  std::string shared = *work_ / "group-shared";
  make_dir(shared, 0, kGroup, 0750);
  write_file(shared + "/file", "nsb-group-content\n");

  ProcessSpec with_group = spec({"--ro-bind", shared, "/g", "--", "cat", "/g/file"});
  with_group.groups = {kGroup};
  auto r = run_process(with_group);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "nsb-group-content\n") << r.describe();

  // Bound through its parent: the sandbox process must still hold the group.
  with_group = spec({"--ro-bind", work_->path(), "/w", "--", "cat", "/w/group-shared/file"});
  with_group.groups = {kGroup};
  r = run_process(with_group);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "nsb-group-content\n") << r.describe();

  r = run({"--ro-bind", shared, "/g", "--", "cat", "/g/file"});
  expect_client_error(r, "bind source " + shared + ": Permission denied (checked as uid 1500)");
  r = run({"--ro-bind", work_->path(), "/w", "--", "cat", "/w/group-shared/file"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
}

// Mount points the sandbox needs inside a bind of a directory the caller cannot write are
// created as the caller, so they are refused — the root daemon does not create them for it.
TEST_P(SandboxTest, MountPointsInUnwritableBindAreCreatedAsTheCaller) {
  std::string rootdir = *work_ / "root-owned";
  make_dir(rootdir, 0, 0, 0755);
  struct Case {
    std::vector<std::string> op;
    std::string step_and_path;
  };
  for (const Case& c : {Case{{"--dir", "/v/new-dir"}, "/v/new-dir: Permission denied"},
                        Case{{"--tmpfs", "/v/new-tmpfs"}, "/v/new-tmpfs: Permission denied"},
                        Case{{"--ro-bind", "/usr/bin/true", "/v/new-file"}, "/v/new-file: Permission denied"},
                        Case{{"--symlink", "/x", "/v/new-link"}, "/v/new-link: Permission denied"}}) {
    std::vector<std::string> args = {"--bind", rootdir, "/v"};
    args.insert(args.end(), c.op.begin(), c.op.end());
    args.insert(args.end(), {"--", "true"});
    auto r = run(args);
    SCOPED_TRACE(testing::PrintToString(c.op));
    expect_client_error(r, c.step_and_path);
    EXPECT_THAT(r.err, HasSubstr("(checked as uid 1500)")) << r.describe();
  }
  EXPECT_TRUE(list_tree(rootdir).empty()) << testing::PrintToString(list_tree(rootdir));
}

// "Caller's view, not the daemon's": a caller with its own mount namespace gets bind sources
// from that namespace, and a caller with its own network namespace shares that one (without
// --unshare-net), never the daemon's.
TEST_P(SandboxTest, BindSourcesAndNetworkComeFromTheCallersNamespaces) {
  std::string view = *work_ / "view";
  make_dir(view, 0, 0, 0755);
  write_file(view + "/which", "host-view\n");
  std::string which = view + "/which";

  ProcessSpec own_mounts = spec({"--ro-bind", view, "/v", "--", "cat", "/v/which"});
  own_mounts.before_drop = [&view, &which] {
    // The caller's private mount namespace, with a tmpfs over `view` holding other content.
    if (::unshare(CLONE_NEWNS) < 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
        ::mount("none", view.c_str(), "tmpfs", 0, "mode=0755") < 0) {
      ::_exit(125);
    }
    int fd = ::open(which.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, "client-view\n", 12) != 12) ::_exit(125);
    ::close(fd);
  };
  auto r = run_process(own_mounts);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "client-view\n") << "the bind source must be resolved in the caller's mount namespace\n"
                                     << r.describe();

  // A fresh network namespace of the caller's: only lo, and lo still down (the host's lo is up,
  // and a sandbox of its own would get lo brought up by the daemon).
  std::vector<std::string> args = helper_mounts();
  args.insert(args.end(), {"--proc", "/proc", "--", "/nsb-helper", "--nsb-helper", "lo"});
  ProcessSpec own_net = spec(args);
  own_net.before_drop = [] {
    if (::unshare(CLONE_NEWNET) < 0) ::_exit(125);
  };
  r = run_process(own_net);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto probe = parse_probe(r.out);
  EXPECT_EQ(probe["interfaces"], "lo") << "the sandbox must share the caller's network namespace\n" << r.describe();
  EXPECT_EQ(probe["lo_up"], "0") << "lo is down in the caller's fresh network namespace\n" << r.describe();
}

// ---------------------------------------------------------------------------------------------
// 3. Read-only and read-write binds.

TEST_P(SandboxTest, RoBindRefusesWrites) {
  auto r = run({"--ro-bind", proj_, "/p", "--", "touch", "/p/new-file"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("Read-only file system")) << r.describe();
  EXPECT_FALSE(path_exists(proj_ + "/new-file"));
}

TEST_P(SandboxTest, BindOfCallerDirWritesFilesOwnedByCaller) {
  auto r = run({"--bind", proj_, "/p", "--", "sh", "-c", "echo data > /p/created"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  struct stat st;
  ASSERT_EQ(::lstat((proj_ + "/created").c_str(), &st), 0) << "file did not appear on the host";
  EXPECT_EQ(st.st_uid, kCallerUid);
  EXPECT_EQ(st.st_gid, kCallerUid);
  EXPECT_EQ(read_file(proj_ + "/created").value_or(""), "data\n");
}

// ---------------------------------------------------------------------------------------------
// 4. --unshare-net: only lo, and it is up.
//
// Checked with what the kernel reports, independent of the host's tools: /proc/net/dev of
// the sandbox's own procfs lists the interfaces of its network namespace; the probe reads the
// flags of lo with SIOCGIFFLAGS and makes a TCP round trip over 127.0.0.1 (which fails with
// ENETUNREACH while lo is down). /sys is not used: a bind of the host's sysfs shows the host's
// interfaces whatever the sandbox's namespace.

TEST_P(SandboxTest, UnshareNetLeavesOnlyLoopbackAndItIsUp) {
  auto r = run({"--unshare-net", "--proc", "/proc", "--", "cat", "/proc/net/dev"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(interfaces_in(r.out), std::set<std::string>{"lo"}) << r.describe();

  std::vector<std::string> args = helper_mounts();
  args.insert(args.end(), {"--unshare-net", "--proc", "/proc", "--", "/nsb-helper", "--nsb-helper", "lo"});
  r = run(args);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto probe = parse_probe(r.out);
  EXPECT_EQ(probe["interfaces"], "lo") << r.describe();
  EXPECT_EQ(probe["lo_up"], "1") << r.describe();
  EXPECT_EQ(probe["tcp_loopback"], "ok") << r.describe();

  // Control: without --unshare-net the sandbox sees the caller's (here: the host's)
  // interfaces, so the check above can tell the difference.
  std::set<std::string> host = interfaces_in(read_file("/proc/net/dev").value_or(""));
  if (host.size() > 1) {
    r = run({"--proc", "/proc", "--", "cat", "/proc/net/dev"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(interfaces_in(r.out), host) << r.describe();
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Host pids are invisible.

TEST_P(SandboxTest, HostPidsAreInvisible) {
  for (bool unshare_pid : {false, true}) {
    std::vector<std::string> args = {"--proc", "/proc"};
    if (unshare_pid) args.push_back("--unshare-pid");
    args.insert(args.end(), {"--", "ls", "/proc"});
    auto r = run(args);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    std::set<std::string> pids = numeric_entries(r.out);
    SCOPED_TRACE(std::string("--unshare-pid ") + (unshare_pid ? "given" : "not given") +
                 "; numeric entries: " + testing::PrintToString(pids));
    EXPECT_TRUE(pids.count("1")) << r.describe();
    EXPECT_LE(pids.size(), 6u) << "more processes than a fresh pid namespace holds";
    EXPECT_FALSE(pids.count(std::to_string(daemon_->pid()))) << "the daemon's pid is visible";
    EXPECT_FALSE(pids.count(std::to_string(::getpid()))) << "the test's pid is visible";
  }
}

// ---------------------------------------------------------------------------------------------
// 6. No capabilities, no_new_privs, seccomp.

TEST_P(SandboxTest, NoCapabilitiesAndNoNewPrivs) {
  for (std::vector<std::string> extra : {std::vector<std::string>{},
                                         std::vector<std::string>{"--unshare-user"},
                                         std::vector<std::string>{"--unshare-all"}}) {
    std::vector<std::string> args = extra;
    args.insert(args.end(), {"--proc", "/proc", "--", "cat", "/proc/self/status"});
    auto r = run(args);
    SCOPED_TRACE("extra options: " + testing::PrintToString(extra));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    auto status = parse_status(r.out);
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
      EXPECT_EQ(status[set], "0000000000000000") << set << "\n" << r.out;
    }
    EXPECT_EQ(status["NoNewPrivs"], "1") << r.out;
    EXPECT_EQ(status["Seccomp"], "2") << "the base seccomp filter must be loaded\n" << r.out;
    EXPECT_EQ(status["Uid"], "1500\t1500\t1500\t1500") << r.out;
    EXPECT_EQ(status["Gid"], "1500\t1500\t1500\t1500") << r.out;
  }
}

TEST_P(SandboxTest, NestedUserNamespaceIsRefused) {
  std::vector<std::string> args = helper_mounts();
  args.insert(args.end(), {"--proc", "/proc", "--", "/nsb-helper", "--nsb-helper", "userns"});
  auto r = run(args);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto probe = parse_probe(r.out);
  ASSERT_TRUE(probe.count("userns")) << r.describe();
  EXPECT_NE(probe["userns"], "ok") << "a sandbox could create a user namespace\n" << r.describe();
}

// ---------------------------------------------------------------------------------------------
// 7. Only stdio reaches the command.
//
// The probe lists /proc/self/fd without the fd it lists it with: exactly 0, 1, 2. `ls -l
// /proc/self/fd` shows one more entry, ls's own directory fd, which must point at
// /proc/<its pid>/fd. The client is started with an extra inheritable fd (9) to prove that
// fds the caller holds are not forwarded.

TEST_P(SandboxTest, OnlyStdioFdsReachTheCommand) {
  std::vector<std::string> args = helper_mounts();
  args.insert(args.end(), {"--proc", "/proc", "--", "/nsb-helper", "--nsb-helper", "fds"});
  ProcessSpec s = spec(args);
  s.leak_extra_fd = true;
  auto r = run_process(s);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(parse_probe(r.out)["fds"], "0,1,2") << r.describe();

  r = run({"--proc", "/proc", "--", "ls", "-l", "/proc/self/fd"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::map<std::string, std::string> fds;  // fd -> link target
  for (const std::string& line : lines_of(r.out)) {
    std::size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    std::size_t name = line.rfind(' ', arrow - 1);
    fds[line.substr(name + 1, arrow - name - 1)] = line.substr(arrow + 4);
  }
  std::set<std::string> names;
  for (const auto& [fd, target] : fds) names.insert(fd);
  EXPECT_EQ(names, (std::set<std::string>{"0", "1", "2", "3"})) << r.describe();
  std::string ls_dir = fds["3"];
  EXPECT_TRUE(ls_dir.rfind("/proc/", 0) == 0 && ls_dir.size() > 9 &&
              ls_dir.compare(ls_dir.size() - 3, 3, "/fd") == 0)
      << "fd 3 should be ls's own /proc/<pid>/fd, is " << ls_dir << "\n" << r.describe();
}

// ---------------------------------------------------------------------------------------------
// 8. Symlink attacks.

TEST_P(SandboxTest, SymlinksInBindSourceCannotReachShadowOrPrivateDir) {
  make_symlink("/etc/shadow", proj_ + "/shadow-link", kCallerUid, kCallerUid);
  make_symlink(secret_, proj_ + "/secret-link", kCallerUid, kCallerUid);

  // Followed inside the sandbox: the links resolve against the sandbox's own view, where the
  // caller's permissions still apply.
  auto r = run({"--ro-bind", "/etc", "/etc", "--bind", proj_, "/proj", "--", "cat", "/proj/shadow-link"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
  r = run({"--ro-bind", other_, other_, "--bind", proj_, "/proj", "--", "cat", "/proj/secret-link/file"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, Not(HasSubstr("nsb-secret-content"))) << r.describe();

  // Used as bind sources: refused, naming the path the caller gave.
  for (const std::string& source :
       {proj_ + "/shadow-link", proj_ + "/secret-link", proj_ + "/secret-link/file"}) {
    for (const char* option : {"--ro-bind", "--bind"}) {
      r = run({option, source, "/x", "--", "cat", "/x"});
      SCOPED_TRACE(std::string(option) + " " + source);
      expect_client_error(r, "bind source " + source + ": ");
      EXPECT_THAT(r.err, HasSubstr("(checked as uid 1500)")) << r.describe();
    }
  }
}

// Bind sources through /proc magic links would hand out another process's root, cwd or
// open files (the daemon's included): refused.
TEST_P(SandboxTest, MagicLinkBindSourcesAreRefused) {
  std::string daemon_proc = "/proc/" + std::to_string(daemon_->pid());
  for (const std::string& source : {std::string("/proc/1/root"), daemon_proc + "/root", daemon_proc + "/cwd",
                                    daemon_proc + "/fd/0", std::string("/proc/self/root"),
                                    std::string("/proc/self/fd/1"), std::string("/proc/thread-self/cwd")}) {
    auto r = run({"--ro-bind", source, "/r", "--", "echo", "sandbox-ran"});
    SCOPED_TRACE(source);
    expect_client_error(r, "bind source " + source + ": ");
  }
}

// Tmpfs/dir destinations reached through a symlink planted inside a writable bind: the
// destination is resolved inside the new root, so the mount lands in the sandbox (or the
// request is refused) — never on the host. Checked from both sides: the host's mount table
// (the daemon shares the test's mount namespace, so a mount it made on the host shows up
// there), the host's files, and the sandbox's own /proc/self/mountinfo.
class DestinationSymlink {
 public:
  explicit DestinationSymlink(const std::string& work)
      : work_(work), mounts_(host_mount_points()), tree_(list_tree(work)) {}
  // Nothing mounted or created on the host by the run.
  void expect_host_untouched() const {
    EXPECT_EQ(host_mount_points(), mounts_) << "the mount table of the host changed";
    EXPECT_EQ(list_tree(work_), tree_) << "files appeared or vanished under " << work_;
  }

 private:
  std::string work_;
  std::multiset<std::string> mounts_;
  std::set<std::string> tree_;
};

TEST_P(SandboxTest, SymlinkedDestinationToEtcStaysInsideTheSandbox) {
  make_symlink("/etc", proj_ + "/etc-link", kCallerUid, kCallerUid);
  std::string probe = "nsb-probe-" + random_token();
  DestinationSymlink check(work_->path());

  // With the host's /etc bound read-only at /etc: the tmpfs covers the sandbox's /etc.
  auto r = run({"--ro-bind", "/etc", "/etc", "--bind", proj_, "/proj", "--tmpfs", "/proj/etc-link",
                "--proc", "/proc", "--", "sh", "-c",
                "touch /proj/etc-link/" + probe + " && echo touched; cat /proc/self/mountinfo"});
  check.expect_host_untouched();
  EXPECT_FALSE(path_exists("/etc/" + probe)) << "a file was created in the host's /etc";
  if (r.exit_code == 0) {
    EXPECT_THAT(r.out, HasSubstr("touched\n")) << r.describe();
    EXPECT_TRUE(has_mount(mounts_in(r.out), "/etc", "tmpfs"))
        << "the tmpfs should cover the sandbox's /etc\n" << r.describe();
  } else {
    expect_client_error(r, "/proj/etc-link");
  }

  // Without /etc in the sandbox: refused, or created inside the sandbox's root.
  r = run({"--bind", proj_, "/proj", "--tmpfs", "/proj/etc-link", "--proc", "/proc", "--", "cat",
           "/proc/self/mountinfo"});
  check.expect_host_untouched();
  if (r.exit_code == 0) {
    EXPECT_TRUE(has_mount(mounts_in(r.out), "/etc", "tmpfs")) << r.describe();
  } else {
    expect_client_error(r, "/proj/etc-link");
  }
}

TEST_P(SandboxTest, RelativeSymlinkedDestinationCannotEscapeTheRoot) {
  // More "..", from the bind, than there are directories above the host's proj.
  make_symlink("../../../../../../../../../..", proj_ + "/up", kCallerUid, kCallerUid);
  std::string name = "nsb-escape-" + random_token();
  DestinationSymlink check(work_->path());

  auto r = run({"--bind", proj_, "/proj", "--dir", "/proj/up/" + name, "--tmpfs", "/proj/up/" + name,
                "--proc", "/proc", "--", "cat", "/proc/self/mountinfo"});
  check.expect_host_untouched();
  for (const std::string& where : {"/" + name, "/tmp/" + name, *work_ / name, home_ + "/" + name}) {
    EXPECT_FALSE(path_exists(where)) << where << " was created on the host";
  }
  if (r.exit_code == 0) {
    EXPECT_TRUE(has_mount(mounts_in(r.out), "/" + name, "tmpfs"))
        << "the tmpfs should be at /" << name << " inside the sandbox\n" << r.describe();
  } else {
    expect_client_error(r, "/proj/up");
  }
}

TEST_P(SandboxTest, SymlinkedDestinationToHostDirCreatesNothingThere) {
  // A root-owned host directory the caller cannot write, absent from the sandbox.
  std::string victim = *work_ / "victim";
  make_dir(victim, 0, 0, 0755);
  make_symlink(victim, proj_ + "/victim-link", kCallerUid, kCallerUid);
  DestinationSymlink check(work_->path());

  auto r = run({"--bind", proj_, "/proj", "--dir", "/proj/victim-link/sub", "--tmpfs",
                "/proj/victim-link/sub", "--", "true"});
  check.expect_host_untouched();
  EXPECT_FALSE(path_exists(victim + "/sub")) << "created through the symlink on the host";
  if (r.exit_code != 0) expect_client_error(r, "/proj/victim-link");

  r = run({"--bind", proj_, "/proj", "--tmpfs", "/proj/victim-link", "--", "true"});
  check.expect_host_untouched();
  if (r.exit_code != 0) expect_client_error(r, "/proj/victim-link");
}

// ---------------------------------------------------------------------------------------------
// 9. A killed client leaves no sandbox behind.

TEST_P(SandboxTest, SigkillOfClientLeavesNoSandboxProcess) {
  std::string token = random_token();
  std::string in_cmdline = "nsb-marker-" + token;  // $0 of the sandbox's shell
  std::string in_environ = "NSB_MARK=" + token;     // inherited by every sandbox process
  // Besides plain children: one daemonised with setsid -f and one double-forked (reparented
  // to the sandbox's init), which a kill of the process group would miss.
  ProcessSpec s = spec({"--dev", "/dev", "--setenv", "NSB_MARK", token, "--", "sh", "-c",
                        "setsid -f sleep 302; (sleep 303 &); sleep 300 & sleep 301; wait", in_cmdline});
  ChildProcess client(s);
  auto sandbox_processes = [&] {
    std::vector<pid_t> pids = find_processes_with_marker(in_environ);
    for (pid_t pid : find_processes_with_marker(in_cmdline)) {
      if (std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
    }
    return without(pids, client.pid());  // the client's own argv holds the marker too
  };
  ASSERT_TRUE(poll_until(5s, [&] { return sandbox_processes().size() >= 5; }))
      << "expected sh and sleep 300..303; found " << testing::PrintToString(sandbox_processes())
      << "\n" << client.wait(1s).describe();

  auto killed = std::chrono::steady_clock::now();
  client.signal(SIGKILL);
  ProcessResult r = client.wait(5s);
  EXPECT_EQ(r.term_signal, SIGKILL) << r.describe();
  auto left = std::chrono::milliseconds(1000) -
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed);
  EXPECT_TRUE(poll_until(std::max(left, std::chrono::milliseconds(0)), [&] { return sandbox_processes().empty(); }))
      << "still running 1 s after the client was killed: "
      << testing::PrintToString(sandbox_processes());
}

// ---------------------------------------------------------------------------------------------
// 11. A failing step reaches the client (step, path, errno) and leaves nothing on the host.

TEST_P(SandboxTest, FailingBindSourceIsReportedAndCreatesNothing) {
  std::set<std::string> before = list_tree(work_->path());
  auto r = run({"--bind", proj_, "/proj", "--dir", "/proj/newdir", "--ro-bind", "/nonexistent", "/x",
                "--", "true"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_EQ(r.err, "nsbroker: bind source /nonexistent: No such file or directory\n") << r.describe();
  EXPECT_FALSE(path_exists(proj_ + "/newdir"));
  EXPECT_EQ(list_tree(work_->path()), before);
}

TEST_P(SandboxTest, StepFailingAfterMountPointsWereCreatedLeavesNothing) {
  std::set<std::string> before = list_tree(work_->path());
  std::multiset<std::string> host_mounts = host_mount_points();
  auto r = run({"--bind", proj_, "/proj", "--dir", "/proj/a/b", "--tmpfs", "/proj/a/b/c",
                "--remount-ro", "/does/not/exist", "--", "true"});
  expect_client_error(r, "/does/not/exist: No such file or directory");
  EXPECT_FALSE(path_exists(proj_ + "/a")) << "directories created for the sandbox were left on the host";
  EXPECT_EQ(list_tree(work_->path()), before);
  EXPECT_EQ(host_mount_points(), host_mounts);

  // The same request without the failing step does create them (as bubblewrap does): the
  // check above is about the rollback, not about the directories never being made.
  r = run({"--bind", proj_, "/proj", "--dir", "/proj/a/b", "--tmpfs", "/proj/a/b/c", "--", "true"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  struct stat st;
  ASSERT_EQ(::lstat((proj_ + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kCallerUid) << "mount points on the host must be owned by the caller";
}

// Steps after the mounts (the working directory, the exec itself) fail the request in the
// same way — and must not leave the mount points created for it on the host either.
TEST_P(SandboxTest, StepFailingAtChdirLeavesNothing) {
  std::set<std::string> before = list_tree(work_->path());
  auto r = run({"--bind", proj_, "/proj", "--dir", "/proj/made-for-chdir", "--chdir", "/does/not/exist",
                "--", "true"});
  expect_client_error(r, "chdir /does/not/exist: No such file or directory");
  EXPECT_FALSE(path_exists(proj_ + "/made-for-chdir"))
      << "the mount point created for the failed request was left on the host";
  EXPECT_EQ(list_tree(work_->path()), before);
}

TEST_P(SandboxTest, StepFailingAtExecLeavesNothing) {
  std::set<std::string> before = list_tree(work_->path());
  auto r = run({"--bind", proj_, "/proj", "--dir", "/proj/made-for-exec", "--", "/bin/nonexistent"});
  expect_client_error(r, "execvp /bin/nonexistent: No such file or directory");
  EXPECT_FALSE(path_exists(proj_ + "/made-for-exec"))
      << "the mount point created for the failed request was left on the host";
  EXPECT_EQ(list_tree(work_->path()), before);
}

TEST_P(SandboxTest, AsPid1MakesTheCommandPid1AndOtherwiseAnInitIs) {
  auto r = run({"--proc", "/proc", "--as-pid-1", "--", "sh", "-c", "echo $$; cat /proc/1/comm"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "1\nsh\n") << r.describe();

  r = run({"--proc", "/proc", "--", "sh", "-c", "echo $$; cat /proc/1/comm"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "2\nnsbroker-init\n") << r.describe();
}

TEST_P(SandboxTest, HostnameNeedsAndGetsItsOwnUtsNamespace) {
  auto r = run({"--unshare-uts", "--hostname", "nsb-box", "--", "uname", "-n"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "nsb-box\n") << r.describe();
}

TEST_P(SandboxTest, EnvironmentIsTheClientsAsModified) {
  auto r = run({"--setenv", "NSB_A", "one", "--unsetenv", "LC_ALL", "--", "sh", "-c",
                "echo \"$NSB_A:${LC_ALL-unset}:$PATH\""});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "one:unset:/usr/bin:/bin\n") << r.describe();

  r = run({"--clearenv", "--setenv", "ONLY", "this", "--", "/usr/bin/env"});
  EXPECT_EQ(r.out, "ONLY=this\n") << r.describe();
}

// Even where the daemon's socket is reachable inside, a request from inside a sandbox is
// refused: a sub-sandbox may never exceed its parent. (The daemon masks its socket's path in
// every sandbox; a hard link root made elsewhere is another path, which the mask does not
// cover, so the request gets through to the daemon.)
TEST_P(SandboxTest, RequestFromInsideASandboxIsRefused) {
  TempDir elsewhere("nsb-it-link-", 0755);
  std::string link = elsewhere / "nsbrokerd.sock";
  ASSERT_EQ(::link(daemon_->socket_path().c_str(), link.c_str()), 0) << std::strerror(errno);
  auto r = run({"--ro-bind", "/", "/", "--", binaries().client, "run", "--socket", link,
                "--ro-bind", "/", "/", "--", "true"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("nested sandboxes are refused")) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Configs, SandboxTest, ::testing::ValuesIn(kAllConfigs), ConfigName());

// The per-uid cap on live sandboxes refuses the excess with a clear error, and only for that
// user: another user still gets a sandbox.
TEST(LiveSandboxLimit, RefusesTheExcessOfOneUserOnly) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start nsbrokerd";
  DaemonSpec daemon_spec;
  daemon_spec.extra_args = {"--max-sandboxes-per-uid", "1"};
  DaemonProcess daemon(daemon_spec);
  ASSERT_TRUE(daemon.ready()) << daemon.error();

  std::vector<std::string> args = base_mounts();
  args.insert(args.end(), {"--", "sleep", "30"});
  ChildProcess first(client_spec(daemon.socket_path(), args));
  ASSERT_TRUE(poll_until(10s, [&] {
    return daemon.log().find("started as pid") != std::string::npos;
  })) << daemon.log();

  std::vector<std::string> quick = base_mounts();
  quick.insert(quick.end(), {"--", "true"});
  ProcessResult second = run_process(client_spec(daemon.socket_path(), quick));
  expect_client_error(second, "uid 1500 already has 1 live sandboxes (the per-user limit)");

  ProcessSpec other = client_spec(daemon.socket_path(), quick);
  other.uid = kOtherUid;
  ProcessResult other_user = run_process(other);
  EXPECT_EQ(other_user.exit_code, 0) << other_user.describe();

  first.signal(SIGKILL);
  first.wait(10s);
  // The slot comes back once the first sandbox has been reaped.
  EXPECT_TRUE(poll_until(10s, [&] {
    return run_process(client_spec(daemon.socket_path(), quick)).exit_code == 0;
  })) << daemon.log();
}

}  // namespace
}  // namespace nsbroker::itest
