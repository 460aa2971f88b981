#include "harness.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace nsbroker::stest {
namespace fs = std::filesystem;

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

struct ExecArrays {
  std::vector<std::string> storage;
  std::vector<char*> pointers;
  explicit ExecArrays(std::vector<std::string> strings) : storage(std::move(strings)) {
    for (std::string& s : storage) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
  char* const* get() { return pointers.data(); }
};

[[noreturn]] void child_fail(const char* message) {
  ssize_t ignored = ::write(STDERR_FILENO, message, std::strlen(message));
  (void)ignored;
  ::_exit(125);
}

bool stream_socket_accepts(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

// ---- files ----------------------------------------------------------------------------------

TempDir::TempDir(std::string_view prefix, mode_t mode) {
  std::string pattern = "/tmp/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error(errno_text("mkdtemp"));
  path_ = pattern;
  if (::chmod(path_.c_str(), mode) < 0) throw std::runtime_error(errno_text("chmod " + path_));
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
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

void write_file(const std::string& path, std::string_view content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error(errno_text("open " + path));
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::fchmod(fd, mode);
  ::close(fd);
  if (!ok) throw std::runtime_error("short write to " + path);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
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
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (unsigned char b : bytes) {
    text += kHex[b >> 4];
    text += kHex[b & 15];
  }
  return text;
}

void sleep_for(std::chrono::milliseconds duration) {
  timespec ts{static_cast<time_t>(duration.count() / 1000), static_cast<long>(duration.count() % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

// ---- environment ----------------------------------------------------------------------------

std::optional<std::string> need_root() {
  if (::geteuid() == 0) return std::nullopt;
  return "needs root: starts nsbrokerd and dbus-daemon, runs clients as uid 1500";
}

std::optional<std::string> need_program(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if (::access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) return std::nullopt;
  }
  return name + " is not installed (scripts/setup-debian.sh installs it)";
}

std::optional<std::string> need_root_userns() {
  if (auto why = need_root()) return why;
  pid_t pid = ::fork();
  if (pid < 0) return errno_text("fork");
  if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  return "root cannot create user namespaces here";
}

// ---- binaries -------------------------------------------------------------------------------

namespace {

struct CopiedBinaries {
  TempDir dir{"nsb-svc-bin-", 0755};
  Binaries binaries;

  std::string copy(const std::string& from, const std::string& name, mode_t mode = 0755) {
    std::string to = dir / name;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    if (::chmod(to.c_str(), mode) < 0) throw std::runtime_error(errno_text("chmod " + to));
    return to;
  }

  CopiedBinaries() {
    binaries.daemon = NSBROKER_DAEMON_BIN;
    binaries.client = copy(NSBROKER_CLIENT_BIN, "nsbroker");
    binaries.dbus_run = copy(NSBROKER_DBUS_RUN_BIN, "nsbroker-dbus-run");
    binaries.dbus_client = copy(NSBROKER_TEST_DBUS_CLIENT_BIN, "nsbroker-test-dbus-client");
    std::string policy = std::string(NSBROKER_SOURCE_DIR) + "/config/policy.pbtxt";
    if (exists(policy)) binaries.policy = copy(policy, "policy.pbtxt", 0644);
  }
};

}  // namespace

const Binaries& binaries() {
  static CopiedBinaries copies;
  return copies.binaries;
}

std::vector<std::string> daemon_common_args() {
  static const std::vector<std::string> args = [] {
    std::vector<std::string> result;
    ProcessSpec spec;
    spec.argv = {binaries().daemon, "--help"};
    ProcessResult help = run(spec, 10s);
    if (help.out.find("--policy") != std::string::npos && !binaries().policy.empty()) {
      result = {"--policy", binaries().policy};
    }
    return result;
  }();
  return args;
}

// ---- processes ------------------------------------------------------------------------------

std::string ProcessResult::describe() const {
  std::string text = timed_out ? "TIMED OUT; " : "";
  text += term_signal ? "killed by signal " + std::to_string(term_signal)
                      : "exit code " + std::to_string(exit_code);
  return text + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err + "\n--------------";
}

std::map<std::string, std::string> ProcessResult::values() const {
  std::map<std::string, std::string> values;
  for (const std::string& line : lines_of(out)) {
    std::size_t eq = line.find('=');
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

Child::Child(const ProcessSpec& spec) {
  if (spec.argv.empty()) throw std::invalid_argument("ProcessSpec without argv");
  ExecArrays argv(spec.argv);
  std::vector<std::string> env = spec.env;
  std::size_t listen_pid_index = env.size();
  if (spec.set_listen_pid) env.push_back("LISTEN_PID=" + std::string(16, '\0'));
  ExecArrays envp(env);
  bool drop = spec.uid.has_value() && ::geteuid() == 0;
  uid_t uid = spec.uid.value_or(0);

  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int log_fd = -1;
  if (spec.log_file) {
    log_fd = ::open(spec.log_file->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error(errno_text("open " + *spec.log_file));
  } else if (::pipe2(out_pipe, O_CLOEXEC) < 0 || ::pipe2(err_pipe, O_CLOEXEC) < 0) {
    throw std::runtime_error(errno_text("pipe2"));
  }
  int dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(errno_text("fork"));
  if (pid_ == 0) {
    int out = log_fd >= 0 ? log_fd : out_pipe[1];
    int err = log_fd >= 0 ? log_fd : err_pipe[1];
    // Passed fds first go high, so the dup2s below cannot overwrite one another.
    std::vector<int> high;
    for (int fd : spec.pass_fds) high.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 100));
    if (::dup2(dev_null, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) child_fail("dup2\n");
    for (std::size_t i = 0; i < high.size(); ++i) {
      if (high[i] < 0 || ::dup2(high[i], static_cast<int>(3 + i)) < 0) child_fail("dup2 pass\n");
    }
    ::close_range(static_cast<unsigned>(3 + high.size()), ~0U, CLOSE_RANGE_CLOEXEC);
    if (::chdir(spec.cwd.c_str()) < 0) child_fail("chdir\n");
    if (drop && (::setgroups(0, nullptr) < 0 || ::setresgid(uid, uid, uid) < 0 ||
                 ::setresuid(uid, uid, uid) < 0)) {
      child_fail("dropping to the test uid failed\n");
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != parent) ::_exit(125);
    if (spec.set_listen_pid) {
      char* slot = envp.pointers[listen_pid_index];
      std::snprintf(slot, 11 + 16, "LISTEN_PID=%d", static_cast<int>(::getpid()));
    }
    ::execve(argv.get()[0], argv.get(), envp.get());
    child_fail("exec failed\n");
  }
  if (log_fd >= 0) ::close(log_fd);
  if (out_pipe[1] >= 0) ::close(out_pipe[1]);
  if (err_pipe[1] >= 0) ::close(err_pipe[1]);
  if (dev_null >= 0) ::close(dev_null);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
}

Child::~Child() {
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

bool Child::running() {
  if (reaped_) return false;
  if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

void Child::signal(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

ProcessResult Child::wait(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  ProcessResult result;
  auto deadline = Clock::now() + timeout;
  std::optional<Clock::time_point> exited_at;
  while (true) {
    if (!reaped_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    if (reaped_ && !exited_at) exited_at = Clock::now();
    if (reaped_ && out_fd_ < 0 && err_fd_ < 0) break;
    if (reaped_ && Clock::now() - *exited_at > 2s) break;  // a survivor holds the pipes
    if (!reaped_ && Clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
      exited_at = Clock::now();
      continue;
    }
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (::poll(fds, 2, 10) <= 0) continue;
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
  if (WIFEXITED(status_)) result.exit_code = WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) result.term_signal = WTERMSIG(status_);
  return result;
}

ProcessResult run(const ProcessSpec& spec, std::chrono::milliseconds timeout) {
  Child child(spec);
  return child.wait(timeout);
}

bool process_alive_with(pid_t pid, std::string_view needle) {
  if (pid <= 0) return false;
  auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline && !cmdline->empty() && cmdline->find(needle) != std::string::npos;
}

std::vector<pid_t> processes_with(std::string_view marker) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid != ::getpid() && process_alive_with(pid, marker)) pids.push_back(pid);
  }
  return pids;
}

void kill_if(pid_t pid, std::string_view needle) {
  if (process_alive_with(pid, needle)) ::kill(pid, SIGKILL);
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

std::vector<std::string> base_mounts() {
  return {"--ro-bind", "/usr",      "/usr", "--symlink", "usr/bin",   "/bin",
          "--symlink", "usr/lib",   "/lib", "--symlink", "usr/lib64", "/lib64"};
}

// ---- the private bus ------------------------------------------------------------------------

namespace {

std::string with_test_users(const std::string& file, bool groups) {
  std::string content = read_file(file).value_or("");
  if (!content.empty() && content.back() != '\n') content += '\n';
  for (uid_t id : {kUser, kOtherUser}) {
    bool known = groups ? ::getgrgid(id) != nullptr : ::getpwuid(id) != nullptr;
    if (known) continue;
    std::string name = "nsbtest" + std::to_string(id);
    content += groups ? name + ":x:" + std::to_string(id) + ":\n"
                      : name + ":x:" + std::to_string(id) + ":" + std::to_string(id) +
                            "::/nonexistent:/usr/sbin/nologin\n";
  }
  return content;
}

}  // namespace

PrivateBus::PrivateBus(const BusOptions& options) : dir_("nsb-svc-bus-", 0755) {
  const std::string source = NSBROKER_SOURCE_DIR;
  write_file(dir_ / "passwd", with_test_users("/etc/passwd", false));
  write_file(dir_ / "group", with_test_users("/etc/group", true));
  ::mkdir((dir_ / "services").c_str(), 0755);
  // Debian's system.conf, reduced to its policy, plus the shipped bus policy.
  write_file(dir_ / "bus.conf",
             "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
             " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
             "<busconfig>\n"
             "  <type>system</type>\n"
             "  <listen>unix:path=" + dir_ / "bus.sock" + "</listen>\n"
             "  <auth>EXTERNAL</auth>\n"
             "  <servicedir>" + dir_ / "services" + "</servicedir>\n"
             "  <policy context=\"default\">\n"
             "    <allow user=\"*\"/>\n"
             "    <deny own=\"*\"/>\n"
             "    <deny send_type=\"method_call\"/>\n"
             "    <allow send_type=\"signal\"/>\n"
             "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
             "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
             "    <allow receive_type=\"method_call\"/>\n"
             "    <allow receive_type=\"method_return\"/>\n"
             "    <allow receive_type=\"error\"/>\n"
             "    <allow receive_type=\"signal\"/>\n"
             "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
             "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
             "  </policy>\n"
             "  <include>" + source + "/systemd/org.nsbroker.Broker1.conf</include>\n"
             "</busconfig>\n");
  std::string daemon_command = binaries().daemon + " --dbus --idle-exit " +
                               std::to_string(options.idle_exit) + " --socket " +
                               dir_ / "nsbrokerd.sock" + " --log-level debug";
  for (const std::string& arg : daemon_common_args()) daemon_command += " " + arg;
  for (const std::string& arg : options.daemon_args) daemon_command += " " + arg;
  // As the shipped activation file, but the build tree's daemon, a private socket, the pid
  // recorded for cleanup, back in the test's mount namespace, and a log.
  write_file(dir_ / "services/org.nsbroker.Broker1.service",
             "[D-BUS Service]\n"
             "Name=org.nsbroker.Broker1\n"
             "Exec=/bin/sh -c \"echo $$ >> " + dir_ / "daemon.pids" +
                 "; exec /usr/bin/nsenter --mount=/proc/" + std::to_string(::getpid()) +
                 "/ns/mnt -- " + daemon_command + " 2>>" + dir_ / "nsbrokerd.log" + "\"\n"
             "User=root\n"
             "SystemdService=nsbrokerd.service\n");
  ProcessSpec spec;
  spec.argv = {"/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
               "mount --bind " + dir_ / "passwd" + " /etc/passwd && mount --bind " + dir_ / "group" +
                   " /etc/group && exec dbus-daemon --nofork --nopidfile --config-file=" +
                   dir_ / "bus.conf"};
  spec.log_file = dir_ / "bus.log";
  bus_.emplace(spec);
  ready_ = wait_until(10s, [&] { return !bus_->running() || stream_socket_accepts(dir_ / "bus.sock"); }) &&
           bus_->running();
  if (!ready_) error_ = "dbus-daemon did not start; its log:\n" + bus_log();
}

void PrivateBus::stop_daemons() {
  std::vector<pid_t> daemons = daemon_pids();
  for (pid_t pid : daemons) {
    if (process_alive_with(pid, dir_.path())) ::kill(pid, SIGTERM);
  }
  wait_daemons_gone(5s);
  for (pid_t pid : daemons) kill_if(pid, dir_.path());
}

PrivateBus::~PrivateBus() {
  stop_daemons();
  if (bus_ && bus_->running()) {
    bus_->signal(SIGTERM);
    wait_until(3s, [&] { return !bus_->running(); });
  }
  bus_.reset();
}

std::string PrivateBus::daemon_log() const { return read_file(dir_ / "nsbrokerd.log").value_or(""); }
std::string PrivateBus::bus_log() const { return read_file(dir_ / "bus.log").value_or(""); }

std::vector<pid_t> PrivateBus::daemon_pids() const {
  std::vector<pid_t> pids;
  for (const std::string& line : lines_of(read_file(dir_ / "daemon.pids").value_or(""))) {
    if (!line.empty()) pids.push_back(static_cast<pid_t>(std::stol(line)));
  }
  return pids;
}

bool PrivateBus::wait_daemons_gone(std::chrono::milliseconds timeout) const {
  return wait_until(timeout, [&] {
    for (pid_t pid : daemon_pids()) {
      if (process_alive_with(pid, dir_.path())) return false;
    }
    return true;
  });
}

std::vector<std::string> PrivateBus::client_env() const {
  return {"PATH=/usr/bin:/bin", "LC_ALL=C", "DBUS_SYSTEM_BUS_ADDRESS=" + address()};
}

}  // namespace nsbroker::stest
