// Logs are data (DESIGN.md §2): caller-controlled text — argv, paths, failure messages built
// from caller input, executable names, bus names — must never be able to start a log line of
// its own, move the cursor, recolour the terminal or turn a journal record into a binary blob.
//
// escape_for_log() makes any text safe for one line; escape_every_line() installs it on a
// logger, so that every message it writes is escaped whatever its call site printed (no call
// site can forget). The daemon's own words pass through unchanged: they are printable UTF-8.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace nsbroker::logging {

// Returns `text` with C-style escapes for everything that is not printable UTF-8:
//   backslash → \\   newline → \n   carriage return → \r   tab → \t
//   other ASCII control characters and DEL → \xHH (escape → \x1b)
//   each byte that is not part of a valid UTF-8 sequence → \xHH (overlong forms, surrogates
//     and truncated sequences included)
//   valid code points that change how a line is shown: C1 controls (U+0080-U+009F), the line
//     and paragraph separators U+2028/U+2029 and the bidirectional controls (U+061C, U+200E,
//     U+200F, U+202A-U+202E, U+2066-U+2069) → \uHHHH
// The result is valid UTF-8 without control characters, and the original can be read back
// from it unambiguously (a backslash in the input always appears doubled).
std::string escape_for_log(std::string_view text);

// The length (2-4) of the valid UTF-8 sequence that starts at text[at], with its code point
// in `code_point`; 0 when the byte at `at` does not start one (ASCII included).
std::size_t utf8_sequence(std::string_view text, std::size_t at, char32_t& code_point);

// Whether a valid code point is one escape_for_log() writes as \uHHHH (see above).
bool changes_the_display(char32_t code_point);

// A formatter that escapes each message (the %v of `inner`'s pattern) before `inner` lays
// out the line. Colour ranges set by `inner` are passed on, so coloured sinks keep working.
class EscapingFormatter final : public spdlog::formatter {
 public:
  explicit EscapingFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

// Gives every sink of `logger` the line layout `pattern` (spdlog pattern syntax) with each
// message escaped. Use instead of logger.set_pattern(), which would drop the escaping.
void escape_every_line(spdlog::logger& logger, const std::string& pattern);

}  // namespace nsbroker::logging
