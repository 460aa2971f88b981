// Logs are data: the escaper every daemon log line goes through (core/log_text.h), the
// formatter that applies it to whole loggers, and the audit trail's JSON strings.
#include "core/log_text.h"

#include <gtest/gtest.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <string>

#include "audit/audit_log.h"

namespace nsbroker::logging {
namespace {

struct EscapeCase {
  const char* name;
  std::string input;
  std::string expected;
};

class EscapeForLog : public ::testing::TestWithParam<EscapeCase> {};

TEST_P(EscapeForLog, WritesCStyleEscapes) {
  EXPECT_EQ(escape_for_log(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, EscapeForLog,
    ::testing::Values(
        EscapeCase{"plain_ascii", "/usr/bin/true --x=1", "/usr/bin/true --x=1"},
        EscapeCase{"empty", "", ""},
        EscapeCase{"newline", "a\nb", "a\\nb"},
        EscapeCase{"carriage_return_and_tab", "a\rb\tc", "a\\rb\\tc"},
        EscapeCase{"backslash_is_doubled", "a\\nb", "a\\\\nb"},
        EscapeCase{"escape_sequence", "\x1b[31mred", "\\x1b[31mred"},
        EscapeCase{"nul_and_bell", std::string("a\0b\a", 4), "a\\x00b\\x07"},
        EscapeCase{"del", "a\x7f", "a\\x7f"},
        EscapeCase{"valid_utf8_passes", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x90\xa7", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x90\xa7"},
        EscapeCase{"invalid_byte", "a\xff" "b", "a\\xffb"},
        EscapeCase{"lone_continuation_byte", "\x80", "\\x80"},
        EscapeCase{"truncated_sequence", "\xe2\x80", "\\xe2\\x80"},
        EscapeCase{"truncated_before_ascii", "\xc3" "A", "\\xc3A"},
        EscapeCase{"overlong_slash", "\xc0\xaf", "\\xc0\\xaf"},
        EscapeCase{"overlong_three_bytes", "\xe0\x80\xaf", "\\xe0\\x80\\xaf"},
        EscapeCase{"surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80"},
        EscapeCase{"beyond_unicode", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
        EscapeCase{"c1_control_csi", "\xc2\x9b" "31m", "\\u009b31m"},
        EscapeCase{"next_line", "a\xc2\x85" "b", "a\\u0085b"},
        EscapeCase{"line_separator", "a\xe2\x80\xa8" "b", "a\\u2028b"},
        EscapeCase{"paragraph_separator", "\xe2\x80\xa9", "\\u2029"},
        EscapeCase{"right_to_left_override", "x\xe2\x80\xae" "gpj.exe", "x\\u202egpj.exe"},
        EscapeCase{"isolate", "\xe2\x81\xa6", "\\u2066"},
        EscapeCase{"forged_line",
                   "/bin/true\nnsbrokerd[1] info: uid=0 forged",
                   "/bin/true\\nnsbrokerd[1] info: uid=0 forged"}),
    [](const ::testing::TestParamInfo<EscapeCase>& info) { return std::string(info.param.name); });

// Whatever goes in, what comes out is one line of printable, valid UTF-8.
TEST(EscapeForLog, EveryByteValueGivesPrintableValidUtf8) {
  for (int first = 0; first < 256; ++first) {
    for (int second : {0x0a, 0x41, 0x80, 0x9b, 0xbf, 0xc3, 0xff}) {
      std::string input{static_cast<char>(first), static_cast<char>(second)};
      std::string out = escape_for_log(input);
      for (std::size_t i = 0; i < out.size();) {
        auto c = static_cast<unsigned char>(out[i]);
        ASSERT_TRUE(c >= 0x20 && c != 0x7f) << "byte " << int(c) << " in the escape of " << first
                                            << "," << second << ": " << out;
        if (c < 0x80) {
          ++i;
          continue;
        }
        char32_t code_point = 0;
        std::size_t length = utf8_sequence(out, i, code_point);
        ASSERT_NE(length, 0u) << "invalid UTF-8 in the escape of " << first << "," << second;
        ASSERT_FALSE(changes_the_display(code_point));
        i += length;
      }
    }
  }
}

TEST(Utf8Sequence, DecodesValidSequencesOnly) {
  char32_t cp = 0;
  EXPECT_EQ(utf8_sequence("\xc3\xa9", 0, cp), 2u);
  EXPECT_EQ(cp, U'\u00e9');
  EXPECT_EQ(utf8_sequence("\xf0\x9f\x90\xa7", 0, cp), 4u);
  EXPECT_EQ(cp, U'\U0001f427');
  EXPECT_EQ(utf8_sequence("A", 0, cp), 0u) << "ASCII is not a multi-byte sequence";
  EXPECT_EQ(utf8_sequence("\xc3", 0, cp), 0u);
  EXPECT_EQ(utf8_sequence("\xe2\x28\xa1", 0, cp), 0u);
}

std::string log_through(const std::string& pattern, const std::string& message) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  spdlog::logger logger("test", sink);
  escape_every_line(logger, pattern);
  logger.info("spawning {} ({} mode)", message, "userns");
  logger.flush();
  return out.str();
}

TEST(EscapeEveryLine, ALoggerWritesCallerTextOnItsOwnLine) {
  std::string text = log_through("nsbrokerd[%P] %l: %v", "/tmp/x\nnsbrokerd[1] info: uid=0 forged");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find(": spawning /tmp/x\\nnsbrokerd[1] info: uid=0 forged (userns mode)\n"),
            std::string::npos)
      << text;
}

TEST(EscapeEveryLine, TheDaemonsOwnTextIsUnchanged) {
  EXPECT_EQ(log_through("%v", "/usr/bin/caf\xc3\xa9"), "spawning /usr/bin/caf\xc3\xa9 (userns mode)\n");
}

TEST(EscapeEveryLine, ColourRangesReachTheSink) {
  EscapingFormatter formatter(std::make_unique<spdlog::pattern_formatter>("[%^%l%$] %v"));
  spdlog::details::log_msg msg("test", spdlog::level::warn, "a\nb");
  spdlog::memory_buf_t out;
  formatter.format(msg, out);
  EXPECT_EQ(std::string(out.data(), out.size()), "[warning] a\\nb\n");
  EXPECT_EQ(msg.color_range_start, 1u);
  EXPECT_EQ(msg.color_range_end, 8u);
  auto copy = formatter.clone();
  spdlog::memory_buf_t again;
  copy->format(msg, again);
  EXPECT_EQ(std::string(again.data(), again.size()), "[warning] a\\nb\n");
}

// The audit trail's JSON: control characters as JSON escapes, valid UTF-8 always (journald
// keeps a MESSAGE that is not UTF-8 only as a blob).
TEST(AuditJson, StringsAreValidUtf8WithoutControls) {
  using audit::json_string;
  EXPECT_EQ(json_string("a\nb\"c\\"), "\"a\\nb\\\"c\\\\\"");
  EXPECT_EQ(json_string("\x1b[0m"), "\"\\u001b[0m\"");
  EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_string("a\xff" "b"), "\"a\\\\xffb\"") << "a byte that is not UTF-8 becomes the text \\xff";
  EXPECT_EQ(json_string("a\xc2\x9b" "b"), "\"a\\u009bb\"");
  EXPECT_EQ(json_string("\xe2\x80\xa8"), "\"\\u2028\"");
}

}  // namespace
}  // namespace nsbroker::logging
