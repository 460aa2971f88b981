// Socket activation and the service runtime: systemd-socket-activate with an unprivileged
// client; idle exit that leaves queued connections to the next start (the test holds the
// listening socket, as systemd does); sd_notify READY/STATUS/STOPPING; no idle exit when
// started by hand; the daemon under the unit's capability bounding set and no_new_privs.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <gtest/gtest.h>
#include <sstream>

#include "harness.h"

namespace nsbroker::stest {
namespace {

std::vector<std::string> daemon_argv(std::vector<std::string> extra) {
  std::vector<std::string> argv = {binaries().daemon, "--log-level", "debug"};
  for (const std::string& arg : daemon_common_args()) argv.push_back(arg);
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

ProcessSpec client_spec(const std::string& socket, std::vector<std::string> command) {
  ProcessSpec spec;
  spec.argv = {binaries().client, "run", "--socket", socket};
  for (const std::string& m : base_mounts()) spec.argv.push_back(m);
  spec.argv.push_back("--");
  spec.argv.insert(spec.argv.end(), command.begin(), command.end());
  spec.uid = kUser;
  spec.env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  return spec;
}

int bind_unix(int type, const std::string& path) {
  int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) return -1;
  return fd;
}

// The notifications a daemon sent to our NOTIFY_SOCKET.
class NotifyReader {
 public:
  explicit NotifyReader(const std::string& path) : fd_(bind_unix(SOCK_DGRAM, path)) {}
  ~NotifyReader() { ::close(fd_); }
  bool valid() const { return fd_ >= 0; }
  // Reads until a message containing `needle` arrives (or `timeout`).
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      for (const std::string& m : messages_) {
        if (m.find(needle) != std::string::npos) return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd fd{fd_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) != 1) continue;
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n > 0) messages_.emplace_back(buffer, static_cast<std::size_t>(n));
    }
  }
  std::string all() const {
    std::string text;
    for (const std::string& m : messages_) text += "[" + m + "] ";
    return text;
  }

 private:
  int fd_;
  std::vector<std::string> messages_;
};

class ActivationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = need_root()) GTEST_SKIP() << *why;
  }
};

TEST_F(ActivationTest, SystemdSocketActivateStartsTheDaemonForAnUnprivilegedClient) {
  if (auto why = need_program("systemd-socket-activate")) GTEST_SKIP() << *why;
  TempDir dir("nsb-svc-sa-", 0755);
  std::string socket = dir / "nsbroker.sock";
  ProcessSpec spec;
  spec.argv = {"/usr/bin/systemd-socket-activate", "--seqpacket", "-l", socket};
  for (const std::string& arg : daemon_argv({"--idle-exit", "1"})) spec.argv.push_back(arg);
  spec.log_file = dir / "log";
  Child activator(spec);
  ASSERT_TRUE(wait_until(10s, [&] { return exists(socket); })) << read_file(dir / "log").value_or("");
  // systemd's SocketMode=0666; systemd-socket-activate leaves the umask's mode.
  ASSERT_EQ(::chmod(socket.c_str(), 0666), 0);
  sleep_for(200ms);
  EXPECT_EQ(read_file(dir / "log").value_or("").find("nsbrokerd["), std::string::npos)
      << "nsbrokerd must not run before the first connection";

  ProcessResult result = run(client_spec(socket, {"/bin/sh", "-c", "echo activated as $(id -u)"}));
  std::string log = read_file(dir / "log").value_or("");
  EXPECT_EQ(result.exit_code, 0) << result.describe() << log;
  EXPECT_EQ(result.out, "activated as 1500\n");
  EXPECT_NE(log.find("the socket passed by systemd"), std::string::npos) << log;
  // Idle exit: the process ends by itself, successfully.
  ProcessResult daemon = activator.wait(15s);
  EXPECT_FALSE(daemon.timed_out) << read_file(dir / "log").value_or("");
  EXPECT_EQ(daemon.exit_code, 0) << read_file(dir / "log").value_or("");
}

TEST_F(ActivationTest, IdleExitLeavesQueuedConnectionsToTheNextStart) {
  TempDir dir("nsb-svc-act-", 0755);
  std::string socket = dir / "nsbroker.sock";
  // What systemd does for nsbrokerd.socket: hold the listening socket, pass it as fd 3.
  int listener = bind_unix(SOCK_SEQPACKET, socket);
  ASSERT_GE(listener, 0);
  ASSERT_EQ(::chmod(socket.c_str(), 0666), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  NotifyReader notify(dir / "notify");
  ASSERT_TRUE(notify.valid());
  auto start_daemon = [&](const std::string& log) {
    ProcessSpec spec;
    spec.argv = daemon_argv({"--idle-exit", "1"});
    spec.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "LISTEN_FDS=1",
                "NOTIFY_SOCKET=" + dir / "notify"};
    spec.pass_fds = {listener};
    spec.set_listen_pid = true;
    spec.log_file = log;
    return std::make_unique<Child>(spec);
  };

  auto first = start_daemon(dir / "log1");
  ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << notify.all() << read_file(dir / "log1").value_or("");
  ProcessResult served = run(client_spec(socket, {"/bin/echo", "one"}));
  EXPECT_EQ(served.exit_code, 0) << served.describe();
  EXPECT_EQ(served.out, "one\n");
  EXPECT_TRUE(notify.wait_for("STATUS=Serving", 5s)) << notify.all();
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 10s)) << notify.all();
  ProcessResult first_exit = first->wait(10s);
  EXPECT_EQ(first_exit.exit_code, 0) << read_file(dir / "log1").value_or("");
  EXPECT_NE(read_file(dir / "log1").value_or("").find("exiting"), std::string::npos);

  // Nobody serves now; a client connects anyway and waits in the socket's queue.
  Child waiting(client_spec(socket, {"/bin/echo", "two"}));
  pollfd pending{listener, POLLIN, 0};
  ASSERT_EQ(::poll(&pending, 1, 10000), 1) << "the client's connection is queued";
  // The next start serves it.
  auto second = start_daemon(dir / "log2");
  ProcessResult queued = waiting.wait(30s);
  EXPECT_EQ(queued.exit_code, 0) << queued.describe() << read_file(dir / "log2").value_or("");
  EXPECT_EQ(queued.out, "two\n");
  second->signal(SIGTERM);
  ProcessResult second_exit = second->wait(10s);
  EXPECT_EQ(second_exit.exit_code, 0);
  EXPECT_TRUE(notify.wait_for("Stopping: signal", 5s)) << notify.all();
  ::close(listener);
}

// The daemon hides its own socket inside sandboxes wherever it is, also when systemd made it:
// the path comes from the passed socket itself (getsockname), with its directory's symlinks
// resolved, since binds are judged by the paths the kernel reports.
TEST_F(ActivationTest, ThePassedSocketIsHiddenInsideSandboxesWhereverItIs) {
  TempDir dir("nsb-svc-mask-", 0755);
  ASSERT_EQ(::mkdir((dir / "real").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("real", (dir / "link").c_str()), 0);
  std::string socket = dir / "link/broker.sock";  // bound through the symlink
  int listener = bind_unix(SOCK_SEQPACKET, socket);
  ASSERT_GE(listener, 0);
  ASSERT_EQ(::chmod(socket.c_str(), 0666), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  ProcessSpec daemon_spec;
  daemon_spec.argv = daemon_argv({"--idle-exit", "0"});
  daemon_spec.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "LISTEN_FDS=1"};
  daemon_spec.pass_fds = {listener};
  daemon_spec.set_listen_pid = true;
  daemon_spec.log_file = dir / "log";
  Child daemon(daemon_spec);

  ProcessSpec spec;
  spec.argv = {binaries().client, "run", "--socket", socket, "--ro-bind", "/", "/", "--",
               "/bin/sh", "-c",
               "for p in " + dir / "real/broker.sock" + " " + socket +
                   "; do if [ -S $p ]; then echo socket; else echo hidden; fi; done"};
  spec.uid = kUser;
  spec.env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  ProcessResult result = run(spec);
  std::string log = read_file(dir / "log").value_or("");
  EXPECT_EQ(result.exit_code, 0) << result.describe() << log;
  EXPECT_EQ(result.out, "hidden\nhidden\n") << result.describe() << log;
  // Binding it by its real path is refused: the denied path is the canonical one.
  spec.argv = {binaries().client, "run", "--socket", socket, "--ro-bind", dir / "real/broker.sock",
               "/s", "--", "/bin/true"};
  ProcessResult bound = run(spec);
  EXPECT_NE(bound.exit_code, 0) << bound.describe();
  EXPECT_NE(bound.err.find("mounts.deny \"" + dir / "real/broker.sock\""), std::string::npos)
      << bound.describe() << read_file(dir / "log").value_or("");
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(10s).exit_code, 0) << read_file(dir / "log").value_or("");
  ::close(listener);
}

TEST_F(ActivationTest, NoIdleExitWhenStartedByHand) {
  TempDir dir("nsb-svc-hand-", 0755);
  ProcessSpec spec;
  spec.argv = daemon_argv({"--idle-exit", "1", "--socket", dir / "nsbroker.sock"});
  spec.log_file = dir / "log";
  Child daemon(spec);
  ASSERT_TRUE(wait_until(10s, [&] { return socket_accepts(dir / "nsbroker.sock"); }))
      << read_file(dir / "log").value_or("");
  sleep_for(2500ms);
  EXPECT_TRUE(daemon.running()) << read_file(dir / "log").value_or("");
  EXPECT_NE(read_file(dir / "log").value_or("").find("--idle-exit 1 ignored"), std::string::npos);
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(10s).exit_code, 0);
}

// The capabilities nsbrokerd.service removes, as setpriv --bounding-set arguments.
std::string unit_bounding_set_removals() {
  std::string unit = read_file(std::string(NSBROKER_SOURCE_DIR) + "/systemd/nsbrokerd.service.in").value_or("");
  std::string removals;
  for (const std::string& line : lines_of(unit)) {
    const std::string key = "CapabilityBoundingSet=~";
    if (line.rfind(key, 0) != 0) continue;
    std::istringstream words(line.substr(key.size()));
    std::string cap;
    while (words >> cap) {
      std::string name = cap.substr(4);  // CAP_...
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      removals += (removals.empty() ? "-" : ",-") + name;
    }
  }
  return removals;
}

TEST_F(ActivationTest, DaemonWorksWithinTheUnitsBoundingSetAndNoNewPrivs) {
  if (auto why = need_program("setpriv")) GTEST_SKIP() << *why;
  std::string removals = unit_bounding_set_removals();
  ASSERT_FALSE(removals.empty()) << "no CapabilityBoundingSet=~ in nsbrokerd.service.in";
  std::vector<std::string> modes = {"privileged"};
  if (!need_root_userns()) modes.push_back("userns");
  for (const std::string& mode : modes) {
    TempDir dir("nsb-svc-caps-", 0755);
    ProcessSpec spec;
    spec.argv = {"/usr/bin/setpriv", "--no-new-privs", "--bounding-set", removals, "--"};
    for (const std::string& arg : daemon_argv({"--mode", mode, "--socket", dir / "nsbroker.sock"})) {
      spec.argv.push_back(arg);
    }
    spec.log_file = dir / "log";
    Child daemon(spec);
    ASSERT_TRUE(wait_until(10s, [&] { return socket_accepts(dir / "nsbroker.sock"); }))
        << mode << ": " << read_file(dir / "log").value_or("");
    ProcessSpec client = client_spec(dir / "nsbroker.sock", {"/bin/sh", "-c", "echo ok; id -u"});
    client.argv.insert(client.argv.begin() + 4, {"--unshare-pid", "--unshare-net", "--unshare-ipc",
                                                 "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"});
    ProcessResult result = run(client);
    EXPECT_EQ(result.exit_code, 0) << mode << ": " << result.describe() << read_file(dir / "log").value_or("");
    EXPECT_EQ(result.out, "ok\n1500\n") << mode;
    daemon.signal(SIGTERM);
    daemon.wait(10s);
  }
}

}  // namespace
}  // namespace nsbroker::stest
