// The systemd notification protocol (sd_notify(3)) for Type=notify: READY=1 once nsbrokerd
// serves, STATUS= lines while it runs, STOPPING=1 when it goes. Does nothing when systemd did
// not ask for it ($NOTIFY_SOCKET unset), so the daemon runs the same by hand.
#pragma once

#include <string>

namespace nsbroker::service {

class Notifier {
 public:
  Notifier();
  bool enabled() const { return enabled_; }

  void ready(const std::string& status);
  void status(const std::string& status);
  void stopping(const std::string& status);

 private:
  void send(const std::string& message);

  bool enabled_ = false;
  std::string last_status_;
};

}  // namespace nsbroker::service
