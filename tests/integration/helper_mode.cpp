#include "helper_mode.h"

#include "codex_vectors.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace nsbroker::itest {
namespace {

std::string errno_name(int err) {
  const char* name = ::strerrorname_np(err);  // glibc >= 2.32
  return name ? name : "errno" + std::to_string(err);
}

std::string probe_lo() {
  std::string out;
  // Which interfaces exist in this network namespace.
  std::vector<std::string> names;
  if (struct if_nameindex* list = ::if_nameindex()) {
    for (struct if_nameindex* i = list; i->if_index != 0; ++i) names.emplace_back(i->if_name);
    ::if_freenameindex(list);
  }
  std::sort(names.begin(), names.end());
  out += "interfaces=";
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? "," : "") + names[i];
  out += "\n";

  // The flags of lo, straight from the kernel.
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (s >= 0 && ::ioctl(s, SIOCGIFFLAGS, &request) == 0) {
    out += std::string("lo_up=") + ((request.ifr_flags & IFF_UP) ? "1" : "0") + "\n";
    out += std::string("lo_running=") + ((request.ifr_flags & IFF_RUNNING) ? "1" : "0") + "\n";
  } else {
    out += "lo_flags_error=" + errno_name(errno) + "\n";
  }
  if (s >= 0) ::close(s);

  // A TCP round trip over 127.0.0.1: listen, connect, accept, send one byte back and forth.
  auto tcp = [&]() -> std::string {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) return "socket:" + errno_name(errno);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) return "bind:" + errno_name(errno);
    if (::listen(listener, 1) < 0) return "listen:" + errno_name(errno);
    if (::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) < 0) return "getsockname:" + errno_name(errno);
    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) return "connect:" + errno_name(errno);
    int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (server < 0) return "accept:" + errno_name(errno);
    char byte = 'x';
    if (::send(client, &byte, 1, 0) != 1) return "send:" + errno_name(errno);
    byte = 0;
    if (::recv(server, &byte, 1, 0) != 1 || byte != 'x') return "recv:" + errno_name(errno);
    ::close(server);
    ::close(client);
    ::close(listener);
    return "ok";
  };
  out += "tcp_loopback=" + tcp() + "\n";
  return out;
}

std::string probe_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return "fds_error=" + errno_name(errno) + "\n";
  int own = ::dirfd(dir);
  std::vector<int> fds;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    int fd = std::atoi(entry->d_name);
    if (fd != own) fds.push_back(fd);
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  std::string out = "fds=";
  for (std::size_t i = 0; i < fds.size(); ++i) out += (i ? "," : "") + std::to_string(fds[i]);
  return out + "\n";
}

std::string probe_userns() {
  // In a child: unshare(CLONE_NEWUSER) fails with EINVAL in a multithreaded process, which
  // would be mistaken for the simulated "no CONFIG_USER_NS" host.
  pid_t pid = ::fork();
  if (pid < 0) return "userns_error=fork:" + errno_name(errno) + "\n";
  if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0xff));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status)) return "userns_error=child status " + std::to_string(status) + "\n";
  int err = WEXITSTATUS(status);
  return "userns=" + (err == 0 ? std::string("ok") : errno_name(err)) + "\n";
}

// "name=ok" or "name=ERRNO" for a raw syscall.
std::string outcome(const char* name, long result) {
  return std::string(name) + "=" + (result >= 0 ? std::string("ok") : errno_name(errno)) + "\n";
}

// What the base seccomp filter (and a profile's rules) refuse; each attempt is harmless.
std::string probe_syscalls() {
  std::string out;
  out += outcome("keyctl", ::syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
  out += outcome("bpf", ::syscall(SYS_bpf, 0, nullptr, 0));
  out += outcome("ptrace", ::syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0));
  out += outcome("io_uring_setup", ::syscall(SYS_io_uring_setup, 1, nullptr));
  out += outcome("perf_event_open", ::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0));
  // unshare in a child: a failure must not be the multithreaded-process EINVAL.
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0xff));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  int err = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
  out += "unshare_user=" + (err == 0 ? std::string("ok") : errno_name(err)) + "\n";
  // TIOCSTI on a pseudo-terminal of the sandbox's own devpts (needs --dev).
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) {
    out += "tiocsti=no-pty:" + errno_name(errno) + "\n";
  } else {
    char c = 'x';
    out += outcome("tiocsti", ::ioctl(master, TIOCSTI, &c));
    ::close(master);
  }
  int inet = ::socket(AF_INET, SOCK_DGRAM, 0);
  out += outcome("socket_inet", inet);
  if (inet >= 0) ::close(inet);
  int local = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  out += outcome("socket_unix", local);
  if (local >= 0) ::close(local);
  return out;
}


// ---- the Codex helper stand-in --------------------------------------------------------------

void write_out(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string file_text(const char* path) {
  std::string text;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return text;
}

// "Name:\tvalue" of /proc/self/status.
std::string status_field(const std::string& status, const std::string& name) {
  std::size_t at = status.find("\n" + name + ":");
  if (at == std::string::npos) return "?";
  std::size_t value = status.find_first_not_of(" \t", at + name.size() + 2);
  std::size_t end = status.find('\n', value);
  return status.substr(value, end - value);
}

// mountinfo escapes blanks and backslashes as \ooo.
std::string unescape_mount_path(const std::string& field) {
  std::string path;
  for (std::size_t i = 0; i < field.size(); ++i) {
    bool octal = i + 3 < field.size() && std::all_of(field.begin() + static_cast<long>(i) + 1,
                                                      field.begin() + static_cast<long>(i) + 4,
                                                      [](char c) { return c >= '0' && c <= '7'; });
    if (field[i] == '\\' && octal) {
      path += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      path += field[i];
    }
  }
  return path;
}

std::string probe_mounts() {
  std::string out;
  std::string info = file_text("/proc/self/mountinfo");
  std::size_t start = 0;
  while (start < info.size()) {
    std::size_t end = info.find('\n', start);
    if (end == std::string::npos) end = info.size();
    std::string line = info.substr(start, end - start);
    start = end + 1;
    std::vector<std::string> fields;
    std::size_t from = 0;
    while (from < line.size()) {
      std::size_t blank = line.find(' ', from);
      if (blank == std::string::npos) blank = line.size();
      fields.push_back(line.substr(from, blank - from));
      from = blank + 1;
    }
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 6 || dash == fields.end() || dash + 1 == fields.end()) continue;
    std::string options = fields[5];
    std::string mode = options.substr(0, options.find(','));
    out += "probe:mount=" + unescape_mount_path(fields[4]) + " " + *(dash + 1) + " " + mode + "\n";
  }
  return out;
}

}  // namespace

bool is_codex_probe(const char* argv0) {
  std::string_view name = argv0 ? argv0 : "";
  return name.substr(name.rfind('/') + 1) == kCodexProbeName;
}

void run_codex_probe(int argc, char** argv) {
  std::string status = file_text("/proc/self/status");
  char cwd[4096] = "?";
  if (::getcwd(cwd, sizeof cwd) == nullptr) std::strcpy(cwd, "?");
  std::string out = "probe:argv0=" + std::string(argv[0]) + "\n";
  out += "probe:uid=" + std::to_string(::getuid()) + "\n";
  out += "probe:gid=" + std::to_string(::getgid()) + "\n";
  for (const char* field : {"CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Seccomp"}) {
    out += std::string("probe:") + field + "=" + status_field(status, field) + "\n";
  }
  out += "probe:pid=" + std::to_string(::getpid()) + "\n";
  out += "probe:cwd=" + std::string(cwd) + "\n";
  out += probe_mounts();
  write_out(out);
  int last_separator = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) last_separator = i;
  }
  if (last_separator < 0 || last_separator + 1 >= argc) ::_exit(0);
  pid_t child = ::fork();
  if (child < 0) ::_exit(125);
  if (child == 0) {
    ::execvp(argv[last_separator + 1], argv + last_separator + 1);
    ::_exit(errno == ENOENT ? 127 : 126);
  }
  int wstatus = 0;
  while (::waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {}
  ::_exit(WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
}

namespace {

// `codex-argv FILE SCENARIO KIND ROOT`: the bubblewrap options (up to the first "--") of that
// captured Codex call, re-rooted below ROOT, each followed by a NUL (for tests/bench).
std::string codex_options(int argc, char** argv) {
  if (argc != 7) return "unknown probe 'codex-argv' needs FILE SCENARIO KIND ROOT\n";
  VectorFile file = load_codex_vectors(argv[3]);
  for (const CodexVector& v : file.vectors) {
    if (v.scenario != argv[4] || v.kind != argv[5]) continue;
    std::string out;
    for (std::size_t i = 1; i < v.argv.size() && v.argv[i] != "--"; ++i) {
      out += reroot_codex_paths(v.argv[i], argv[6]);
      out += '\0';
    }
    return out;
  }
  return "unknown probe 'codex-argv': no " + std::string(argv[4]) + " " + argv[5] + " call in " +
         argv[3] + (file.error.empty() ? "" : " (" + file.error + ")") + "\n";
}

}  // namespace

int run_helper(int argc, char** argv) {
  std::string_view probe = argc > 2 ? argv[2] : "";
  std::string out;
  if (probe == "codex-argv") out = codex_options(argc, argv);
  else if (probe == "lo") out = probe_lo();
  else if (probe == "fds") out = probe_fds();
  else if (probe == "userns") out = probe_userns();
  else if (probe == "syscalls") out = probe_syscalls();
  else out = "unknown probe '" + std::string(probe) + "'\n";
  std::string_view rest = out;
  while (!rest.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  // _exit: no static destructors and no leak check (LeakSanitizer needs ptrace, which the
  // sandbox's seccomp filter refuses).
  ::_exit(out.rfind("unknown probe", 0) == 0 ? 2 : 0);
}

}  // namespace nsbroker::itest
