// Integration-test harness: a real nsbrokerd on a socket in a fresh temporary directory, and
// clients run as an unprivileged uid, with hard timeouts everywhere.
//
// Rules this harness keeps (the tests share a machine with other engineers' processes):
//   - it only ever signals processes it started itself, by the pid fork() returned;
//   - every wait is bounded; a child that outlives its bound is SIGKILLed (by that pid);
//   - every temporary directory it creates is removed when its owner goes out of scope.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace nsbroker::itest {

using namespace std::chrono_literals;

// The unprivileged caller and "another user" (neither needs a passwd entry).
inline constexpr uid_t kCallerUid = 1500;
inline constexpr uid_t kOtherUid = 1501;

// ---------------------------------------------------------------------------------------------
// Small file helpers.

// A directory from mkdtemp() under /tmp, chmod'ed to `mode` (0755 by default, so that uid 1500
// can reach what is inside); removed recursively (symlinks are not followed) on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "nsb-it-", mode_t mode = 0755);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Reads a whole file; std::nullopt when it cannot be opened.
std::optional<std::string> read_file(const std::string& path);
// Reads /proc/self/RELATIVE of the test process through its own procfs, pinned (an fd on
// /proc) the first time this is called -- test_main() calls it before any test -- so that a
// sandbox's mount leaked over /proc (the bug of the shared-root runs) cannot hide the test's
// own mount table from it.
std::optional<std::string> read_own_proc(const std::string& relative);
// Writes `content` to `path` (created 0644, truncated); throws std::runtime_error on failure.
void write_file(const std::string& path, std::string_view content);
// mkdir + chown + chmod (the mode is applied with chmod, so the umask does not matter).
void make_dir(const std::string& path, uid_t uid, gid_t gid, mode_t mode);
// symlink + lchown: a link "planted by" uid.
void make_symlink(const std::string& target, const std::string& link, uid_t uid, gid_t gid);
bool path_exists(const std::string& path);  // lstat() succeeds
// Every path below `root` (relative, symlinks listed but not followed), for before/after
// comparisons that prove nothing was created on the host.
std::set<std::string> list_tree(const std::string& root);
// The mount points (field 5 of /proc/self/mountinfo) of the test process's mount namespace,
// which is the daemon's: a mount the daemon made on the host would show up here.
std::multiset<std::string> host_mount_points();
// The whole mount table of the test process's mount namespace (the lines of
// /proc/self/mountinfo: ids, points, roots, types, sources, options and propagation), for
// "nothing changed in the caller's namespace" checks that also see a mount replaced in place.
std::multiset<std::string> host_mount_table();
// What differs between two host_mount_table() snapshots, one "- line" / "+ line" per line;
// empty when they are equal.
std::string mount_table_diff(const std::multiset<std::string>& before, const std::multiset<std::string>& after);
// Lines of `text` (without the newlines).
std::vector<std::string> lines_of(std::string_view text);
// A short random hex string for markers and file names.
std::string random_token();

// ---------------------------------------------------------------------------------------------
// Environment probes. Each returns std::nullopt when the feature is usable, otherwise the
// reason to skip.

std::optional<std::string> need_root();
// Whether root may create a user namespace (needed by the daemon's userns mode).
std::optional<std::string> need_root_userns();
// Whether the kernel has seccomp filters (needed by nsbroker-test-deny-userns).
std::optional<std::string> need_seccomp();

// ---------------------------------------------------------------------------------------------
// Binaries.

struct Binaries {
  std::string daemon;       // in the build tree; run by root
  std::string client;       // copy in a 0755 directory, executable by uid 1500
  std::string deny_userns;  // copy in a 0755 directory, executable by uid 1500
  std::string helper;       // copy of this test executable (its --nsb-helper mode)
};
// Copies the binaries once per test process; the copies are removed at exit.
const Binaries& binaries();

// ---------------------------------------------------------------------------------------------
// A cgroup of the caller's own.

// A fresh cgroup in every cgroup hierarchy the test process is in, each created right below
// the test process's own cgroup there (so whatever confines the test keeps applying). The
// hierarchies are found through /proc/self/mountinfo and /proc/self/cgroup: v1 controllers,
// v1 named hierarchies (name=systemd) and the v2 unified one, wherever they are mounted
// (the v1/v2 hybrid of the test machines, pure v2 at /sys/fs/cgroup in production).
// ProcessSpec::cgroup places a caller in all of them. The destructor removes them, and any
// cgroup made below them, once empty (bounded wait); run it after the processes have ended.
class CallerCgroup {
 public:
  struct Hierarchy {
    std::string key;   // field 2 of /proc/PID/cgroup: "memory", "cpu,cpuacct", "name=systemd", "" (v2)
    std::string path;  // field 3: this cgroup's path in the hierarchy
    std::string dir;   // the cgroup's directory
  };
  CallerCgroup();  // throws std::runtime_error when a hierarchy cannot take a new cgroup
  ~CallerCgroup();
  CallerCgroup(const CallerCgroup&) = delete;
  CallerCgroup& operator=(const CallerCgroup&) = delete;

  const std::vector<Hierarchy>& hierarchies() const { return hierarchies_; }
  // The cgroup.procs files the child writes "0" to (one per hierarchy).
  const std::vector<std::string>& procs_files() const { return procs_files_; }
  // std::nullopt when `pid` is in this cgroup or below it in every hierarchy; otherwise which
  // hierarchy differs, with /proc/PID/cgroup. (A pid that is gone says so.)
  std::optional<std::string> not_within(pid_t pid) const;

 private:
  std::vector<Hierarchy> hierarchies_;
  std::vector<std::string> procs_files_;
};

// ---------------------------------------------------------------------------------------------
// Processes.

// setrlimit(resource, {soft, hard}) for a caller.
struct Rlimit {
  int resource;
  rlim_t soft;
  rlim_t hard;
};

struct ProcessSpec {
  std::vector<std::string> argv;
  // Run as this uid/gid with no supplementary groups (only when the test runs as root).
  std::optional<uid_t> uid = kCallerUid;
  // Supplementary groups of that uid (none by default, like `setpriv --clear-groups`).
  std::vector<gid_t> groups;
  // Wrap the command in `nsbroker-test-deny-userns --errno ERRNO --`.
  std::optional<std::string> deny_userns_errno;
  std::string cwd = "/";
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  // Leave one extra inheritable fd (a dup of the stdout pipe, at fd 9) open in the process,
  // to prove that an fd the caller happens to hold does not reach the sandbox.
  bool leak_extra_fd = false;
  std::chrono::milliseconds timeout = 20s;
  // Runs in the child, still as root, before the ids are dropped (e.g. to give the caller its
  // own mount or network namespace). System calls only; on failure it must _exit().
  std::function<void()> before_drop;

  // A caller set up like one on a real host. Applied in the child after before_drop, still
  // as root, in this order; any failure ends the child with exit code 125 and a message.
  //   cgroup      placed in this cgroup in every hierarchy (must outlive the process)
  //   chroot_dir  chroot(2) into it (a directory of the caller's mount namespace, which
  //               before_drop may have populated), then chdir(cwd) inside; argv[0] is
  //               looked up inside
  //   rlimits     setrlimit of each, soft and hard
  //   nice        setpriority(PRIO_PROCESS, 0, nice)
  //   umask       umask(umask)
  const CallerCgroup* cgroup = nullptr;
  std::optional<std::string> chroot_dir;
  std::vector<Rlimit> rlimits;
  std::optional<int> nice;
  std::optional<mode_t> umask;
};

struct ProcessResult {
  int exit_code = -1;    // WEXITSTATUS, or -1 when the process was killed by a signal
  int term_signal = 0;   // the signal that killed the process itself, or 0
  bool timed_out = false;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
  // For assertion messages.
  std::string describe() const;
};

// A started child with its stdout and stderr captured through pipes; stdin is /dev/null.
class ChildProcess {
 public:
  explicit ChildProcess(const ProcessSpec& spec);
  ~ChildProcess();  // SIGKILLs (by pid) and reaps the child if it is still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `sig` to this child (only while it has not been reaped).
  void signal(int sig);
  // Waits for the exit and for end of file on both pipes, at most `timeout`; after that the
  // child is SIGKILLed. Output still unread 2 s after the exit (a process that inherited the
  // pipes) is abandoned. May be called once.
  ProcessResult wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::chrono::steady_clock::time_point started_;
};

ProcessResult run_process(const ProcessSpec& spec);

// The mounts that make a usable root on Debian 12 (merged /usr).
std::vector<std::string> base_mounts();

// `nsbroker run --socket SOCKET ARGS...` as uid 1500 (ARGS are options, "--", command).
ProcessSpec client_spec(const std::string& socket, std::vector<std::string> args);
ProcessResult run_client(const std::string& socket, std::vector<std::string> args);

// Pids of processes whose command line or environment contains `marker`.
std::vector<pid_t> find_processes_with_marker(std::string_view marker);
// Polls (every 10 ms) until `predicate` holds or `timeout` passes; returns its last value.
template <typename Predicate>
bool poll_until(std::chrono::milliseconds timeout, Predicate predicate);

// ---------------------------------------------------------------------------------------------
// The daemon.

enum class DaemonConfig {
  kUserNamespace,          // --mode userns
  kPrivilegedForced,       // --mode privileged
  kPrivilegedByAutoDenied  // --mode auto, daemon under nsbroker-test-deny-userns --errno EPERM
};
std::string config_name(DaemonConfig config);
// For GoogleTest's messages ("where GetParam() = userns").
inline void PrintTo(DaemonConfig config, std::ostream* os) { *os << config_name(config); }
// Why `config` cannot run on this machine, or std::nullopt.
std::optional<std::string> config_unavailable(DaemonConfig config);

struct DaemonSpec {
  std::string mode = "auto";
  std::optional<std::string> deny_userns_errno;
  std::vector<std::string> extra_args;  // appended to nsbrokerd's command line
  // The policy the daemon runs with. By default an open one (everything the caller itself
  // may do), so the tests of the sandbox engine see the caller's own permissions at work;
  // policy tests pass the text they need.
  std::string policy_text = kOpenPolicy;
  static const char* const kOpenPolicy;
  static DaemonSpec for_config(DaemonConfig config);
};

// nsbrokerd as root, in the foreground, on <fresh temp dir>/nsbrokerd.sock, logging at debug
// level to <temp dir>/nsbrokerd.log. The constructor waits (bounded) until the socket accepts
// connections and the "listening on" line was logged; check ready() / error() afterwards.
class DaemonProcess {
 public:
  explicit DaemonProcess(const DaemonSpec& spec);
  ~DaemonProcess();  // stop()
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  bool ready() const { return ready_; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }
  const std::string& socket_path() const { return socket_path_; }
  std::string log() const;
  const std::string& policy_path() const { return policy_path_; }
  // "userns" or "privileged", from the "listening on PATH (MODE mode)" line.
  std::string listening_mode() const;
  // SIGTERM, then SIGKILL after `grace`; both by pid. Returns true when SIGTERM sufficed.
  bool stop(std::chrono::milliseconds grace = 5s);
  // False once the daemon has ended by itself (crashed, exited); then ended_how() says how.
  bool alive();
  const std::string& ended_how() const { return ended_how_; }

 private:
  TempDir dir_;
  std::string socket_path_;
  std::string log_path_;
  std::string policy_path_;
  pid_t pid_ = -1;
  bool ready_ = false;
  std::string error_;
  std::string ended_how_;
};

// True when a SOCK_SEQPACKET socket at `path` accepts a connection.
bool socket_accepts(const std::string& path);

// ---------------------------------------------------------------------------------------------

template <typename Predicate>
bool poll_until(std::chrono::milliseconds timeout, Predicate predicate) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return predicate();
    struct timespec ten_ms = {0, 10'000'000};
    ::nanosleep(&ten_ms, nullptr);
  }
}

}  // namespace nsbroker::itest
