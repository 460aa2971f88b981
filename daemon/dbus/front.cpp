#include "dbus/front.h"

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <vector>

#include <sdbus-c++/Error.h>

#include "auth/process_identity.h"
#include "dbus/bus_caller.h"
#include "dbus/bus_errors.h"
#include "dbus/bus_names.h"

namespace nsbroker::dbus {
namespace {

constexpr auto kBusCallTimeout = std::chrono::seconds(10);

std::uint64_t realtime_usec() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000u + static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
}

std::int64_t usec(const timeval& tv) {
  return static_cast<std::int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
}

}  // namespace

// One sandbox started over D-Bus, from the Spawn call to its reaping.
struct Front::RunEntry {
  std::string id;
  std::string sender;  // the caller's unique bus name
  uid_t uid = 0;
  pid_t caller_pid = 0;
  std::string command;
  pid_t pid = 0;  // the sandbox, once started
  std::uint64_t started_usec = 0;
  std::optional<sdbus::MethodCall> call;  // until Spawn has been answered
  std::shared_ptr<supervise::SandboxRun> run;
  bool caller_gone = false;
  service::ActivityHold hold;
};

// A Spawn call waiting for the caller's credentials.
struct Front::PendingSpawn {
  sdbus::MethodCall call;
  std::string sender;
  SpawnInput input;
  service::ActivityHold hold;
};

Front::Front(Broker& broker, service::Activity* activity)
    : broker_(broker), services_(broker.services()), activity_(activity) {}

Front::~Front() {
  *alive_ = false;
  forget_runs();
  loop_.reset();
  name_owner_match_.reset();
  bus_proxy_.reset();
  object_.reset();
  connection_.reset();
}

Result<std::unique_ptr<Front>> Front::start(boost::asio::io_context& io, Broker& broker,
                                            service::Activity* activity,
                                            const FrontConfig& config) {
  std::unique_ptr<Front> front(new Front(broker, activity));
  try {
    const char* starter = std::getenv("DBUS_STARTER_ADDRESS");
    if (!config.address.empty()) {
      front->connection_ = sdbus::createSessionBusConnectionWithAddress(config.address);
      front->bus_description_ = config.address;
    } else if (starter != nullptr && *starter != '\0') {
      front->connection_ = sdbus::createSessionBusConnectionWithAddress(starter);
      front->bus_description_ = std::string("the bus that activated nsbrokerd (") + starter + ")";
    } else {
      front->connection_ = sdbus::createSystemBusConnection();
      front->bus_description_ = "the system bus";
    }
    front->export_object();
    front->bus_proxy_ =
        sdbus::createProxy(*front->connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    Front* self = front.get();
    // One subscription for all callers, made now: adding one per caller would wait for the
    // bus in the middle of serving.
    front->name_owner_match_ = front->connection_->addMatch(
        "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
        "interface='org.freedesktop.DBus',member='NameOwnerChanged'",
        [self](sdbus::Message& message) {
          auto& signal = static_cast<sdbus::Signal&>(message);
          self->on_name_owner_changed(signal);
        });
    front->connection_->requestName(kBusName);
  } catch (const sdbus::Error& error) {
    return fail(wire::ERROR_INTERNAL, "D-Bus (" +
                                          (front->bus_description_.empty() ? std::string("system bus")
                                                                           : front->bus_description_) +
                                          "): " + error.getMessage());
  }
  front->loop_ = std::make_unique<BusLoop>(
      io, *front->connection_, [self = front.get()](const std::string& why) { self->on_bus_lost(why); });
  front->loop_->start();
  return front;
}

void Front::export_object() {
  object_ = sdbus::createObject(*connection_, kObjectPath);
  object_->registerMethod(kInterface, "Spawn", "aayaayaya{sv}a{sh}",
                          {"argv", "env", "cwd", "options", "fds"}, "hs", {"pidfd", "id"},
                          [this](sdbus::MethodCall call) { on_spawn(std::move(call)); });
  object_->registerMethod(kInterface, "Kill", "si", {"id", "signal"}, "", {},
                          [this](sdbus::MethodCall call) { on_kill(std::move(call)); });
  object_->registerMethod(kInterface, "List", "", {}, "a(suuayt)", {"sandboxes"},
                          [this](sdbus::MethodCall call) { on_list(std::move(call)); });
  object_->registerSignal(kInterface, "Started", "su", {"id", "pid"});
  object_->registerSignal(kInterface, "Exited", "siisa{sv}",
                          {"id", "exit_code", "signal", "reason", "usage"});
  object_->finishRegistration();
}

// ---- Spawn ---------------------------------------------------------------------------------

void Front::on_spawn(sdbus::MethodCall call) {
  // The sender existed when its call came in: a process started later cannot have sent it.
  std::uint64_t received_ns = auth::boottime_ns();
  std::string sender = call.getSender();
  SpawnArgs args;
  try {
    // Caller input: read into owned values; sd-bus already checked the signature.
    call >> args.argv >> args.env >> args.cwd >> args.options >> args.fds;
  } catch (const sdbus::Error& error) {
    return reply_error(call, kErrorInvalidArgument, "cannot read the arguments: " + error.getMessage());
  }
  auto input = translate_spawn(args);
  if (!input) {
    services_.log->info("bus {}: refused: {}", sender, input.failure().message);
    return reply_error(call, input.failure());
  }
  auto pending = std::make_shared<PendingSpawn>(
      PendingSpawn{call, sender, std::move(input.value()), service::ActivityHold(activity_)});
  identify(sender, true, received_ns, [this, pending, alive = alive_](Result<auth::Caller> caller) {
    if (!*alive) return;
    if (!caller) {
      services_.log->warn("bus {}: refused: {}", pending->sender, caller.failure().message);
      return reply_error(pending->call, caller.failure());
    }
    start_spawn(pending, std::move(caller.value()));
  });
}

void Front::ask_credentials(const std::string& sender,
                            std::function<void(Result<BusCredentials>)> answered) {
  try {
    auto request = bus_proxy_->createMethodCall("org.freedesktop.DBus", "GetConnectionCredentials");
    request << sender;
    bus_proxy_->callMethod(
        request,
        [answered](sdbus::MethodReply& reply, const sdbus::Error* error) {
          if (error != nullptr) {
            return answered(fail(wire::ERROR_INTERNAL, "cannot identify the caller: " + error->getMessage()));
          }
          std::map<std::string, sdbus::Variant> answer;
          try {
            reply >> answer;
          } catch (const sdbus::Error& bad) {
            return answered(fail(wire::ERROR_INTERNAL, "cannot identify the caller: " + bad.getMessage()));
          }
          answered(parse_credentials(answer));
        },
        kBusCallTimeout);
  } catch (const sdbus::Error& error) {
    return answered(fail(wire::ERROR_INTERNAL, "cannot identify the caller: " + error.getMessage()));
  }
  if (loop_) loop_->wake();
}

void Front::identify(const std::string& sender, bool with_process, std::uint64_t received_ns,
                     CallerCallback done) {
  ask_credentials(sender, [this, sender, with_process, received_ns, done,
                           alive = alive_](Result<BusCredentials> credentials) {
    if (!*alive) return;
    if (!credentials) return done(credentials.failure());
    if (!with_process) {
      auth::Caller caller;
      caller.uid = credentials.value().uid;
      caller.pid = credentials.value().pid;
      caller.transport = "dbus";
      return done(std::move(caller));
    }
    bool by_process_id = !credentials.value().pidfd;
    auto caller = make_caller(std::move(credentials.value()), received_ns);
    if (!caller || !by_process_id) return done(std::move(caller));
    reconfirm(sender, std::move(caller.value()), done);
  });
}

// Why a pidfd opened by ProcessID can be trusted: make_caller() checked its process's uid and
// that it had started before the call came in; asked again now, the bus must still report
// the same process for the sender's connection, whose process must still be alive.
void Front::reconfirm(const std::string& sender, auth::Caller caller, CallerCallback done) {
  ask_credentials(sender, [this, sender, caller, done, alive = alive_](Result<BusCredentials> again) {
    if (!*alive) return;
    if (!again) {
      return done(fail(wire::ERROR_DENIED, "cannot confirm the caller's identity: its bus "
                                           "connection went away while it was being identified (" +
                                               again.failure().message + ")"));
    }
    if (auto failure = confirm_same_connection(caller.pid, caller.uid, again.value(), caller.pidfd->get())) {
      return done(*failure);
    }
    services_.log->debug("bus {}: uid={} pid={}: pidfd by ProcessID (the bus gives no ProcessFD), "
                         "confirmed", sender, caller.uid, caller.pid);
    done(caller);
  });
}

void Front::start_spawn(const std::shared_ptr<PendingSpawn>& pending, auth::Caller caller) {
  auto entry = std::make_shared<RunEntry>();
  entry->sender = pending->sender;
  entry->uid = caller.uid;
  entry->caller_pid = caller.pid;
  if (pending->input.spawn.argv_size() > 0) entry->command = pending->input.spawn.argv(0);
  entry->call = pending->call;
  entry->hold = std::move(pending->hold);

  supervise::RunEvents events;
  events.started = [this, entry, alive = alive_](pid_t pid, int pidfd) {
    if (*alive) on_started(entry, pid, pidfd);
  };
  events.finished = [this, entry, alive = alive_](const std::optional<Failure>& failure,
                                                  const supervise::ExitStatus& status) {
    if (*alive) on_finished(entry, failure, status);
  };
  auto run = broker_.spawn(caller, pending->input.spawn, pending->input.fds(), std::move(events));
  // The setup processes have their copies: keeping the caller's stdio open here would hide
  // the end of the command's output from whoever reads it.
  pending->input.close_fds();
  if (!run) return reply_error(pending->call, run.failure());
  entry->run = std::move(run.value());
  entry->id = entry->run->id();
  runs_[entry->id] = entry;
  services_.log->debug("uid={} pid={} bus={} sandbox={}: spawning over D-Bus", entry->uid,
                       entry->caller_pid, entry->sender, entry->id);
}

void Front::on_started(const std::shared_ptr<RunEntry>& entry, pid_t pid, int pidfd) {
  entry->pid = pid;
  entry->started_usec = realtime_usec();
  services_.log->info("uid={} pid={} bus={} sandbox={}: started as pid {}", entry->uid,
                      entry->caller_pid, entry->sender, entry->id, pid);
  if (entry->caller_gone || !entry->call) return;
  try {
    auto reply = entry->call->createReply();
    reply << sdbus::UnixFd(pidfd) << entry->id;
    send_reply(reply);
    auto signal = object_->createSignal(kInterface, "Started");
    signal.setDestination(entry->sender);
    signal << entry->id << static_cast<std::uint32_t>(pid);
    send_signal(signal);
  } catch (const sdbus::Error& error) {
    services_.log->debug("bus {} sandbox={}: cannot answer Spawn: {}", entry->sender, entry->id,
                         error.getMessage());
  }
  entry->call.reset();
}

void Front::on_finished(const std::shared_ptr<RunEntry>& entry, const std::optional<Failure>& failure,
                        const supervise::ExitStatus& status) {
  runs_.erase(entry->id);
  if (failure) {
    services_.log->info("uid={} pid={} bus={} sandbox={}: setup failed: {}", entry->uid,
                        entry->caller_pid, entry->sender, entry->id, failure->message);
    if (entry->call && !entry->caller_gone) reply_error(*entry->call, *failure);
  } else {
    services_.log->info("uid={} pid={} bus={} sandbox={}: exited ({} {}, {}) after {} ms", entry->uid,
                        entry->caller_pid, entry->sender, entry->id,
                        status.signaled ? "signal" : "code", status.value,
                        exit_reason_name(status.reason), status.duration.count());
    if (!entry->caller_gone && object_) {
      try {
        std::map<std::string, sdbus::Variant> usage;
        usage["user_usec"] = sdbus::Variant(static_cast<std::int64_t>(usec(status.usage.ru_utime)));
        usage["system_usec"] = sdbus::Variant(static_cast<std::int64_t>(usec(status.usage.ru_stime)));
        usage["max_rss_kib"] = sdbus::Variant(static_cast<std::int64_t>(status.usage.ru_maxrss));
        usage["duration_ms"] = sdbus::Variant(static_cast<std::int64_t>(status.duration.count()));
        auto signal = object_->createSignal(kInterface, "Exited");
        signal.setDestination(entry->sender);
        signal << entry->id << static_cast<std::int32_t>(status.signaled ? -1 : status.value)
               << static_cast<std::int32_t>(status.signaled ? status.value : 0)
               << exit_reason_name(status.reason) << usage;
        send_signal(signal);
      } catch (const sdbus::Error& error) {
        services_.log->debug("bus {} sandbox={}: cannot send Exited: {}", entry->sender, entry->id,
                             error.getMessage());
      }
    }
  }
  entry->call.reset();
  entry->run.reset();
  entry->hold.reset();
}

// ---- Kill, List ----------------------------------------------------------------------------

void Front::on_kill(sdbus::MethodCall call) {
  std::string id;
  std::int32_t sig = 0;
  try {
    call >> id >> sig;
  } catch (const sdbus::Error& error) {
    return reply_error(call, kErrorInvalidArgument, "cannot read the arguments: " + error.getMessage());
  }
  identify(call.getSender(), false, 0, [this, call, id, sig, alive = alive_](Result<auth::Caller> caller) {
    if (!*alive) return;
    if (!caller) return reply_error(call, caller.failure());
    auto it = runs_.find(id);
    // Another user's sandbox is reported exactly like one that does not exist.
    if (it == runs_.end() || (caller.value().uid != 0 && it->second->uid != caller.value().uid)) {
      return reply_error(call, kErrorNotFound,
                         "no sandbox '" + id + "' of uid " + std::to_string(caller.value().uid) +
                             " is running (List shows yours)");
    }
    if (!Broker::may_forward_signal(sig)) {
      return reply_error(call, kErrorInvalidArgument,
                         "signal " + std::to_string(sig) +
                             " may not be sent; allowed: HUP INT QUIT KILL USR1 USR2 TERM CONT WINCH");
    }
    services_.log->info("uid={} pid={} bus={} sandbox={}: Kill with signal {}", caller.value().uid,
                        caller.value().pid, call.getSender(), id, sig);
    it->second->run->send_signal(sig);
    try {
      auto reply = call.createReply();
      send_reply(reply);
    } catch (const sdbus::Error&) {
    }
  });
}

void Front::on_list(sdbus::MethodCall call) {
  identify(call.getSender(), false, 0, [this, call, alive = alive_](Result<auth::Caller> caller) {
    if (!*alive) return;
    if (!caller) return reply_error(call, caller.failure());
    using Row = sdbus::Struct<std::string, std::uint32_t, std::uint32_t, Bytes, std::uint64_t>;
    std::vector<Row> rows;
    for (const auto& [id, entry] : runs_) {
      if (caller.value().uid != 0 && entry->uid != caller.value().uid) continue;
      rows.push_back(Row(entry->id, entry->uid, static_cast<std::uint32_t>(entry->pid),
                         Bytes(entry->command.begin(), entry->command.end()), entry->started_usec));
    }
    try {
      auto reply = call.createReply();
      reply << rows;
      send_reply(reply);
    } catch (const sdbus::Error&) {
    }
  });
}

// ---- callers leaving, the bus leaving ------------------------------------------------------

void Front::on_name_owner_changed(sdbus::Signal& signal) {
  std::string name, old_owner, new_owner;
  try {
    signal >> name >> old_owner >> new_owner;
  } catch (const sdbus::Error&) {
    return;
  }
  // A unique name that lost its owner: that connection is gone for good.
  if (name.empty() || name[0] != ':' || !new_owner.empty()) return;
  std::vector<std::shared_ptr<RunEntry>> gone;
  for (const auto& [id, entry] : runs_) {
    if (entry->sender == name && !entry->caller_gone) gone.push_back(entry);
  }
  for (const auto& entry : gone) {
    entry->caller_gone = true;
    services_.log->info("uid={} pid={} bus={} sandbox={}: caller left the bus: killing the sandbox",
                        entry->uid, entry->caller_pid, entry->sender, entry->id);
    entry->run->kill(wire::EXIT_REASON_CLIENT_GONE);
  }
}

void Front::on_bus_lost(const std::string& why) {
  services_.log->error("lost the D-Bus connection to {} ({}): the D-Bus front is stopped and the "
                       "{} sandbox(es) started through it are killed; the socket still serves",
                       bus_description_, why, runs_.size());
  std::vector<std::shared_ptr<RunEntry>> entries;
  for (const auto& [id, entry] : runs_) entries.push_back(entry);
  for (const auto& entry : entries) {
    entry->caller_gone = true;
    entry->run->kill(wire::EXIT_REASON_CLIENT_GONE);
  }
  forget_runs();
  loop_.reset();
  name_owner_match_.reset();
  bus_proxy_.reset();
  object_.reset();
  connection_.reset();
}

// Before the connection goes: a message must not outlive it (sdbus-c++ messages use the
// connection's sd-bus interface when they are freed), and an entry and its run must not keep
// each other alive. The runs themselves end when their events come (or with the daemon).
void Front::forget_runs() {
  for (const auto& [id, entry] : runs_) {
    entry->call.reset();
    entry->caller_gone = true;
    entry->run.reset();
  }
  runs_.clear();
}

// ---- idle exit -----------------------------------------------------------------------------

bool Front::release_name() {
  if (!connection_) return true;
  try {
    connection_->releaseName(kBusName);
    return true;
  } catch (const sdbus::Error& error) {
    services_.log->warn("cannot release {}: {}", kBusName, error.getMessage());
    return false;
  }
}

void Front::process_pending() {
  if (loop_) loop_->dispatch();
}

bool Front::request_name() {
  if (!connection_) return false;
  try {
    connection_->requestName(kBusName);
    return true;
  } catch (const sdbus::Error& error) {
    services_.log->error("cannot own {} again: {}", kBusName, error.getMessage());
    return false;
  }
}

// ---- sending -------------------------------------------------------------------------------

void Front::reply_error(const sdbus::MethodCall& call, const Failure& failure) {
  reply_error(call, error_name(failure.code), failure.message);
}

void Front::reply_error(const sdbus::MethodCall& call, const char* name, const std::string& message) {
  try {
    auto reply = call.createErrorReply(sdbus::Error(name, message));
    send_reply(reply);
  } catch (const sdbus::Error& error) {
    services_.log->debug("cannot send an error reply: {}", error.getMessage());
  }
}

void Front::send_reply(sdbus::MethodReply& reply) {
  reply.send();
  if (loop_) loop_->wake();
}

void Front::send_signal(sdbus::Signal& signal) {
  signal.send();
  if (loop_) loop_->wake();
}

}  // namespace nsbroker::dbus
