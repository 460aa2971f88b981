#include "harness.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nsbroker::itest {
namespace fs = std::filesystem;

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// argv/envp arrays built before fork(): the child only makes system calls.
struct ExecArrays {
  std::vector<std::string> storage;
  std::vector<char*> pointers;
  explicit ExecArrays(std::vector<std::string> strings) : storage(std::move(strings)) {
    for (std::string& s : storage) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
  char* const* get() { return pointers.data(); }
};

// In a forked child: write a fixed message and leave with `code`.
[[noreturn]] void child_fail(const char* message, int code) {
  ssize_t ignored = ::write(STDERR_FILENO, message, std::strlen(message));
  (void)ignored;
  ::_exit(code);
}

constexpr int kHarnessExitCode = 125;  // the harness child could not set itself up

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TempDir::TempDir(std::string_view prefix, mode_t mode) {
  std::string pattern = "/tmp/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error(errno_text("mkdtemp " + pattern));
  path_ = pattern;
  if (::chmod(path_.c_str(), mode) < 0) throw std::runtime_error(errno_text("chmod " + path_));
}

namespace {

// mountinfo escapes blanks, tabs, newlines and backslashes as \ooo.
std::string unescape_mountinfo(const std::string& field) {
  std::string path;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3' &&
        field[i + 2] >= '0' && field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      path += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      path += field[i];
    }
  }
  return path;
}

// Detaches every mount of this process's mount namespace whose mount point is `dir` or below
// it, deepest first. Such mounts are a sandbox's that leaked into this namespace (the bug the
// shared-root runs exist to catch); left there, they keep the directory busy.
void detach_mounts_below(const std::string& dir) {
  // Mounts may be stacked, and a detach can uncover (or propagate) others: a few passes.
  for (int pass = 0; pass < 8; ++pass) {
    std::vector<std::string> points;
    for (const std::string& line : lines_of(read_own_proc("mountinfo").value_or(""))) {
      std::istringstream fields(line);
      std::string id, parent, devno, root, point;
      if (!(fields >> id >> parent >> devno >> root >> point)) continue;
      point = unescape_mountinfo(point);
      if (point == dir || point.rfind(dir + "/", 0) == 0) points.push_back(point);
    }
    if (points.empty()) return;
    std::sort(points.begin(), points.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    bool progress = false;
    for (const std::string& point : points) {
      if (::umount2(point.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
        progress = true;
        std::fprintf(stderr, "harness: detached a mount left on %s\n", point.c_str());
      }
    }
    if (!progress) return;
  }
}

}  // namespace

TempDir::~TempDir() {
  detach_mounts_below(path_);
  std::error_code ec;
  fs::remove_all(path_, ec);  // does not follow symlinks
  if (ec) std::fprintf(stderr, "harness: could not remove %s: %s\n", path_.c_str(), ec.message().c_str());
}

std::optional<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  std::string content;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return content;
}

std::optional<std::string> read_own_proc(const std::string& relative) {
  static const int proc_fd = ::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd < 0) return std::nullopt;
  // "self" is resolved in the pinned procfs, whatever is mounted on /proc now.
  std::string path = "self/" + relative;
  int fd = ::openat(proc_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  std::string content;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return content;
}

void write_file(const std::string& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(errno_text("open " + path));
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::close(fd);
  if (!ok) throw std::runtime_error("short write to " + path);
}

void make_dir(const std::string& path, uid_t uid, gid_t gid, mode_t mode) {
  if (::mkdir(path.c_str(), 0700) < 0) throw std::runtime_error(errno_text("mkdir " + path));
  if (::chown(path.c_str(), uid, gid) < 0) throw std::runtime_error(errno_text("chown " + path));
  if (::chmod(path.c_str(), mode) < 0) throw std::runtime_error(errno_text("chmod " + path));
}

void make_symlink(const std::string& target, const std::string& link, uid_t uid, gid_t gid) {
  if (::symlink(target.c_str(), link.c_str()) < 0) throw std::runtime_error(errno_text("symlink " + link));
  if (::lchown(link.c_str(), uid, gid) < 0) throw std::runtime_error(errno_text("lchown " + link));
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::set<std::string> list_tree(const std::string& root) {
  std::set<std::string> paths;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    paths.insert(fs::relative(it->path(), root).string());
  }
  return paths;
}

std::multiset<std::string> host_mount_points() {
  std::multiset<std::string> points;
  for (const std::string& line : lines_of(read_own_proc("mountinfo").value_or(""))) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    if (fields >> id >> parent >> devno >> root >> mount_point) points.insert(mount_point);
  }
  return points;
}

std::multiset<std::string> host_mount_table() {
  std::multiset<std::string> table;
  for (std::string& line : lines_of(read_own_proc("mountinfo").value_or(""))) {
    if (!line.empty()) table.insert(std::move(line));
  }
  return table;
}

std::string mount_table_diff(const std::multiset<std::string>& before, const std::multiset<std::string>& after) {
  std::string diff;
  std::vector<std::string> gone, added;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(gone));
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(added));
  for (const std::string& line : gone) diff += "- " + line + "\n";
  for (const std::string& line : added) diff += "+ " + line + "\n";
  return diff;
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    lines.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::string random_token() {
  unsigned char bytes[8] = {};
  if (::getrandom(bytes, sizeof(bytes), 0) != static_cast<ssize_t>(sizeof(bytes))) {
    throw std::runtime_error(errno_text("getrandom"));
  }
  std::string text;
  for (unsigned char b : bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    text += kHex[b >> 4];
    text += kHex[b & 15];
  }
  return text;
}

// ---------------------------------------------------------------------------------------------

std::optional<std::string> need_root() {
  if (::geteuid() == 0) return std::nullopt;
  return "needs root: the test starts nsbrokerd and runs clients as uid " + std::to_string(kCallerUid);
}

std::optional<std::string> need_root_userns() {
  if (auto why = need_root()) return why;
  // In a child: unshare(CLONE_NEWUSER) refuses multithreaded callers, and the probe must not
  // change the test process.
  pid_t pid = ::fork();
  if (pid < 0) return errno_text("fork");
  if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0xff));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  int err = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  return std::string("this kernel does not let root create user namespaces (unshare(CLONE_NEWUSER): ") +
         (err ? std::strerror(err) : describe_status(status).c_str()) + "), so userns mode cannot run";
}

std::optional<std::string> need_seccomp() {
  if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
    return "this kernel has no seccomp (CONFIG_SECCOMP), so nsbroker-test-deny-userns cannot run";
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------

namespace {

struct CopiedBinaries {
  TempDir dir{"nsb-it-bin-", 0755};
  Binaries binaries;

  std::string copy(const std::string& from, const std::string& name) {
    std::string to = dir / name;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    if (::chmod(to.c_str(), 0755) < 0) throw std::runtime_error(errno_text("chmod " + to));
    return to;
  }

  CopiedBinaries() {
    binaries.daemon = NSBROKER_DAEMON_BIN;
    // The build tree may sit under a 0700 directory (CI clones under /root): uid 1500 runs
    // copies in a 0755 directory instead.
    binaries.client = copy(NSBROKER_CLIENT_BIN, "nsbroker");
    binaries.deny_userns = copy(NSBROKER_DENY_USERNS_BIN, "nsbroker-test-deny-userns");
    binaries.helper = copy(fs::read_symlink("/proc/self/exe").string(), "nsb-helper");
  }
};

}  // namespace

const Binaries& binaries() {
  static CopiedBinaries copies;
  return copies.binaries;
}

// ---------------------------------------------------------------------------------------------

namespace {

struct CgroupMount {
  std::string root;   // field 4: the part of the hierarchy that is mounted
  std::string point;  // field 5
  bool v2 = false;
  std::set<std::string> options;  // super options (after the source)
};

std::vector<CgroupMount> cgroup_mounts() {
  std::vector<CgroupMount> mounts;
  for (const std::string& line : lines_of(read_own_proc("mountinfo").value_or(""))) {
    std::size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, devno, type, source, super;
    CgroupMount m;
    if (!(head >> id >> parent >> devno >> m.root >> m.point) || !(tail >> type >> source >> super)) continue;
    if (type != "cgroup" && type != "cgroup2") continue;
    m.v2 = type == "cgroup2";
    std::istringstream words(super);
    for (std::string word; std::getline(words, word, ',');) m.options.insert(word);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

bool is_at_or_below(const std::string& path, const std::string& top) {
  if (top == "/") return !path.empty() && path[0] == '/';
  return path == top || (path.size() > top.size() && path.compare(0, top.size(), top) == 0 && path[top.size()] == '/');
}

// "key" -> path, from a /proc/PID/cgroup text.
std::vector<std::pair<std::string, std::string>> cgroup_lines(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const std::string& line : lines_of(text)) {
    std::size_t first = line.find(':');
    std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    entries.emplace_back(line.substr(first + 1, second - first - 1), line.substr(second + 1));
  }
  return entries;
}

// Removes `dir` and the cgroups below it, deepest first; true when it is gone.
bool remove_cgroup_tree(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> dirs;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path().string());
  }
  std::sort(dirs.begin(), dirs.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  dirs.push_back(dir);
  for (const std::string& d : dirs) {
    if (::rmdir(d.c_str()) < 0 && errno != ENOENT) return false;
  }
  return true;
}

}  // namespace

CallerCgroup::CallerCgroup() {
  std::vector<CgroupMount> mounts = cgroup_mounts();
  std::string name = "nsb-it-cg-" + random_token();
  for (const auto& [key, own] : cgroup_lines(read_own_proc("cgroup").value_or(""))) {
    // Which mount shows this hierarchy: cgroup2 for "", else the v1 mount whose super options
    // name all of the line's controllers (or its name=...).
    std::set<std::string> wanted;
    std::istringstream words(key);
    for (std::string word; std::getline(words, word, ',');) wanted.insert(word);
    const CgroupMount* mount = nullptr;
    for (const CgroupMount& m : mounts) {
      bool match = key.empty() ? m.v2
                               : !m.v2 && std::includes(m.options.begin(), m.options.end(), wanted.begin(), wanted.end());
      if (match && is_at_or_below(own, m.root)) {
        mount = &m;
        break;
      }
    }
    if (!mount) {
      // A hierarchy that is not mounted here (e.g. a v1 one nobody mounted) cannot be joined.
      if (key.empty()) continue;
      throw std::runtime_error("cgroup hierarchy \"" + key + "\" of this process is not mounted");
    }
    std::string relative = mount->root == "/" ? own : own.substr(mount->root.size());
    std::string parent_dir = mount->point + (relative == "/" ? "" : relative);
    Hierarchy h;
    h.key = key;
    h.path = (own == "/" ? "" : own) + "/" + name;
    h.dir = parent_dir + "/" + name;
    if (::mkdir(h.dir.c_str(), 0755) < 0) throw std::runtime_error(errno_text("mkdir " + h.dir));
    hierarchies_.push_back(h);
    // A new v1 cpuset has no cpus and no memory nodes: nothing could join it.
    if (!mount->v2 && wanted.count("cpuset")) {
      for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        std::string value = read_file(parent_dir + "/" + file).value_or("");
        write_file(h.dir + "/" + file, value);
      }
    }
    procs_files_.push_back(h.dir + "/cgroup.procs");
  }
  if (hierarchies_.empty()) throw std::runtime_error("no cgroup hierarchy found in /proc/self/cgroup");
}

CallerCgroup::~CallerCgroup() {
  // Processes that were in them may still be exiting: one bounded wait for all of them.
  std::vector<bool> gone(hierarchies_.size(), false);
  poll_until(5s, [&] {
    bool all = true;
    for (std::size_t i = 0; i < hierarchies_.size(); ++i) {
      if (!gone[i]) gone[i] = remove_cgroup_tree(hierarchies_[i].dir);
      all = all && gone[i];
    }
    return all;
  });
  for (std::size_t i = 0; i < hierarchies_.size(); ++i) {
    if (!gone[i]) std::fprintf(stderr, "harness: could not remove cgroup %s\n", hierarchies_[i].dir.c_str());
  }
}

std::optional<std::string> CallerCgroup::not_within(pid_t pid) const {
  std::optional<std::string> text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text) return "pid " + std::to_string(pid) + " is gone (no /proc/PID/cgroup)";
  auto entries = cgroup_lines(*text);
  std::string problems;
  for (const Hierarchy& h : hierarchies_) {
    auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == h.key; });
    if (it == entries.end()) {
      problems += "hierarchy \"" + h.key + "\" missing; ";
    } else if (!is_at_or_below(it->second, h.path)) {
      problems += "hierarchy \"" + h.key + "\": " + it->second + " is not " + h.path + " or below; ";
    }
  }
  if (problems.empty()) return std::nullopt;
  return problems + "/proc/" + std::to_string(pid) + "/cgroup:\n" + *text;
}

// ---------------------------------------------------------------------------------------------

std::string ProcessResult::describe() const {
  std::string text;
  if (timed_out) text += "TIMED OUT; ";
  if (term_signal) text += "killed by signal " + std::to_string(term_signal);
  else text += "exit code " + std::to_string(exit_code);
  text += " after " + std::to_string(elapsed.count()) + " ms\n--- stdout ---\n" + out +
          "\n--- stderr ---\n" + err + "\n--------------";
  return text;
}

ChildProcess::ChildProcess(const ProcessSpec& spec) {
  std::vector<std::string> argv;
  if (spec.deny_userns_errno) {
    argv = {binaries().deny_userns, "--errno", *spec.deny_userns_errno, "--"};
  }
  argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
  if (argv.empty()) throw std::invalid_argument("ProcessSpec without argv");
  ExecArrays exec_argv(argv);
  ExecArrays exec_env(spec.env);
  bool drop = spec.uid.has_value() && ::geteuid() == 0;
  uid_t uid = spec.uid.value_or(0);
  std::vector<gid_t> groups = spec.groups;
  std::vector<std::string> cgroup_procs;
  if (spec.cgroup) cgroup_procs = spec.cgroup->procs_files();

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) < 0) throw std::runtime_error(errno_text("pipe2"));
  if (::pipe2(err_pipe, O_CLOEXEC) < 0) throw std::runtime_error(errno_text("pipe2"));
  int dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (dev_null < 0) throw std::runtime_error(errno_text("open /dev/null"));
  pid_t parent = ::getpid();
  started_ = std::chrono::steady_clock::now();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(errno_text("fork"));
  if (pid_ == 0) {
    if (::dup2(dev_null, 0) < 0 || ::dup2(out_pipe[1], 1) < 0 || ::dup2(err_pipe[1], 2) < 0) {
      child_fail("harness: dup2 failed\n", kHarnessExitCode);
    }
    // Nothing the test process holds leaks into the child, except what the spec asks for.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (spec.leak_extra_fd && ::dup2(1, 9) < 0) child_fail("harness: dup2 9 failed\n", kHarnessExitCode);
    if (::chdir(spec.cwd.c_str()) < 0) child_fail("harness: chdir failed\n", kHarnessExitCode);
    if (spec.before_drop) spec.before_drop();
    for (const std::string& procs : cgroup_procs) {
      int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) child_fail("harness: joining the caller's cgroup failed\n", kHarnessExitCode);
      ::close(fd);
    }
    if (spec.chroot_dir) {
      if (::chroot(spec.chroot_dir->c_str()) < 0 || ::chdir(spec.cwd.c_str()) < 0) {
        child_fail("harness: chroot failed\n", kHarnessExitCode);
      }
    }
    for (const Rlimit& limit : spec.rlimits) {
      struct rlimit value = {limit.soft, limit.hard};
      if (::setrlimit(static_cast<__rlimit_resource_t>(limit.resource), &value) < 0) {
        child_fail("harness: setrlimit failed\n", kHarnessExitCode);
      }
    }
    if (spec.nice && ::setpriority(PRIO_PROCESS, 0, *spec.nice) < 0) child_fail("harness: setpriority failed\n", kHarnessExitCode);
    if (spec.umask) ::umask(*spec.umask);
    if (drop) {
      // Same as `setpriv --reuid=U --regid=U --clear-groups` (or --groups=...).
      if (::setgroups(groups.size(), groups.data()) < 0 || ::setresgid(uid, uid, uid) < 0 ||
          ::setresuid(uid, uid, uid) < 0) {
        child_fail("harness: dropping to the test uid failed\n", kHarnessExitCode);
      }
    }
    // After the id change (which clears it): die with the test process.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != parent) ::_exit(kHarnessExitCode);
    ::execvpe(exec_argv.get()[0], exec_argv.get(), exec_env.get());
    child_fail("harness: exec failed\n", 127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(dev_null);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
}

ChildProcess::~ChildProcess() {
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
  }
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

ProcessResult ChildProcess::wait(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  ProcessResult result;
  auto deadline = Clock::now() + timeout;
  std::optional<Clock::time_point> exited_at;
  int status = 0;
  auto reap = [&](int options) {
    if (reaped_) return;
    pid_t r;
    do r = ::waitpid(pid_, &status, options);
    while (r < 0 && errno == EINTR);
    if (r == pid_) {
      reaped_ = true;
      exited_at = Clock::now();
      result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(*exited_at - started_);
    }
  };
  while (true) {
    reap(WNOHANG);
    if (reaped_ && out_fd_ < 0 && err_fd_ < 0) break;
    // Someone else (a sandbox process that survived) may hold the pipes open.
    if (reaped_ && Clock::now() - *exited_at > 2s) break;
    if (!reaped_ && Clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(pid_, SIGKILL);
      reap(0);
      break;
    }
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    int ready = ::poll(fds, 2, 10);
    if (ready <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      int& fd = i == 0 ? out_fd_ : err_fd_;
      if (n <= 0) {
        ::close(fd);
        fd = -1;
      } else {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

ProcessResult run_process(const ProcessSpec& spec) {
  ChildProcess child(spec);
  return child.wait(spec.timeout);
}

std::vector<std::string> base_mounts() {
  return {"--ro-bind", "/usr",      "/usr", "--symlink", "usr/bin",   "/bin",
          "--symlink", "usr/lib",   "/lib", "--symlink", "usr/lib64", "/lib64"};
}

ProcessSpec client_spec(const std::string& socket, std::vector<std::string> args) {
  ProcessSpec spec;
  spec.argv = {binaries().client, "run", "--socket", socket};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  return spec;
}

ProcessResult run_client(const std::string& socket, std::vector<std::string> args) {
  return run_process(client_spec(socket, std::move(args)));
}

std::vector<pid_t> find_processes_with_marker(std::string_view marker) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid()) continue;
    for (const char* file : {"/cmdline", "/environ"}) {
      auto content = read_file(it->path().string() + file);
      if (content && content->find(marker) != std::string::npos) {
        pids.push_back(pid);
        break;
      }
    }
  }
  return pids;
}

// ---------------------------------------------------------------------------------------------

std::string config_name(DaemonConfig config) {
  switch (config) {
    case DaemonConfig::kUserNamespace: return "userns";
    case DaemonConfig::kPrivilegedForced: return "privileged_forced";
    case DaemonConfig::kPrivilegedByAutoDenied: return "privileged_auto_denied_userns";
  }
  return "unknown";
}

std::optional<std::string> config_unavailable(DaemonConfig config) {
  if (auto why = need_root()) return why;
  switch (config) {
    case DaemonConfig::kUserNamespace: return need_root_userns();
    case DaemonConfig::kPrivilegedForced: return std::nullopt;
    case DaemonConfig::kPrivilegedByAutoDenied: return need_seccomp();
  }
  return std::nullopt;
}

DaemonSpec DaemonSpec::for_config(DaemonConfig config) {
  DaemonSpec spec;
  switch (config) {
    case DaemonConfig::kUserNamespace: spec.mode = "userns"; break;
    case DaemonConfig::kPrivilegedForced: spec.mode = "privileged"; break;
    case DaemonConfig::kPrivilegedByAutoDenied:
      spec.mode = "auto";
      spec.deny_userns_errno = "EPERM";
      break;
  }
  return spec;
}

bool socket_accepts(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

const char* const DaemonSpec::kOpenPolicy = R"(
default_profile: "open"
profile {
  name: "open"
  namespaces { net: ALLOWED ipc: ALLOWED uts: ALLOWED cgroup: ALLOWED allow_user_namespace: true }
  mounts {
    read_write: "/"
    devices: "/dev"
    allow_proc: true
    allow_dev: true
    allow_tmpfs: true
    create_missing_mount_points: true
  }
  limits { max_live_sandboxes: 1000 max_spawns_per_minute: 100000 }
}
)";

DaemonProcess::DaemonProcess(const DaemonSpec& spec) : dir_("nsb-it-daemon-", 0755) {
  socket_path_ = dir_ / "nsbrokerd.sock";
  log_path_ = dir_ / "nsbrokerd.log";
  policy_path_ = dir_ / "policy.pbtxt";
  // Root's, 0644, in a root-owned 0755 directory: what nsbrokerd demands of a policy file.
  write_file(policy_path_, spec.policy_text);
  ::chmod(policy_path_.c_str(), 0644);
  std::vector<std::string> argv;
  if (spec.deny_userns_errno) {
    argv = {binaries().deny_userns, "--errno", *spec.deny_userns_errno, "--"};
  }
  argv.insert(argv.end(), {binaries().daemon, "--socket", socket_path_, "--mode", spec.mode,
                           "--log-level", "debug"});
  argv.insert(argv.end(), {"--policy", policy_path_});
  argv.insert(argv.end(), spec.extra_args.begin(), spec.extra_args.end());
  ExecArrays exec_argv(argv);
  ExecArrays exec_env({"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"});
  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || dev_null < 0) throw std::runtime_error(errno_text("open " + log_path_));
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(errno_text("fork"));
  if (pid_ == 0) {
    if (::dup2(dev_null, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) {
      child_fail("harness: dup2 failed\n", kHarnessExitCode);
    }
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    // If the test process dies (a ctest timeout), the daemon stops too.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (::getppid() != parent) ::_exit(kHarnessExitCode);
    ::execve(exec_argv.get()[0], exec_argv.get(), exec_env.get());
    child_fail("harness: exec nsbrokerd failed\n", 127);
  }
  ::close(log_fd);
  ::close(dev_null);

  bool exited = false;
  int status = 0;
  ready_ = poll_until(10s, [&] {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited = true;
      return true;
    }
    return socket_accepts(socket_path_) && log().find("listening on ") != std::string::npos;
  });
  if (exited) {
    pid_ = -1;
    ready_ = false;
    error_ = "nsbrokerd ended (" + describe_status(status) + ") before accepting connections";
  } else if (!ready_) {
    error_ = "nsbrokerd did not accept connections on " + socket_path_ + " within 10 s";
    stop();
  }
  if (!error_.empty()) error_ += "; its log:\n" + log();
}

DaemonProcess::~DaemonProcess() { stop(); }

bool DaemonProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  pid_ = -1;
  ended_how_ = describe_status(status);
  return false;
}

std::string DaemonProcess::log() const { return read_file(log_path_).value_or(""); }

std::string DaemonProcess::listening_mode() const {
  for (const std::string& line : lines_of(log())) {
    std::size_t at = line.find("listening on ");
    if (at == std::string::npos) continue;
    std::size_t open = line.rfind('(');
    std::size_t close = line.rfind(" mode)");
    if (open != std::string::npos && close != std::string::npos && close > open) {
      return line.substr(open + 1, close - open - 1);
    }
  }
  return "";
}

bool DaemonProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return true;
  ::kill(pid_, SIGTERM);
  bool gone = poll_until(grace, [&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; });
  if (!gone) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
  }
  pid_ = -1;
  return gone;
}

}  // namespace nsbroker::itest
