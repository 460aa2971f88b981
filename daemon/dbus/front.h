// The D-Bus front: org.nsbroker.Broker1 at /org/nsbroker/Broker1 on the system bus, served by
// the same Broker as the socket (same decision, same limits, same audit; DESIGN.md §1).
//
//   Spawn(aay argv, aay env, ay cwd, a{sv} options, a{sh} fds) -> (h pidfd, s id)   (options:
//   dbus/spawn_args.h)
//   Kill(s id, i signal)           the caller's own sandboxes (root: any), allowlisted signals
//   List() -> a(suuayt)            (id, uid, pid, argv[0], start time in µs since the epoch)
//   signal Started(s id, u pid)
//   signal Exited(s id, i exit_code, i signal, s reason, a{sv} usage)
//
// Signals go to the caller that spawned the sandbox only (unicast), never to the whole bus.
// Callers are identified by GetConnectionCredentials of the sender (dbus/bus_caller.h); every
// bus call the front makes is asynchronous. A caller that leaves the bus (NameOwnerChanged)
// has its sandboxes killed, as a socket client that closes its connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/IObject.h>
#include <sdbus-c++/IProxy.h>
#include <sdbus-c++/Message.h>

#include "auth/caller.h"
#include "core/broker.h"
#include "core/result.h"
#include "dbus/bus_caller.h"
#include "dbus/bus_loop.h"
#include "dbus/spawn_args.h"
#include "service/activity.h"

namespace nsbroker::dbus {

struct FrontConfig {
  // Empty: $DBUS_STARTER_ADDRESS when the bus activated us, else the system bus (which
  // honours $DBUS_SYSTEM_BUS_ADDRESS).
  std::string address;
};

class Front {
 public:
  // Connects, exports the object, subscribes to NameOwnerChanged and requests the name. This
  // waits for the bus, so it runs once at startup, before the event loop serves anyone.
  static Result<std::unique_ptr<Front>> start(boost::asio::io_context& io, Broker& broker,
                                              service::Activity* activity,
                                              const FrontConfig& config);
  ~Front();
  Front(const Front&) = delete;
  Front& operator=(const Front&) = delete;

  // Which bus, for the log.
  const std::string& bus_description() const { return bus_description_; }
  bool connected() const { return connection_ != nullptr; }

  // Idle exit (service/runtime.h): give the name back so the next call activates a new
  // nsbrokerd, then serve what was addressed to us before that; or take the name again.
  bool release_name();
  void process_pending();
  bool request_name();

 private:
  struct RunEntry;
  struct PendingSpawn;
  using CallerCallback = std::function<void(Result<auth::Caller>)>;

  Front(Broker& broker, service::Activity* activity);

  void export_object();
  void on_spawn(sdbus::MethodCall call);
  void on_kill(sdbus::MethodCall call);
  void on_list(sdbus::MethodCall call);
  void on_name_owner_changed(sdbus::Signal& signal);
  void on_bus_lost(const std::string& why);
  void forget_runs();

  // GetConnectionCredentials of `sender`; with `with_process`, a full Caller (pidfd and all),
  // else only the uid is filled in. `received_ns`: CLOCK_BOOTTIME when the call came in.
  void identify(const std::string& sender, bool with_process, std::uint64_t received_ns,
                CallerCallback done);
  // A pidfd opened by ProcessID: GetConnectionCredentials again, then confirm_same_connection.
  void reconfirm(const std::string& sender, auth::Caller caller, CallerCallback done);
  void ask_credentials(const std::string& sender,
                       std::function<void(Result<BusCredentials>)> answered);
  void start_spawn(const std::shared_ptr<PendingSpawn>& pending, auth::Caller caller);
  void on_started(const std::shared_ptr<RunEntry>& entry, pid_t pid, int pidfd);
  void on_finished(const std::shared_ptr<RunEntry>& entry, const std::optional<Failure>& failure,
                   const supervise::ExitStatus& status);

  void reply_error(const sdbus::MethodCall& call, const Failure& failure);
  void reply_error(const sdbus::MethodCall& call, const char* name, const std::string& message);
  void send_reply(sdbus::MethodReply& reply);
  void send_signal(sdbus::Signal& signal);

  Broker& broker_;
  const server::Services& services_;
  service::Activity* activity_;
  std::string bus_description_;
  std::unique_ptr<sdbus::IConnection> connection_;
  std::unique_ptr<BusLoop> loop_;
  std::unique_ptr<sdbus::IObject> object_;
  std::unique_ptr<sdbus::IProxy> bus_proxy_;  // org.freedesktop.DBus
  sdbus::Slot name_owner_match_;
  std::map<std::string, std::shared_ptr<RunEntry>> runs_;  // by sandbox id
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace nsbroker::dbus
