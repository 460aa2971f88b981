// The service runtime: what makes nsbrokerd a well-behaved system service, kept out of the
// stages (DESIGN.md §1, §6). The composition root (main.cpp) creates it and calls start() once
// the socket listener runs:
//   - the D-Bus front (dbus/front.h), when --dbus or --dbus-address asks for it;
//   - sd_notify: READY=1, STATUS= (what keeps it busy), STOPPING=1;
//   - idle exit (--idle-exit SECONDS) when systemd's socket or D-Bus activated the daemon,
//     so the next request starts it again.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "core/broker.h"
#include "daemon_options.h"
#include "service/activity.h"
#include "service/idle_exit.h"
#include "service/notifier.h"

namespace nsbroker::dbus {
class Front;
}

namespace nsbroker::service {

// How this nsbrokerd was started. Read before the socket is taken (which clears LISTEN_*).
struct Activation {
  bool socket_from_systemd = false;  // LISTEN_PID is us and LISTEN_FDS is set
  bool by_dbus = false;              // the bus daemon started us ($DBUS_STARTER_BUS_TYPE)
  bool any() const { return socket_from_systemd || by_dbus; }
};
Activation detect_activation();

class Runtime {
 public:
  Runtime(boost::asio::io_context& io, const DaemonOptions& options, Activation activation,
          std::shared_ptr<spdlog::logger> log);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // For server::Services: every transport counts what it serves here.
  Activity* activity() { return &activity_; }

  // The D-Bus front (if asked for), idle exit, READY=1. A D-Bus front that cannot start is
  // logged and left out: the socket still serves.
  void start(Broker& broker);
  // STOPPING=1 (the daemon is about to leave its event loop).
  void stopping(const std::string& why);

 private:
  void on_activity(std::size_t active);
  void on_idle();
  std::string status_text(std::size_t active) const;

  boost::asio::io_context& io_;
  const DaemonOptions& options_;
  Activation activation_;
  std::shared_ptr<spdlog::logger> log_;
  Activity activity_;
  Notifier notifier_;
  std::unique_ptr<IdleExit> idle_;
  std::unique_ptr<dbus::Front> front_;
};

}  // namespace nsbroker::service
