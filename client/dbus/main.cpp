// nsbroker-dbus-run: `nsbroker run --dbus` (the static client execs it with the same words).
//
// Parses the words with the client's own parser, calls org.nsbroker.Broker1.Spawn on the
// system bus ($DBUS_SYSTEM_BUS_ADDRESS, which D-Bus activation may answer by starting
// nsbrokerd) with its stdin, stdout, stderr and working directory, forwards SIGINT, SIGTERM,
// SIGHUP and SIGQUIT with Kill, and exits as the command did (code, or 128 + signal) when the
// Exited signal comes. Like the socket client it makes no security decisions.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "client/client_error.h"
#include "client/dbus/broker1.h"
#include "client/forwarded_signals.h"
#include "client/help_text.h"
#include "client/process_setup.h"
#include "client/run_options.h"
#include "client/served_fds.h"
#include "client/version.h"
#include "client/working_directory.h"

namespace nsbroker::client::dbus {
namespace {

constexpr auto kSpawnTimeout = std::chrono::seconds(120);  // activation + sandbox setup

std::vector<std::string_view> environment_entries() {
  std::vector<std::string_view> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) entries.emplace_back(*entry);
  return entries;
}

ClientError bus_failure(const sdbus::Error& error) {
  const std::string& name = error.getName();
  if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
      name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
    return ClientError(std::string(kBusName) + " is not on the bus (" + error.getMessage() +
                       "): is nsbroker installed with its D-Bus files?");
  }
  std::string message = error.getMessage().empty() ? name : error.getMessage();
  return ClientError(message + " [" + name + "]");
}

struct Outcome {
  bool done = false;
  int exit_status = 1;
  std::string error;
};

class DbusRun {
 public:
  explicit DbusRun(RunOptions& options) : options_(options) {}

  int run() {
    if (!options_.socket_path.empty()) {
      throw ClientError("--socket and --dbus do not go together: --dbus uses the system bus "
                        "($DBUS_SYSTEM_BUS_ADDRESS)");
    }
    ignore_sigpipe();
    if (options_.spawn.die_with_parent()) die_with_parent();
    ensure_standard_fds_open();
    check_named_fds_open(options_);
    wait_for_block_fds(options_);
    ForwardedSignals signals;  // blocked before the request, so none is lost
    WorkingDirectory cwd = capture_working_directory();
    SpawnCall args = to_spawn_call(options_.spawn, cwd.path);
    if (!args.unsupported.empty()) {
      // Fail closed: sending the rest would run the command without that part of the request.
      throw ClientError("--dbus cannot carry " + args.unsupported + " yet; use the socket (drop --dbus)");
    }
    connect();
    spawn(args, cwd);
    StatusFds status(options_);
    if (status.wanted()) {
      pump_until([&] { return started_pid_ != 0 || outcome_.done; });
      status.started(pidfd_.get(), static_cast<int>(started_pid_));
    }
    int exit_status = wait(signals);
    if (status.wanted()) status.exited(exit_status);
    return exit_status;
  }

 private:
  void connect() {
    try {
      bus_ = sdbus::createSystemBusConnection();
      proxy_ = sdbus::createProxy(*bus_, kBusName, kObjectPath);
      exited_ = bus_->addMatch(
          "type='signal',path='/org/nsbroker/Broker1',interface='org.nsbroker.Broker1',member='Exited'",
          [this](sdbus::Message& message) { on_exited(message); });
      started_ = bus_->addMatch(
          "type='signal',path='/org/nsbroker/Broker1',interface='org.nsbroker.Broker1',member='Started'",
          [this](sdbus::Message& message) { on_started(message); });
      owner_ = bus_->addMatch(
          "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
          "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.nsbroker.Broker1'",
          [this](sdbus::Message& message) { on_owner_changed(message); });
    } catch (const sdbus::Error& error) {
      throw ClientError("cannot use the system bus: " + error.getMessage());
    }
  }

  void spawn(const SpawnCall& args, const WorkingDirectory& cwd) {
    std::map<std::string, sdbus::UnixFd> fds = {{"stdin", sdbus::UnixFd(STDIN_FILENO)},
                                                {"stdout", sdbus::UnixFd(STDOUT_FILENO)},
                                                {"stderr", sdbus::UnixFd(STDERR_FILENO)},
                                                {"cwd", sdbus::UnixFd(cwd.fd.get())}};
    // The data fds (--file FD, --seccomp FD, ...), numbered as the request refers to them.
    for (std::size_t i = 0; i < options_.data_fds.size(); ++i) {
      fds[std::to_string(4 + i)] = sdbus::UnixFd(options_.data_fds[i]);
    }
    try {
      auto call = proxy_->createMethodCall(kInterface, "Spawn");
      call << args.argv << args.env << args.cwd << args.options << fds;
      auto reply = proxy_->callMethod(call, kSpawnTimeout);
      // Held for the command's lifetime, as the socket client holds its pidfd.
      reply >> pidfd_ >> id_;
      daemon_ = reply.getSender();
    } catch (const sdbus::Error& error) {
      throw bus_failure(error);
    }
  }

  // Processes bus traffic until `done` holds (or the bus fails).
  template <typename Done>
  void pump_until(Done done) {
    while (true) {
      try {
        while (!done() && bus_->processPendingRequest()) {
        }
      } catch (const sdbus::Error& error) {
        throw ClientError("lost the bus: " + error.getMessage());
      }
      if (done()) return;
      auto poll_data = bus_->getEventLoopPollData();
      pollfd watched{poll_data.fd, poll_data.events, 0};
      if (::poll(&watched, 1, poll_data.getPollTimeout()) < 0 && errno != EINTR) {
        throw system_error("poll", errno);
      }
    }
  }

  int wait(ForwardedSignals& signals) {
    while (true) {
      try {
        while (!outcome_.done && bus_->processPendingRequest()) {
        }
      } catch (const sdbus::Error& error) {
        throw ClientError("lost the bus: " + error.getMessage());
      }
      if (outcome_.done) break;
      auto poll_data = bus_->getEventLoopPollData();
      pollfd watched[] = {{poll_data.fd, poll_data.events, 0}, {signals.fd(), POLLIN, 0}};
      if (::poll(watched, 2, poll_data.getPollTimeout()) < 0 && errno != EINTR) {
        throw system_error("poll", errno);
      }
      for (int sig : signals.drain()) forward(sig);
    }
    if (!outcome_.error.empty()) throw ClientError(outcome_.error);
    return outcome_.exit_status;
  }

  void forward(int sig) {
    try {
      auto call = proxy_->createMethodCall(kInterface, "Kill");
      call << id_ << static_cast<std::int32_t>(sig);
      proxy_->callMethod(call);
    } catch (const sdbus::Error&) {
      // The sandbox may have ended meanwhile; its Exited signal is on its way.
    }
  }

  // Only the daemon that answered Spawn may end the wait: a signal from anyone else on the
  // bus is ignored.
  void on_exited(sdbus::Message& message) {
    if (daemon_.empty() || message.getSender() != daemon_) return;
    std::string id, reason;
    std::int32_t code = -1, sig = 0;
    std::map<std::string, sdbus::Variant> usage;
    try {
      message >> id >> code >> sig >> reason >> usage;
    } catch (const sdbus::Error&) {
      return;
    }
    if (id != id_) return;
    outcome_.done = true;
    if (sig > 0) outcome_.exit_status = 128 + sig;
    else if (code >= 0) outcome_.exit_status = code;
    else outcome_.error = "nsbrokerd reported the command's end without an exit status";
  }

  void on_started(sdbus::Message& message) {
    if (daemon_.empty() || message.getSender() != daemon_) return;
    std::string id;
    std::uint32_t pid = 0;
    try {
      message >> id >> pid;
    } catch (const sdbus::Error&) {
      return;
    }
    if (id == id_) started_pid_ = pid;
  }

  void on_owner_changed(sdbus::Message& message) {
    std::string name, old_owner, new_owner;
    try {
      message >> name >> old_owner >> new_owner;
    } catch (const sdbus::Error&) {
      return;
    }
    if (!daemon_.empty() && old_owner == daemon_ && new_owner != daemon_) {
      outcome_.done = true;
      outcome_.error = "nsbrokerd left the bus before the command ended";
    }
  }

  RunOptions& options_;
  std::unique_ptr<sdbus::IConnection> bus_;
  std::unique_ptr<sdbus::IProxy> proxy_;
  sdbus::Slot exited_;
  sdbus::Slot started_;
  std::uint32_t started_pid_ = 0;
  sdbus::Slot owner_;
  sdbus::UnixFd pidfd_;
  std::string id_;
  std::string daemon_;
  Outcome outcome_;
};

int print(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int dispatch(std::span<const std::string_view> words) {
  if (words.empty() || words.front() != "run") {
    throw ClientError("usage: nsbroker-dbus-run run [OPTIONS...] [--] COMMAND [ARGS...] "
                      "(what `nsbroker run --dbus` runs)");
  }
  ParseOutcome parsed = parse_run_options(words.subspan(1), environment_entries());
  switch (parsed.kind) {
    case ParseKind::kHelp: return print(run_help());
    case ParseKind::kVersion: return print(std::string(kSoftware) + "\n");
    case ParseKind::kError: throw ClientError(parsed.error);
    case ParseKind::kRun: return DbusRun(parsed.options).run();
  }
  throw ClientError("unhandled parse outcome");
}

}  // namespace
}  // namespace nsbroker::client::dbus

int main(int argc, char** argv) {
  std::vector<std::string_view> words(argv + 1, argv + argc);
  try {
    return nsbroker::client::dbus::dispatch(words);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "nsbroker: %s\n", error.what());
    return 1;
  }
}
