#include "service/notifier.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace nsbroker::service {

Notifier::Notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
}

void Notifier::ready(const std::string& status) {
  last_status_ = status;
  send("READY=1\nSTATUS=" + status);
}

void Notifier::status(const std::string& status) {
  if (status == last_status_) return;
  last_status_ = status;
  send("STATUS=" + status);
}

void Notifier::stopping(const std::string& status) {
  last_status_ = status;
  send("STOPPING=1\nSTATUS=" + status);
}

void Notifier::send(const std::string& message) {
  // A lost notification must not stop the daemon: systemd's timeouts report it.
  if (enabled_) ::sd_notify(0, message.c_str());
}

}  // namespace nsbroker::service
