#include "client/bwrap/diagnostics.h"

#include <algorithm>
#include <array>

namespace nsbroker::client {
namespace {

// syslog's LOG_ERR and LOG_WARNING.
constexpr int kErrorLevel = 3;
constexpr int kWarningLevel = 4;

// What nsbrokerd says when the --proc of a request could not be honoured: the mount failed
// in the sandbox ("proc on /proc: ...", "creating a proc instance: ...") or the profile does
// not allow it ("mounts.allow_proc is off: ...").
bool is_proc_failure(std::string_view message) {
  constexpr std::array<std::string_view, 2> kSetupSteps = {"proc on ", "creating a proc instance"};
  bool failed_step = std::ranges::any_of(
      kSetupSteps, [&](std::string_view step) { return message.starts_with(step); });
  return failed_step || message.find("mounts.allow_proc is off") != std::string_view::npos;
}

std::string line(int level, std::string_view message, bool level_prefix) {
  std::string text;
  if (level_prefix) text = "<" + std::to_string(level) + ">";
  text += "bwrap: ";
  // One line, whatever the message holds.
  for (char c : message) text += (c == '\n' || c == '\r') ? ' ' : c;
  return text + "\n";
}

}  // namespace

std::string bwrap_error_line(std::string_view message, bool level_prefix) {
  if (is_proc_failure(message)) {
    return line(kErrorLevel, "Can't mount proc on /newroot/proc: " + std::string(message),
                level_prefix);
  }
  return line(kErrorLevel, message, level_prefix);
}

std::string bwrap_warning_line(std::string_view message, bool level_prefix) {
  return line(kWarningLevel, message, level_prefix);
}

}  // namespace nsbroker::client
