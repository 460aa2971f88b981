#include "daemon_options.h"

#include <cstdlib>

namespace nsbroker {

const char* const kDaemonUsage =
    "usage: nsbrokerd [--socket PATH] [--mode auto|userns|privileged] [--log-level LEVEL]\n"
    "                 [--policy FILE] [--max-sandboxes-per-uid N] [--audit-json FILE]\n"
    "                 [--dbus] [--dbus-address ADDRESS] [--idle-exit SECONDS]\n"
    "\n"
    "Root daemon that builds namespace sandboxes for unprivileged callers.\n"
    "\n"
    "  --socket PATH     listen here (default /run/nsbroker/nsbroker.sock); ignored when\n"
    "                    systemd passes a socket (LISTEN_FDS)\n"
    "  --mode MODE       auto (default): a user namespace per sandbox when the kernel lets\n"
    "                    root create one, else privileged mode; userns or privileged force one\n"
    "  --policy FILE     the policy (protobuf text format); default /etc/nsbroker/policy.pbtxt,\n"
    "                    or the built-in copy of config/policy.pbtxt when that file is absent;\n"
    "                    SIGHUP reloads it (an invalid file keeps the old policy)\n"
    "  --log-level LEVEL trace, debug, info (default), warn, error\n"
    "  --max-sandboxes-per-uid N\n"
    "                    live sandboxes one user may have at once (default 64)\n"
    "  --dbus            also serve org.nsbroker.Broker1 on the system bus (the bus that\n"
    "                    activated nsbrokerd, if D-Bus did); without a bus it logs and goes on\n"
    "  --dbus-address ADDRESS\n"
    "                    serve it on this bus instead (implies --dbus)\n"
    "  --idle-exit SECONDS\n"
    "                    when started by socket or D-Bus activation, exit after SECONDS\n"
    "                    without connections, sandboxes or D-Bus calls (0, the default: never)\n"
    "  --audit-json FILE also append each audit record (one JSON object per line) to FILE;\n"
    "                    records always go to journald when it runs, else to stderr\n"
    "  --help, --version\n";

std::optional<DaemonOptions> parse_daemon_options(const std::vector<std::string>& args,
                                                  std::string& error) {
  DaemonOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](const char* name) -> const std::string* {
      if (i + 1 >= args.size()) {
        error = std::string(name) + " needs a value";
        return nullptr;
      }
      return &args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg == "--version") {
      options.version = true;
    } else if (arg == "--socket") {
      const std::string* v = value("--socket");
      if (!v) return std::nullopt;
      options.socket_path = *v;
    } else if (arg == "--mode") {
      const std::string* v = value("--mode");
      if (!v) return std::nullopt;
      if (*v == "auto") options.mode = ModeChoice::kAuto;
      else if (*v == "userns") options.mode = ModeChoice::kUserNamespace;
      else if (*v == "privileged") options.mode = ModeChoice::kPrivileged;
      else {
        error = "--mode must be auto, userns or privileged, not '" + *v + "'";
        return std::nullopt;
      }
    } else if (arg == "--max-sandboxes-per-uid") {
      const std::string* v = value("--max-sandboxes-per-uid");
      if (!v) return std::nullopt;
      char* end = nullptr;
      unsigned long n = std::strtoul(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || n == 0 || n > 100000) {
        error = "--max-sandboxes-per-uid needs a number from 1 to 100000, not '" + *v + "'";
        return std::nullopt;
      }
      options.max_sandboxes_per_uid = n;
    } else if (arg == "--policy") {
      const std::string* v = value("--policy");
      if (!v) return std::nullopt;
      options.policy_path = *v;
    } else if (arg == "--audit-json") {
      const std::string* v = value("--audit-json");
      if (!v) return std::nullopt;
      options.audit_json_path = *v;
    } else if (arg == "--dbus") {
      options.dbus = true;
    } else if (arg == "--dbus-address") {
      const std::string* v = value("--dbus-address");
      if (!v) return std::nullopt;
      if (v->empty()) {
        error = "--dbus-address needs a D-Bus address, e.g. unix:path=/run/dbus/system_bus_socket";
        return std::nullopt;
      }
      options.dbus_address = *v;
      options.dbus = true;
    } else if (arg == "--idle-exit") {
      const std::string* v = value("--idle-exit");
      if (!v) return std::nullopt;
      char* end = nullptr;
      unsigned long n = std::strtoul(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || (*v)[0] == '-' || n > 86400) {
        error = "--idle-exit needs a number of seconds from 0 (never) to 86400, not '" + *v + "'";
        return std::nullopt;
      }
      options.idle_exit_seconds = static_cast<unsigned>(n);
    } else if (arg == "--log-level") {
      const std::string* v = value("--log-level");
      if (!v) return std::nullopt;
      if (*v != "trace" && *v != "debug" && *v != "info" && *v != "warn" && *v != "error") {
        error = "--log-level must be trace, debug, info, warn or error, not '" + *v + "'";
        return std::nullopt;
      }
      options.log_level = *v;
    } else {
      error = "unknown option '" + arg + "' (see nsbrokerd --help)";
      return std::nullopt;
    }
  }
  return options;
}

}  // namespace nsbroker
