// How the bwrap front words its own diagnostics: one line each, "bwrap: " first, and with
// --level-prefix a syslog level before that ("<3>" error, "<4>" warning), as bubblewrap does.
#pragma once

#include <string>
#include <string_view>

namespace nsbroker::client {

// The line for an error that ends the front (exit status 1), newline included. A failure to
// mount /proc in the sandbox is worded as bubblewrap words it ("Can't mount proc on
// /newroot/proc: ..."), because Codex retries without --proc only when it sees that text.
std::string bwrap_error_line(std::string_view message, bool level_prefix);

// The line for a warning (the command still runs), newline included.
std::string bwrap_warning_line(std::string_view message, bool level_prefix);

}  // namespace nsbroker::client
