#include "helper_mode.h"

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

}  // namespace

int run_helper(int argc, char** argv) {
  std::string_view probe = argc > 2 ? argv[2] : "";
  std::string out;
  if (probe == "lo") out = probe_lo();
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
