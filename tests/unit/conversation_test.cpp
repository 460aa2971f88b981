// Table tests for the client's side of the protocol: server messages in → what to do.
#include "client/conversation.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "wire/record_io.h"

namespace nsbroker::client {
namespace {

wire::ServerMessage hello(unsigned version = wire::kProtocolVersion) {
  wire::ServerMessage message;
  message.mutable_hello()->set_protocol_version(version);
  message.mutable_hello()->set_software("nsbrokerd test");
  return message;
}

wire::ServerMessage started() {
  wire::ServerMessage message;
  message.mutable_started()->set_sandbox_id("sb-1");
  return message;
}

wire::ServerMessage error(wire::ErrorCode code, const std::string& text) {
  wire::ServerMessage message;
  message.mutable_error()->set_code(code);
  message.mutable_error()->set_message(text);
  return message;
}

wire::ServerMessage exited_with_code(int code) {
  wire::ServerMessage message;
  message.mutable_exited()->set_exit_code(code);
  return message;
}

wire::ServerMessage exited_by_signal(int signal) {
  wire::ServerMessage message;
  message.mutable_exited()->set_signal(signal);
  return message;
}

wire::ServerMessage exited_without_status() {
  wire::ServerMessage message;
  message.mutable_exited()->set_reason(wire::EXIT_REASON_EXITED);
  return message;
}

using Kind = Reaction::Kind;

struct ConversationCase {
  std::string name;
  std::vector<wire::ServerMessage> messages;  // all but the last must be answered with kWait
  Kind expected_kind;
  int expected_status = 0;
  std::string expected_error;

  friend void PrintTo(const ConversationCase& c, std::ostream* out) { *out << c.name; }
};

const std::string kMismatch = "install matching versions";

const ConversationCase kCases[] = {
    {"NormalExit", {hello(), started(), exited_with_code(0)}, Kind::kExit, 0, ""},
    {"ExitCodePassesThrough", {hello(), started(), exited_with_code(42)}, Kind::kExit, 42, ""},
    {"SignalBecomes128PlusSignal", {hello(), started(), exited_by_signal(9)}, Kind::kExit, 137, ""},
    {"WaitsAfterHello", {hello()}, Kind::kWait, 0, ""},
    {"WaitsAfterStarted", {hello(), started()}, Kind::kWait, 0, ""},
    {"ErrorAfterHello",
     {hello(), error(wire::ERROR_DENIED, "policy does not allow --bind /etc")},
     Kind::kFail,
     0,
     "policy does not allow --bind /etc"},
    {"ErrorInsteadOfHello",
     {error(wire::ERROR_UNSUPPORTED_VERSION, "protocol version 1 is not supported")},
     Kind::kFail,
     0,
     "protocol version 1 is not supported"},
    {"ErrorAfterStarted",
     {hello(), started(), error(wire::ERROR_INTERNAL, "supervision failed")},
     Kind::kFail,
     0,
     "supervision failed"},
    {"ErrorWithoutMessageNamesCode",
     {hello(), error(wire::ERROR_DENIED, "")},
     Kind::kFail,
     0,
     "nsbrokerd refused the request (error code 3)"},
    {"ProtocolVersionMismatch",
     {hello(wire::kProtocolVersion + 1)},
     Kind::kFail,
     0,
     "nsbrokerd speaks protocol version " + std::to_string(wire::kProtocolVersion + 1) +
         " but this nsbroker speaks version " + std::to_string(wire::kProtocolVersion) + ": " +
         kMismatch + " of nsbroker and nsbrokerd"},
    {"StartedBeforeHello",
     {started()},
     Kind::kFail,
     0,
     "nsbrokerd sent Started out of order: nsbroker and nsbrokerd may not match, " + kMismatch},
    {"ExitedBeforeStarted",
     {hello(), exited_with_code(0)},
     Kind::kFail,
     0,
     "nsbrokerd sent Exited out of order: nsbroker and nsbrokerd may not match, " + kMismatch},
    {"HelloTwice",
     {hello(), hello()},
     Kind::kFail,
     0,
     "nsbrokerd sent Hello out of order: nsbroker and nsbrokerd may not match, " + kMismatch},
    {"StartedTwice",
     {hello(), started(), started()},
     Kind::kFail,
     0,
     "nsbrokerd sent Started out of order: nsbroker and nsbrokerd may not match, " + kMismatch},
    {"UnknownBody",
     {hello(), wire::ServerMessage()},
     Kind::kFail,
     0,
     "nsbrokerd sent a message this nsbroker does not know: " + kMismatch +
         " of nsbroker and nsbrokerd"},
    {"ExitedWithoutStatus",
     {hello(), started(), exited_without_status()},
     Kind::kFail,
     0,
     "nsbrokerd reported the command's end without an exit status"},
};

class ConversationTable : public testing::TestWithParam<ConversationCase> {};

TEST_P(ConversationTable, Reacts) {
  const ConversationCase& c = GetParam();
  Conversation conversation;
  Reaction reaction;
  for (std::size_t i = 0; i < c.messages.size(); ++i) {
    reaction = conversation.on_message(c.messages[i]);
    if (i + 1 < c.messages.size()) {
      ASSERT_EQ(reaction.kind, Kind::kWait) << "message " << i << ": " << reaction.error;
    }
  }
  EXPECT_EQ(reaction.kind, c.expected_kind);
  EXPECT_EQ(reaction.exit_status, c.expected_status);
  EXPECT_EQ(reaction.error, c.expected_error);
}

INSTANTIATE_TEST_SUITE_P(Conversation, ConversationTable, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<ConversationCase>& info) {
                           return info.param.name;
                         });

TEST(ExitStatus, ExitCodeAndSignal) {
  EXPECT_EQ(exit_status_of(exited_with_code(3).exited()), 3);
  EXPECT_EQ(exit_status_of(exited_by_signal(15).exited()), 143);
  EXPECT_EQ(exit_status_of(exited_without_status().exited()), std::nullopt);
}

}  // namespace
}  // namespace nsbroker::client
