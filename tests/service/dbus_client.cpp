// nsbroker-test-dbus-client: a D-Bus caller of org.nsbroker.Broker1 for tests/service, run as
// an unprivileged uid against a private bus ($DBUS_SYSTEM_BUS_ADDRESS). Prints key=value
// lines; exit status 0 unless the tool itself failed.
//
//   spawn-echo            Spawn a command that echoes, waits for a line on stdin, exits 3;
//                         checks the pidfd and the Started/Exited signals
//   hang MARKER           Spawn `sleep 1000` with MARKER in argv, print id and pid, exit
//                         at once (leaving the bus without a word)
//   error CASE            a request that must fail: denied, no-cwd, bad-option, bad-type,
//                         bad-fd-name, bad-mount-kind; prints error= and message=
//   hold FILE             Spawn `sleep 1000`, write its id to FILE, then wait (<= 60 s)
//   kill ID SIGNAL        Kill; prints error= (empty on success)
//   list                  List; prints count= and ids=
//   kill-own              Spawn, List, Kill(SIGTERM), wait for Exited
//   limit N               Spawn N sleepers, then one more; prints the last error=
//   own-name              RequestName org.nsbroker.Broker1 (must be refused)
//   handoff RESULT GO     a connection handed on: this process only connect()s to the bus
//                         (so the bus reports its pid) and exits after printing
//                         connector_pid= and handler_pid=; that child keeps the socket, waits for the
//                         file GO, then says Hello and calls Spawn on it (raw sd-bus),
//                         writing error=/message= (or id=) to the file RESULT
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>
#include <systemd/sd-bus.h>

namespace {

using Bytes = std::vector<std::uint8_t>;
using Extra = std::map<std::string, sdbus::Variant>;
using MountTuple = sdbus::Struct<std::string, Bytes, Bytes, Extra>;
using Clock = std::chrono::steady_clock;

constexpr const char* kName = "org.nsbroker.Broker1";
constexpr const char* kPath = "/org/nsbroker/Broker1";

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

void say(const std::string& key, const std::string& value) {
  std::printf("%s=%s\n", key.c_str(), value.c_str());
  std::fflush(stdout);
}

struct Exit {
  std::string id;
  int code = 0;
  int sig = 0;
  std::string reason;
};

struct SpawnResult {
  bool ok = false;
  std::string error;
  std::string message;
  sdbus::UnixFd pidfd;
  std::string id;
};

class Client {
 public:
  Client() {
    bus_ = sdbus::createSystemBusConnection();
    proxy_ = sdbus::createProxy(*bus_, kName, kPath);
    matches_.push_back(bus_->addMatch(
        "type='signal',path='/org/nsbroker/Broker1',interface='org.nsbroker.Broker1'",
        [this](sdbus::Message& m) {
          if (m.getMemberName() == "Started") {
            std::string id;
            std::uint32_t pid = 0;
            m >> id >> pid;
            started_[id] = pid;
          } else if (m.getMemberName() == "Exited") {
            Exit e;
            std::map<std::string, sdbus::Variant> usage;
            m >> e.id >> e.code >> e.sig >> e.reason >> usage;
            exits_[e.id] = e;
          }
        }));
  }

  static std::vector<MountTuple> base_mounts() {
    return {MountTuple("ro-bind", bytes("/usr"), bytes("/usr"), Extra{}),
            MountTuple("symlink", bytes("usr/bin"), bytes("/bin"), Extra{}),
            MountTuple("symlink", bytes("usr/lib"), bytes("/lib"), Extra{}),
            MountTuple("symlink", bytes("usr/lib64"), bytes("/lib64"), Extra{})};
  }

  static std::map<std::string, sdbus::UnixFd> stdio_fds(int in, int out, int err, int cwd) {
    std::map<std::string, sdbus::UnixFd> fds;
    if (in >= 0) fds["stdin"] = sdbus::UnixFd(in);
    if (out >= 0) fds["stdout"] = sdbus::UnixFd(out);
    if (err >= 0) fds["stderr"] = sdbus::UnixFd(err);
    if (cwd >= 0) fds["cwd"] = sdbus::UnixFd(cwd);
    return fds;
  }

  SpawnResult spawn(const std::vector<std::string>& argv, std::map<std::string, sdbus::Variant> options,
                    const std::map<std::string, sdbus::UnixFd>& fds) {
    std::vector<Bytes> args;
    for (const std::string& a : argv) args.push_back(bytes(a));
    std::vector<Bytes> env = {bytes("PATH=/usr/bin:/bin"), bytes("LC_ALL=C")};
    SpawnResult result;
    try {
      auto call = proxy_->createMethodCall(kName, "Spawn");
      call << args << env << bytes("/") << options << fds;
      auto reply = proxy_->callMethod(call, std::chrono::seconds(30));
      reply >> result.pidfd >> result.id;
      result.ok = true;
    } catch (const sdbus::Error& e) {
      result.error = e.getName();
      result.message = e.getMessage();
    }
    return result;
  }

  std::string kill(const std::string& id, int sig) {
    try {
      auto call = proxy_->createMethodCall(kName, "Kill");
      call << id << static_cast<std::int32_t>(sig);
      proxy_->callMethod(call);
      return "";
    } catch (const sdbus::Error& e) {
      say("message", e.getMessage());
      return e.getName();
    }
  }

  std::vector<std::string> list() {
    using Row = sdbus::Struct<std::string, std::uint32_t, std::uint32_t, Bytes, std::uint64_t>;
    auto call = proxy_->createMethodCall(kName, "List");
    auto reply = proxy_->callMethod(call);
    std::vector<Row> rows;
    reply >> rows;
    std::vector<std::string> ids;
    for (const Row& row : rows) ids.push_back(std::get<0>(row));
    return ids;
  }

  // Processes bus traffic until `done` holds or `timeout` passes.
  template <typename Done>
  bool pump_until(std::chrono::milliseconds timeout, Done done) {
    auto deadline = Clock::now() + timeout;
    while (true) {
      while (bus_->processPendingRequest()) {
      }
      if (done()) return true;
      auto now = Clock::now();
      if (now >= deadline) return false;
      auto poll_data = bus_->getEventLoopPollData();
      int wait_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
      int bus_ms = poll_data.getPollTimeout();
      if (bus_ms >= 0 && bus_ms < wait_ms) wait_ms = bus_ms;
      pollfd fd{poll_data.fd, poll_data.events, 0};
      ::poll(&fd, 1, wait_ms);
    }
  }

  sdbus::IConnection& bus() { return *bus_; }
  std::map<std::string, std::uint32_t> started_;
  std::map<std::string, Exit> exits_;

 private:
  std::unique_ptr<sdbus::IConnection> bus_;
  std::unique_ptr<sdbus::IProxy> proxy_;
  std::vector<sdbus::Slot> matches_;
};

int open_root() { return ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC); }

int spawn_echo() {
  Client client;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0) return 2;
  std::map<std::string, sdbus::Variant> options;
  options["mounts"] = sdbus::Variant(Client::base_mounts());
  options["unshare-pid"] = sdbus::Variant(true);
  auto result = client.spawn({"/bin/sh", "-c", "echo out:$0; read line; exit 3", "hello"}, options,
                             Client::stdio_fds(in[0], out[1], 2, open_root()));
  ::close(in[0]);
  ::close(out[1]);
  if (!result.ok) {
    say("error", result.error);
    say("message", result.message);
    return 0;
  }
  say("id", result.id);
  say("pidfd_valid", result.pidfd.isValid() ? "1" : "0");
  // The command waits for our line: the pidfd must name a live process now.
  bool alive = ::syscall(SYS_pidfd_send_signal, result.pidfd.get(), 0, nullptr, 0) == 0;
  say("pidfd_alive", alive ? "1" : "0");
  client.pump_until(std::chrono::seconds(10), [&] { return client.started_.count(result.id) > 0; });
  say("started_signal", client.started_.count(result.id) ? "1" : "0");
  ssize_t ignored = ::write(in[1], "go\n", 3);
  (void)ignored;
  ::close(in[1]);
  bool exited = client.pump_until(std::chrono::seconds(20), [&] { return client.exits_.count(result.id) > 0; });
  say("exited_signal", exited ? "1" : "0");
  if (exited) {
    const Exit& e = client.exits_[result.id];
    say("exit_code", std::to_string(e.code));
    say("signal", std::to_string(e.sig));
    say("reason", e.reason);
  }
  pollfd pfd{result.pidfd.get(), POLLIN, 0};
  say("pidfd_exited", ::poll(&pfd, 1, 5000) == 1 ? "1" : "0");
  char buffer[256] = {};
  ssize_t n = ::read(out[0], buffer, sizeof(buffer) - 1);
  std::string text = n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
  while (!text.empty() && text.back() == '\n') text.pop_back();
  say("stdout", text);
  return 0;
}

SpawnResult spawn_sleeper(Client& client, const std::string& marker) {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  std::map<std::string, sdbus::Variant> options;
  options["mounts"] = sdbus::Variant(Client::base_mounts());
  options["unshare-pid"] = sdbus::Variant(true);  // killing its first process ends all of it
  auto result = client.spawn({"/bin/sh", "-c", "sleep 1000; exit 0", marker}, options,
                             Client::stdio_fds(null, null, null, open_root()));
  ::close(null);
  return result;
}

int hang(const std::string& marker) {
  Client client;
  auto result = spawn_sleeper(client, marker);
  if (!result.ok) {
    say("error", result.error);
    say("message", result.message);
    return 0;
  }
  client.pump_until(std::chrono::seconds(10), [&] { return client.started_.count(result.id) > 0; });
  say("id", result.id);
  say("pid", std::to_string(client.started_[result.id]));
  std::fflush(stdout);
  ::_exit(0);  // no goodbye: the bus sees the connection drop
}

int error_case(const std::string& which) {
  Client client;
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  std::map<std::string, sdbus::Variant> options;
  options["mounts"] = sdbus::Variant(Client::base_mounts());
  auto fds = Client::stdio_fds(null, null, null, open_root());
  if (which == "denied") {
    auto mounts = Client::base_mounts();
    mounts.push_back(MountTuple("ro-bind", bytes("/root"), bytes("/x"), Extra{}));
    options["mounts"] = sdbus::Variant(mounts);
  } else if (which == "no-cwd") {
    fds.erase("cwd");
  } else if (which == "bad-option") {
    options["bogus"] = sdbus::Variant(true);
  } else if (which == "bad-type") {
    options["unshare-net"] = sdbus::Variant(std::string("yes"));
  } else if (which == "bad-fd-name") {
    fds["extra"] = sdbus::UnixFd(null);
  } else if (which == "bad-mount-kind") {
    options["mounts"] = sdbus::Variant(std::vector<MountTuple>{MountTuple("overlay", bytes("/a"), bytes("/b"), Extra{})});
  }
  auto result = client.spawn({"/bin/true"}, options, fds);
  say("error", result.ok ? "" : result.error);
  say("message", result.message);
  return 0;
}

int hold(const std::string& file) {
  Client client;
  auto result = spawn_sleeper(client, "hold");
  if (!result.ok) {
    say("error", result.error);
    return 0;
  }
  FILE* f = std::fopen(file.c_str(), "w");
  if (f) {
    std::fputs(result.id.c_str(), f);
    std::fclose(f);
  }
  say("id", result.id);
  client.pump_until(std::chrono::seconds(60), [] { return false; });
  return 0;
}

int kill_own() {
  Client client;
  auto result = spawn_sleeper(client, "kill-own");
  if (!result.ok) {
    say("error", result.error);
    return 0;
  }
  auto ids = client.list();
  bool listed = false;
  for (const auto& id : ids) listed = listed || id == result.id;
  say("listed", listed ? "1" : "0");
  say("bad_signal_error", client.kill(result.id, SIGSTOP));
  say("kill_error", client.kill(result.id, SIGTERM));
  bool exited = client.pump_until(std::chrono::seconds(10), [&] { return client.exits_.count(result.id) > 0; });
  say("exited_signal", exited ? "1" : "0");
  if (exited) {
    say("signal", std::to_string(client.exits_[result.id].sig));
    say("exit_code", std::to_string(client.exits_[result.id].code));
  }
  return 0;
}

int limit(int n) {
  Client client;
  std::vector<SpawnResult> held;
  for (int i = 0; i < n; ++i) {
    held.push_back(spawn_sleeper(client, "limit"));
    if (!held.back().ok) {
      say("error", held.back().error);
      return 0;
    }
  }
  say("spawned", std::to_string(n));
  auto last = spawn_sleeper(client, "limit");
  say("error", last.ok ? "" : last.error);
  say("message", last.message);
  return 0;
}

int own_name() {
  try {
    auto bus = sdbus::createSystemBusConnection();
    bus->requestName(kName);
    say("error", "");
  } catch (const sdbus::Error& e) {
    say("error", e.getName());
  }
  return 0;
}

// The bus address's socket path ($DBUS_SYSTEM_BUS_ADDRESS = unix:path=...).
std::string bus_socket_path() {
  const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  std::string text = address ? address : "";
  const std::string prefix = "unix:path=";
  if (text.rfind(prefix, 0) != 0) return "";
  return text.substr(prefix.size(), text.find(',') == std::string::npos ? std::string::npos
                                                                         : text.find(',') - prefix.size());
}

// Spawn(/bin/true) on an sd-bus connection made over the already connected `fd`.
void spawn_on_handed_socket(int fd) {
  sd_bus* bus = nullptr;
  sd_bus_message* call = nullptr;
  sd_bus_message* reply = nullptr;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  int r = sd_bus_new(&bus);
  if (r >= 0) r = sd_bus_set_fd(bus, fd, fd);
  if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
  if (r >= 0) r = sd_bus_start(bus);
  if (r >= 0) r = sd_bus_message_new_method_call(bus, &call, kName, kPath, kName, "Spawn");
  // argv, env, cwd, options, fds
  if (r >= 0) r = sd_bus_message_open_container(call, 'a', "ay");
  if (r >= 0) r = sd_bus_message_append_array(call, 'y', "/bin/true", 9);
  if (r >= 0) r = sd_bus_message_close_container(call);
  if (r >= 0) r = sd_bus_message_append(call, "aay", 0);
  if (r >= 0) r = sd_bus_message_append_array(call, 'y', "/", 1);
  if (r >= 0) r = sd_bus_message_append(call, "a{sv}", 0);
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int cwd = open_root();
  if (r >= 0) {
    r = sd_bus_message_append(call, "a{sh}", 4, "stdin", null_fd, "stdout", null_fd, "stderr", null_fd,
                              "cwd", cwd);
  }
  if (r < 0) {
    say("error", "client");
    say("message", std::string("building the call: ") + std::strerror(-r));
    return;
  }
  r = sd_bus_call(bus, call, 30 * 1000000ull, &error, &reply);
  if (r < 0) {
    say("error", error.name ? error.name : "client");
    say("message", error.message ? error.message : std::strerror(-r));
  } else {
    int pidfd = -1;
    const char* id = "";
    sd_bus_message_read(reply, "hs", &pidfd, &id);
    say("error", "");
    say("id", id);
  }
  sd_bus_error_free(&error);
  sd_bus_message_unref(reply);
  sd_bus_message_unref(call);
  sd_bus_flush_close_unref(bus);
}

int handoff(const std::string& result_file, const std::string& go_file) {
  std::string path = bus_socket_path();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) return 2;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) return 2;
  pid_t child = ::fork();
  if (child < 0) return 2;
  if (child > 0) {
    say("connector_pid", std::to_string(::getpid()));
    say("handler_pid", std::to_string(child));
    return 0;  // the connecting process is gone; its connection lives on in the child
  }
  int out = ::open(result_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) ::_exit(2);
  ::dup2(out, 1);
  ::dup2(out, 2);
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (::access(go_file.c_str(), F_OK) != 0) {
    if (Clock::now() > deadline) ::_exit(3);
    ::usleep(10000);
  }
  spawn_on_handed_socket(fd);
  std::fflush(stdout);
  ::_exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return 2;
  try {
    const std::string& mode = args[0];
    if (mode == "spawn-echo") return spawn_echo();
    if (mode == "hang" && args.size() == 2) return hang(args[1]);
    if (mode == "error" && args.size() == 2) return error_case(args[1]);
    if (mode == "hold" && args.size() == 2) return hold(args[1]);
    if (mode == "kill" && args.size() == 3) {
      Client client;
      say("error", client.kill(args[1], std::stoi(args[2])));
      return 0;
    }
    if (mode == "list") {
      Client client;
      auto ids = client.list();
      std::string joined;
      for (const auto& id : ids) joined += (joined.empty() ? "" : ",") + id;
      say("count", std::to_string(ids.size()));
      say("ids", joined);
      return 0;
    }
    if (mode == "kill-own") return kill_own();
    if (mode == "limit" && args.size() == 2) return limit(std::stoi(args[1]));
    if (mode == "own-name") return own_name();
    if (mode == "handoff" && args.size() == 3) return handoff(args[1], args[2]);
  } catch (const sdbus::Error& e) {
    std::fprintf(stderr, "nsbroker-test-dbus-client: %s: %s\n", e.getName().c_str(), e.getMessage().c_str());
    return 1;
  }
  std::fprintf(stderr, "nsbroker-test-dbus-client: bad arguments\n");
  return 2;
}
