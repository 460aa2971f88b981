// tests/service harness: real processes as root (nsbrokerd, dbus-daemon, systemd tools) and
// clients as uid 1500/1501, with hard time bounds.
//
// Rules (the tests share the machine with other people's processes):
//   - only processes this harness started are ever signalled, by the pid fork() returned
//     (or, for daemons a private bus activated, by the pid the activation wrapper wrote);
//   - every wait is bounded;
//   - every temporary directory is removed by its owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nsbroker::stest {

using namespace std::chrono_literals;

inline constexpr uid_t kUser = 1500;
inline constexpr uid_t kOtherUser = 1501;

// ---- files ----------------------------------------------------------------------------------

// mkdtemp under /tmp, chmod `mode`; removed recursively (without following symlinks).
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "nsb-svc-", mode_t mode = 0755);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

std::optional<std::string> read_file(const std::string& path);
void write_file(const std::string& path, std::string_view content, mode_t mode = 0644);
bool exists(const std::string& path);  // lstat
std::vector<std::string> lines_of(std::string_view text);
std::string random_token();
// Polls every 20 ms until `predicate` holds or `timeout` passes; returns its last value.
template <typename Predicate>
bool wait_until(std::chrono::milliseconds timeout, Predicate predicate);
void sleep_for(std::chrono::milliseconds duration);

// ---- environment ----------------------------------------------------------------------------

// std::nullopt when the test can run, else why not (the test is skipped with it).
std::optional<std::string> need_root();
std::optional<std::string> need_program(const std::string& name);  // on PATH
std::optional<std::string> need_root_userns();

// ---- binaries -------------------------------------------------------------------------------

struct Binaries {
  std::string daemon;       // the build tree's nsbrokerd (run as root)
  std::string client;       // copies in a 0755 directory, runnable by uid 1500:
  std::string dbus_run;     //   nsbroker-dbus-run (next to nsbroker, where it looks)
  std::string dbus_client;  //   nsbroker-test-dbus-client
  std::string policy;       // a root-owned copy of config/policy.pbtxt, or empty
};
const Binaries& binaries();
// Extra daemon arguments every test daemon gets: --policy when this nsbrokerd has it.
std::vector<std::string> daemon_common_args();

// ---- processes ------------------------------------------------------------------------------

struct ProcessSpec {
  std::vector<std::string> argv;
  std::optional<uid_t> uid;                // run as uid/gid with no supplementary groups
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  std::string cwd = "/";
  std::optional<std::string> log_file;     // stdout+stderr appended here instead of pipes
  // fds to pass to the child as 3, 4, ... (dup2'ed; the originals stay with the caller).
  std::vector<int> pass_fds;
  // Set LISTEN_PID to the child's own pid (socket activation by the test).
  bool set_listen_pid = false;
};

struct ProcessResult {
  int exit_code = -1;
  int term_signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
  std::string describe() const;
  // key=value lines of `out`.
  std::map<std::string, std::string> values() const;
};

class Child {
 public:
  explicit Child(const ProcessSpec& spec);
  ~Child();  // SIGKILL (by pid) and reap if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool running();  // not yet exited (reaps it when it has)
  void signal(int sig);
  // Waits (bounded) for the exit and the end of the output; SIGKILL after `timeout`.
  ProcessResult wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  int out_fd_ = -1;
  int err_fd_ = -1;
};

ProcessResult run(const ProcessSpec& spec, std::chrono::milliseconds timeout = 30s);

// True while `pid` exists and its command line contains `needle` (guards against pid reuse).
bool process_alive_with(pid_t pid, std::string_view needle);
// Pids of processes whose command line contains `marker`.
std::vector<pid_t> processes_with(std::string_view marker);
// SIGKILL `pid` if it still is the process we mean.
void kill_if(pid_t pid, std::string_view needle);

bool socket_accepts(const std::string& path);

// The mounts that make a usable root on Debian 12 (merged /usr), as `nsbroker run` options.
std::vector<std::string> base_mounts();

// ---- a private system bus -------------------------------------------------------------------

struct BusOptions {
  unsigned idle_exit = 2;
  std::vector<std::string> daemon_args;  // more nsbrokerd options
};

// dbus-daemon with a config like Debian's system bus (default deny own, deny method calls,
// allow signals and replies) plus the shipped systemd/org.nsbroker.Broker1.conf, and a
// service directory whose activation file starts the build tree's nsbrokerd --dbus.
//
// uids 1500 and 1501 need passwd entries for a system-type bus: dbus-daemon runs in a
// private mount namespace where copies of /etc/passwd and /etc/group with them are bound
// (nothing changes for the rest of the machine), and the activated nsbrokerd is moved back to
// the test's own mount namespace with nsenter.
class PrivateBus {
 public:
  explicit PrivateBus(const BusOptions& options = {});
  ~PrivateBus();
  PrivateBus(const PrivateBus&) = delete;
  PrivateBus& operator=(const PrivateBus&) = delete;

  bool ready() const { return ready_; }
  const std::string& error() const { return error_; }
  std::string address() const { return "unix:path=" + dir_ / "bus.sock"; }
  const std::string& dir() const { return dir_.path(); }
  std::string daemon_log() const;
  std::string bus_log() const;
  // Pids of the nsbrokerd processes the bus activated so far, in order.
  std::vector<pid_t> daemon_pids() const;
  // Waits until every activated nsbrokerd has exited.
  bool wait_daemons_gone(std::chrono::milliseconds timeout) const;
  // SIGTERM to every activated nsbrokerd still running, then SIGKILL after 5 s.
  void stop_daemons();
  // Environment for a client of this bus.
  std::vector<std::string> client_env() const;

 private:
  TempDir dir_;
  std::optional<Child> bus_;
  bool ready_ = false;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------

template <typename Predicate>
bool wait_until(std::chrono::milliseconds timeout, Predicate predicate) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return predicate();
    sleep_for(20ms);
  }
}

}  // namespace nsbroker::stest
