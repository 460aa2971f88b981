// nsbrokerd's command line.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace nsbroker {

enum class ModeChoice { kAuto, kUserNamespace, kPrivileged };

struct DaemonOptions {
  std::string socket_path = "/run/nsbroker/nsbroker.sock";
  ModeChoice mode = ModeChoice::kAuto;
  std::string log_level = "info";
  std::size_t max_sandboxes_per_uid = 64;
  // Service integration (daemon/service, daemon/dbus).
  unsigned idle_exit_seconds = 0;  // exit when idle this long, if activated; 0 = never
  bool dbus = false;               // also serve org.nsbroker.Broker1 on the system bus
  std::string dbus_address;        // ... on this bus instead (implies dbus)
  std::string policy_path;  // --policy FILE; empty: /etc/nsbroker/policy.pbtxt or built-in
  std::string audit_json_path;  // --audit-json FILE: also append audit records here
  bool help = false;
  bool version = false;
};

// Returns the options, or sets `error` to a message that says what to do.
std::optional<DaemonOptions> parse_daemon_options(const std::vector<std::string>& args,
                                                  std::string& error);

extern const char* const kDaemonUsage;

}  // namespace nsbroker
