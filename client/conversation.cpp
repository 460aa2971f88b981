#include "client/conversation.h"

#include "wire/record_io.h"

namespace nsbroker::client {
namespace {

Reaction wait() { return Reaction{}; }

Reaction fail(std::string error) {
  Reaction reaction;
  reaction.kind = Reaction::Kind::kFail;
  reaction.error = std::move(error);
  return reaction;
}

Reaction exit_with(int status) {
  Reaction reaction;
  reaction.kind = Reaction::Kind::kExit;
  reaction.exit_status = status;
  return reaction;
}

Reaction out_of_order(std::string_view what) {
  return fail("nsbrokerd sent " + std::string(what) +
              " out of order: nsbroker and nsbrokerd may not match, install matching versions");
}

Reaction refused(const wire::Error& error) {
  if (!error.message().empty()) return fail(error.message());
  return fail("nsbrokerd refused the request (error code " + std::to_string(error.code()) + ")");
}

}  // namespace

Reaction Conversation::on_message(const wire::ServerMessage& message) {
  // An Error may come at any point and always ends the conversation.
  if (message.has_error()) {
    stage_ = Stage::kOver;
    return refused(message.error());
  }
  switch (message.body_case()) {
    case wire::ServerMessage::kHello:
      if (stage_ != Stage::kAwaitingHello) return out_of_order("Hello");
      return on_hello(message.hello());
    case wire::ServerMessage::kStarted:
      if (stage_ != Stage::kAwaitingStarted) return out_of_order("Started");
      stage_ = Stage::kRunning;
      return wait();
    case wire::ServerMessage::kExited:
      if (stage_ != Stage::kRunning) return out_of_order("Exited");
      return on_exited(message.exited());
    default:
      return fail(
          "nsbrokerd sent a message this nsbroker does not know: install matching "
          "versions of nsbroker and nsbrokerd");
  }
}

Reaction Conversation::on_hello(const wire::Hello& hello) {
  if (hello.protocol_version() != wire::kProtocolVersion) {
    stage_ = Stage::kOver;
    return fail("nsbrokerd speaks protocol version " + std::to_string(hello.protocol_version()) +
                " but this nsbroker speaks version " + std::to_string(wire::kProtocolVersion) +
                ": install matching versions of nsbroker and nsbrokerd");
  }
  stage_ = Stage::kAwaitingStarted;
  return wait();
}

Reaction Conversation::on_exited(const wire::Exited& exited) {
  stage_ = Stage::kOver;
  std::optional<int> status = exit_status_of(exited);
  if (!status) return fail("nsbrokerd reported the command's end without an exit status");
  return exit_with(*status);
}

std::optional<int> exit_status_of(const wire::Exited& exited) {
  switch (exited.status_case()) {
    case wire::Exited::kExitCode: return exited.exit_code();
    case wire::Exited::kSignal: return 128 + exited.signal();
    case wire::Exited::STATUS_NOT_SET: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace nsbroker::client
