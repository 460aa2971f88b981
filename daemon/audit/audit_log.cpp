#include "audit/audit_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>

#include "core/log_text.h"

namespace nsbroker::audit {
namespace {

constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += json_string(items[i]);
  }
  return out + "]";
}

std::string caller_fields(const CallerRecord& caller) {
  return "\"uid\":" + std::to_string(caller.uid) + ",\"pid\":" + std::to_string(caller.pid) +
         ",\"exe\":" + json_string(caller.exe);
}

long long microseconds(const timeval& tv) {
  return static_cast<long long>(tv.tv_sec) * 1000000 + tv.tv_usec;
}

bool journald_running() {
  struct stat st {};
  return ::stat(kJournalSocket, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

// Caller-controlled text (argv[0], paths, messages) becomes a JSON string that is valid UTF-8
// and holds no control character: journald stores a MESSAGE that is not UTF-8 as a blob that
// `journalctl` does not show, and a JSON reader refuses it. Bytes that are not UTF-8 are
// written as the text \xHH (as in the daemon's log, core/log_text.h); C1 controls, line
// separators and bidirectional controls as \uHHHH, so that they decode to what was sent.
std::string json_string(const std::string& text) {
  std::string out = "\"";
  char escaped[16];
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      char32_t code_point = 0;
      std::size_t length = logging::utf8_sequence(text, i, code_point);
      if (length == 0) {
        std::snprintf(escaped, sizeof(escaped), "\\\\x%02x", c);
        out += escaped;
        i += 1;
      } else {
        if (logging::changes_the_display(code_point)) {
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(code_point));
          out += escaped;
        } else {
          out.append(text, i, length);
        }
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out + "\"";
}

Result<std::shared_ptr<AuditLog>> AuditLog::open(const AuditSettings& settings) {
  std::vector<spdlog::sink_ptr> sinks;
  if (settings.use_journald && journald_running()) {
    sinks.push_back(std::make_shared<spdlog::sinks::systemd_sink_mt>("nsbrokerd-audit"));
  } else {
    auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    stderr_sink->set_pattern("nsbrokerd[%P] audit: %v");
    sinks.push_back(stderr_sink);
  }
  if (!settings.json_lines_path.empty()) {
    try {
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(settings.json_lines_path);
      file->set_pattern("%v");
      sinks.push_back(file);
    } catch (const std::exception& e) {
      return fail(wire::ERROR_INTERNAL, "cannot open the audit file " + settings.json_lines_path +
                                            ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("audit", sinks.begin(), sinks.end());
  // Independent of --log-level: every record is written, and written at once.
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return std::shared_ptr<AuditLog>(new AuditLog(std::move(logger)));
}

void AuditLog::decision(const DecisionRecord& r) {
  std::string json = "{\"event\":\"decision\",\"verdict\":" + json_string(r.allowed ? "allow" : "deny") +
                     "," + caller_fields(r.caller) + ",\"transport\":" + json_string(r.transport) +
                     ",\"profile\":" + json_string(r.profile) + ",\"rules\":" + json_array(r.rules) +
                     ",\"argv0\":" + json_string(r.argv0) + ",\"mounts\":" + json_array(r.mounts) +
                     ",\"namespaces\":" + json_array(r.namespaces) + ",\"mode\":" + json_string(r.mode);
  if (r.allowed) json += ",\"sandbox\":" + json_string(r.sandbox_id);
  else json += ",\"reason\":" + json_string(r.reason);
  logger_->info("{}}}", json);
}

void AuditLog::started(const StartRecord& r) {
  logger_->info("{{\"event\":\"start\",\"sandbox\":{},{},\"sandbox_pid\":{}}}", json_string(r.sandbox_id),
                caller_fields(r.caller), r.pid);
}

void AuditLog::exited(const ExitRecord& r) {
  std::string json = "{\"event\":\"exit\",\"sandbox\":" + json_string(r.sandbox_id) + "," +
                     caller_fields(r.caller);
  if (r.setup_failed) {
    json += ",\"setup_failed\":" + json_string(r.failure);
  } else {
    json += r.signaled ? ",\"signal\":" : ",\"exit_code\":";
    json += std::to_string(r.value);
  }
  json += ",\"reason\":" + json_string(r.reason) +
          ",\"duration_ms\":" + std::to_string(r.duration.count()) +
          ",\"rusage\":{\"user_usec\":" + std::to_string(microseconds(r.usage.ru_utime)) +
          ",\"system_usec\":" + std::to_string(microseconds(r.usage.ru_stime)) +
          ",\"max_rss_kib\":" + std::to_string(r.usage.ru_maxrss) + "}}";
  logger_->info("{}", json);
}

std::string AuditLog::executable_of(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/exe", pid);
  char target[4096];
  ssize_t n = ::readlink(path, target, sizeof(target) - 1);
  if (n <= 0) return "?";
  return std::string(target, static_cast<std::size_t>(n));
}

}  // namespace nsbroker::audit
