#include "probes.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "wire/message_codec.h"
#include "wire/record_io.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nsbroker::sectest {
namespace {

std::string errno_name(int err) {
  const char* name = ::strerrorname_np(err);
  return name ? name : "errno" + std::to_string(err);
}

std::string outcome(int result, int err) { return result == 0 ? "ok" : errno_name(err); }

void write_out(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// A failed open(2) of a namespace file is reported with this bit on top of its errno (all
// errno values used here are below it), so that "setns refused" and "could not even open the
// file" stay apart.
constexpr int kOpenFailed = 0x80;

// Runs `attempt` in a fresh child (a failed or successful namespace change must not affect the
// next attempt, and unshare(CLONE_NEWUSER) refuses multithreaded callers) and returns "ok" or
// the errno name it reported.
template <typename Attempt>
std::string in_child(Attempt attempt) {
  pid_t pid = ::fork();
  if (pid < 0) return "fork:" + errno_name(errno);
  if (pid == 0) {
    int err = attempt();
    ::_exit(err & 0xff);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status)) return "child-status-" + std::to_string(status);
  int code = WEXITSTATUS(status);
  if (code == 0) return "ok";
  if (code & kOpenFailed) return "open:" + errno_name(code & ~kOpenFailed);
  return errno_name(code);
}

// 0 or errno of setns(open(path), nstype) (kOpenFailed | errno when the open failed).
int setns_path(const char* path, int nstype) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return kOpenFailed | errno;
  int r = ::setns(fd, nstype);
  int err = errno;
  ::close(fd);
  return r == 0 ? 0 : err;
}

int ns_escape(int argc, char** argv) {
  if (argc != 5) {
    write_out("unknown probe 'ns-escape' needs USERNS NETNS\n");
    return 2;
  }
  const char* userns = argv[3];
  const char* netns = argv[4];
  std::string out;
  out += "setns_own_user=" + in_child([] { return setns_path("/proc/self/ns/user", CLONE_NEWUSER); }) + "\n";
  out += "setns_own_net=" + in_child([] { return setns_path("/proc/self/ns/net", CLONE_NEWNET); }) + "\n";
  out += "setns_user=" + in_child([&] { return setns_path(userns, CLONE_NEWUSER); }) + "\n";
  out += "setns_net=" + in_child([&] {
    setns_path(userns, CLONE_NEWUSER);  // capabilities over the outside network namespace
    return setns_path(netns, CLONE_NEWNET);
  }) + "\n";
  struct Kind {
    const char* name;
    int flag;
  };
  for (Kind kind : {Kind{"mnt", CLONE_NEWNS}, Kind{"pid", CLONE_NEWPID}, Kind{"net", CLONE_NEWNET},
                    Kind{"ipc", CLONE_NEWIPC}, Kind{"uts", CLONE_NEWUTS}, Kind{"cgroup", CLONE_NEWCGROUP},
                    Kind{"time", CLONE_NEWTIME}, Kind{"user", CLONE_NEWUSER}}) {
    out += std::string("unshare_") + kind.name + "=" + in_child([&] {
      // With the setns above (if it worked) the process holds every capability in that
      // namespace, so only a filter can refuse what follows.
      setns_path(userns, CLONE_NEWUSER);
      return ::unshare(kind.flag) == 0 ? 0 : errno;
    }) + "\n";
  }
  out += "unshare_fs=" + in_child([] { return ::unshare(CLONE_FS) == 0 ? 0 : errno; }) + "\n";
  out += "unshare_files=" + in_child([] { return ::unshare(CLONE_FILES) == 0 ? 0 : errno; }) + "\n";
  write_out(out);
  return 0;
}

int hold_userns() {
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
    write_out("held=" + errno_name(errno) + "\n");
    return 0;
  }
  write_out("held=ok\n");
  ::alarm(60);  // bounded even if nobody kills it
  while (true) ::pause();
}

int connect_probe(int argc, char** argv) {
  if (argc != 4) {
    write_out("unknown probe 'connect' needs PATH\n");
    return 2;
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::size_t length = std::strlen(argv[3]);
  if (length >= sizeof(address.sun_path)) {
    write_out("connect=path-too-long\n");
    return 0;
  }
  std::memcpy(address.sun_path, argv[3], length + 1);
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    write_out("connect=socket:" + errno_name(errno) + "\n");
    return 0;
  }
  int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  write_out("connect=" + outcome(r, errno) + "\n");
  ::close(fd);
  return 0;
}

// The next record within `timeout_ms`, decoded.
bool receive_message(int fd, int timeout_ms, wire::ServerMessage& message, std::string& why) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) {
    why = "no reply within " + std::to_string(timeout_ms) + " ms";
    return false;
  }
  wire::ReceiveResult received = wire::receive_record(fd);
  if (received.status != wire::ReceiveStatus::kRecord) {
    why = wire::describe(received);
    return false;
  }
  if (!wire::decode_server_message(received.record.bytes, message)) {
    why = "undecodable server message";
    return false;
  }
  return true;
}

int raw_lock_pid1(int argc, char** argv) {
  if (argc != 5) {
    write_out("unknown probe 'raw-lock-pid1' needs SOCKET PATH\n");
    return 2;
  }
  auto none = [](const std::string& why) {
    write_out("reply=none\nwhy=" + why + "\n");
    return 0;
  };
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (std::strlen(argv[3]) >= sizeof(address.sun_path)) return none("socket path too long");
  std::strcpy(address.sun_path, argv[3]);
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0) {
    return none("connect: " + errno_name(errno));
  }
  wire::ClientMessage hello;
  hello.mutable_hello()->set_protocol_version(wire::kProtocolVersion);
  hello.mutable_hello()->set_software("nsbroker security test");
  wire::ServerMessage reply;
  std::string why;
  if (int err = wire::send_record(fd, wire::encode(hello))) return none("send Hello: " + errno_name(err));
  if (!receive_message(fd, 5000, reply, why)) return none("Hello: " + why);
  if (!reply.has_hello()) return none("no Hello back");

  wire::ClientMessage request;
  wire::Spawn* spawn = request.mutable_spawn();
  spawn->add_argv("/bin/true");
  spawn->add_env("PATH=/usr/bin:/bin");
  spawn->set_as_pid_1(true);
  spawn->mutable_unshare()->set_pid(true);
  auto add = [&](wire::MountKind kind, const char* source, const char* dest) {
    wire::MountOp* op = spawn->add_mounts();
    op->set_kind(kind);
    if (source) op->set_source(source);
    op->set_dest(dest);
  };
  add(wire::MOUNT_RO_BIND, "/", "/");
  add(wire::MOUNT_PROC, nullptr, "/proc");
  add(wire::MOUNT_LOCK_FILE, nullptr, argv[4]);
  int cwd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (cwd < 0 || null_fd < 0) return none("open: " + errno_name(errno));
  int fds[4] = {null_fd, null_fd, null_fd, cwd};
  if (int err = wire::send_record(fd, wire::encode(request), fds)) return none("send Spawn: " + errno_name(err));
  if (!receive_message(fd, 15000, reply, why)) return none("Spawn: " + why);
  if (reply.has_started()) {
    write_out("reply=started\n");
  } else if (reply.has_error()) {
    std::string message = reply.error().message();
    for (char& c : message) {
      if (c == '\n') c = ' ';
    }
    write_out("reply=error\ncode=" + std::to_string(reply.error().code()) + "\nmessage=" + message + "\n");
  } else {
    write_out("reply=other\n");
  }
  ::close(fd);  // a started sandbox is killed with the connection
  return 0;
}

[[noreturn]] void fail(const char* what) {
  std::string text = std::string("pidns-descendant-run: ") + what + ": " + std::strerror(errno) + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
  ::_exit(125);
}

// Waits for `pid` and leaves with its status (128 + signal when it was killed).
[[noreturn]] void pass_status_of(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid");
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int pidns_descendant_run(int argc, char** argv) {
  if (argc < 7 || std::strcmp(argv[5], "--") != 0) {
    write_out("unknown probe 'pidns-descendant-run' needs NSFILE UID -- COMMAND...\n");
    return 2;
  }
  const char* nsfile = argv[3];
  uid_t uid = static_cast<uid_t>(std::stoul(argv[4]));
  char** command = argv + 6;
  // Every process of the chain dies with its parent: a timeout in the test ends all of them.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // In userns mode the sandbox's pid namespace belongs to its user namespace: a pid namespace
  // made below it must belong to that user namespace too, so join it first.
  std::string userns = std::string(nsfile).substr(0, std::strlen(nsfile) - 3) + "user";
  struct stat theirs {}, ours {};
  if (::stat(userns.c_str(), &theirs) < 0 || ::stat("/proc/self/ns/user", &ours) < 0) fail("stat ns/user");
  if (theirs.st_ino != ours.st_ino && setns_path(userns.c_str(), CLONE_NEWUSER) != 0) {
    fail("setns into the sandbox's user namespace");
  }
  if (setns_path(nsfile, CLONE_NEWPID) != 0) fail("setns into the sandbox's pid namespace");
  pid_t child = ::fork();  // the child is in the sandbox's pid namespace
  if (child < 0) fail("fork");
  if (child > 0) pass_status_of(child);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::unshare(CLONE_NEWPID) < 0) fail("unshare(CLONE_NEWPID)");
  pid_t grandchild = ::fork();  // the grandchild is in a pid namespace below the sandbox's
  if (grandchild < 0) fail("fork");
  if (grandchild > 0) pass_status_of(grandchild);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  struct stat st {};
  if (::stat("/proc/self/ns/pid", &st) < 0) fail("stat /proc/self/ns/pid");
  write_out("descendant_pidns=" + std::to_string(st.st_ino) + "\n");
  if (::setgroups(0, nullptr) < 0 || ::setresgid(uid, uid, uid) < 0 || ::setresuid(uid, uid, uid) < 0) {
    fail("dropping to the caller's uid");
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // cleared by the id change
  ::execvp(command[0], command);
  fail("exec");
}

}  // namespace

std::optional<int> run_security_probe(int argc, char** argv) {
  std::string_view probe = argc > 2 ? argv[2] : "";
  if (probe == "ns-escape") return ns_escape(argc, argv);
  if (probe == "hold-userns") return hold_userns();
  if (probe == "connect") return connect_probe(argc, argv);
  if (probe == "raw-lock-pid1") return raw_lock_pid1(argc, argv);
  if (probe == "pidns-descendant-run") return pidns_descendant_run(argc, argv);
  return std::nullopt;
}

}  // namespace nsbroker::sectest
