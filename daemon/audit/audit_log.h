// The audit trail: one structured record per decision (allow or deny, with the deciding
// rules), per start and per exit. It is its own spdlog logger, always at full level whatever
// --log-level says; records go to journald when the host runs it, else to stderr, and
// optionally also to a JSON-lines file.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace spdlog {
class logger;
}

namespace nsbroker::audit {

struct AuditSettings {
  std::string json_lines_path;  // empty: no file
  bool use_journald = true;     // when /run/systemd/journal/socket exists
};

struct CallerRecord {
  uid_t uid = 0;
  pid_t pid = 0;
  std::string exe;  // best effort, for people reading the trail; never used for decisions
};

struct DecisionRecord {
  CallerRecord caller;
  bool allowed = false;
  std::string transport;  // "socket", "dbus"
  std::string profile;
  std::vector<std::string> rules;  // the rules that decided
  std::string reason;              // the denial message, if denied
  std::string argv0;
  std::vector<std::string> mounts;      // "ro-bind /usr /usr", "tmpfs /tmp"
  std::vector<std::string> namespaces;  // "pid", "net", ...
  std::string mode;                     // "userns" / "privileged"
  std::string sandbox_id;               // when allowed
};

struct StartRecord {
  CallerRecord caller;
  std::string sandbox_id;
  pid_t pid = 0;
};

struct ExitRecord {
  CallerRecord caller;
  std::string sandbox_id;
  bool setup_failed = false;
  std::string failure;  // setup failure message
  bool signaled = false;
  int value = 0;  // exit code or signal
  std::string reason;
  std::chrono::milliseconds duration{0};
  rusage usage{};
};

class AuditLog {
 public:
  static Result<std::shared_ptr<AuditLog>> open(const AuditSettings& settings);

  void decision(const DecisionRecord& record);
  void started(const StartRecord& record);
  void exited(const ExitRecord& record);

  // The executable of a caller, read once when it connects ("?" when unknown).
  static std::string executable_of(pid_t pid);

 private:
  explicit AuditLog(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}
  std::shared_ptr<spdlog::logger> logger_;
};

// JSON text helpers (exposed for tests).
std::string json_string(const std::string& text);

}  // namespace nsbroker::audit
