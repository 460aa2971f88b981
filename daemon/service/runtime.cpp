#include "service/runtime.h"

#include <unistd.h>

#include <cstdlib>

#include "dbus/bus_names.h"
#include "dbus/front.h"

namespace nsbroker::service {

Activation detect_activation() {
  Activation activation;
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  activation.socket_from_systemd = pid != nullptr && fds != nullptr && std::atoi(pid) == ::getpid() &&
                                   std::atoi(fds) > 0;
  const char* bus_type = std::getenv("DBUS_STARTER_BUS_TYPE");
  activation.by_dbus = bus_type != nullptr && *bus_type != '\0';
  return activation;
}

Runtime::Runtime(boost::asio::io_context& io, const DaemonOptions& options, Activation activation,
                 std::shared_ptr<spdlog::logger> log)
    : io_(io), options_(options), activation_(activation), log_(std::move(log)) {}

Runtime::~Runtime() {
  // Holds released while the members below go away must not call back into them.
  activity_.set_listener(nullptr);
  front_.reset();
  idle_.reset();
}

void Runtime::start(Broker& broker) {
  if (options_.dbus || !options_.dbus_address.empty()) {
    auto front = dbus::Front::start(io_, broker, &activity_, dbus::FrontConfig{options_.dbus_address});
    if (!front) {
      log_->warn("D-Bus front not started: {}; the socket still serves", front.failure().message);
    } else {
      front_ = std::move(front.value());
      log_->info("serving {} on {}", dbus::kBusName, front_->bus_description());
    }
  }
  if (options_.idle_exit_seconds > 0) {
    if (activation_.any()) {
      idle_ = std::make_unique<IdleExit>(io_, std::chrono::seconds(options_.idle_exit_seconds),
                                         [this] { on_idle(); });
      log_->info("exits after {} s without clients and sandboxes ({} starts it again)",
                 options_.idle_exit_seconds,
                 activation_.socket_from_systemd ? "the systemd socket" : "D-Bus activation");
    } else {
      log_->info("--idle-exit {} ignored: nsbrokerd was not started by socket or D-Bus "
                 "activation, so nothing would start it again",
                 options_.idle_exit_seconds);
    }
  }
  activity_.set_listener([this](std::size_t active) { on_activity(active); });
  if (idle_) idle_->update(activity_.active());
  notifier_.ready(status_text(activity_.active()));
}

void Runtime::stopping(const std::string& why) { notifier_.stopping("Stopping: " + why); }

void Runtime::on_activity(std::size_t active) {
  if (idle_) idle_->update(active);
  notifier_.status(status_text(active));
}

void Runtime::on_idle() {
  log_->info("no clients and no sandboxes for {} s: exiting; the next request starts nsbrokerd "
             "again",
             options_.idle_exit_seconds);
  if (front_ && front_->connected()) {
    // From here on the bus activates a new nsbrokerd for new callers; calls it routed to us
    // before the release are already queued here and are served.
    front_->release_name();
    front_->process_pending();
    if (activity_.active() > 0) {
      log_->info("a D-Bus request arrived while exiting: serving it and staying");
      front_->request_name();
      return;
    }
  }
  // Connections not yet accepted stay queued on the socket systemd holds for the next one.
  notifier_.stopping("Idle: exiting");
  io_.stop();
}

std::string Runtime::status_text(std::size_t active) const {
  if (active > 0) {
    return "Serving: " + std::to_string(active) + " active (connections, sandboxes, D-Bus calls)";
  }
  if (idle_) return "Idle: exits after " + std::to_string(options_.idle_exit_seconds) + " s without requests";
  return "Idle: waiting for requests";
}

}  // namespace nsbroker::service
