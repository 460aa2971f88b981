#include "core/log_text.h"

#include <spdlog/pattern_formatter.h>

namespace nsbroker::logging {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void escape_byte(unsigned char byte, std::string& out) {
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
}

void escape_code_point(char32_t code_point, std::string& out) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code_point >> shift) & 0xf];
}

}  // namespace

std::size_t utf8_sequence(std::string_view text, std::size_t at, char32_t& code_point) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  std::size_t length = 0;
  char32_t smallest = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    smallest = 0x80;
    code_point = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    smallest = 0x800;
    code_point = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    smallest = 0x10000;
    code_point = lead & 0x07;
  } else {
    return 0;  // ASCII, a continuation byte, or a lead byte no valid sequence starts with
  }
  if (text.size() - at < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(at + i) & 0x3f);
  }
  // Overlong forms, UTF-16 surrogates and values beyond Unicode are not UTF-8.
  if (code_point < smallest || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return 0;
  }
  return length;
}

bool changes_the_display(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0x061c || c == 0x200e ||
         c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

std::string escape_for_log(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      char32_t code_point = 0;
      std::size_t length = utf8_sequence(text, i, code_point);
      if (length == 0) {
        escape_byte(c, out);
        i += 1;
      } else {
        if (changes_the_display(code_point)) escape_code_point(code_point, out);
        else out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) escape_byte(c, out);
        else out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

void EscapingFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  std::string escaped = escape_for_log(std::string_view(msg.payload.data(), msg.payload.size()));
  spdlog::details::log_msg safe = msg;
  safe.payload = spdlog::string_view_t(escaped.data(), escaped.size());
  inner_->format(safe, dest);
  // The colour sinks read the range from the message they passed in (the fields are mutable).
  msg.color_range_start = safe.color_range_start;
  msg.color_range_end = safe.color_range_end;
}

std::unique_ptr<spdlog::formatter> EscapingFormatter::clone() const {
  return std::make_unique<EscapingFormatter>(inner_->clone());
}

void escape_every_line(spdlog::logger& logger, const std::string& pattern) {
  logger.set_formatter(
      std::make_unique<EscapingFormatter>(std::make_unique<spdlog::pattern_formatter>(pattern)));
}

}  // namespace nsbroker::logging
