// The client's half of a conversation once its requests are sent (DESIGN.md §4):
// the daemon answers Hello, then Started or Error, then Exited.
// Pure: it is fed one decoded ServerMessage at a time and says what to do next.
#pragma once

#include <optional>
#include <string>

#include "nsbroker.pb.h"

namespace nsbroker::client {

struct Reaction {
  enum class Kind {
    kWait,  // keep reading
    kExit,  // the command is over: exit with `exit_status`
    kFail,  // print `error` and exit 1
  };
  Kind kind = Kind::kWait;
  int exit_status = 0;
  std::string error;  // one line, without the "nsbroker: " prefix
};

class Conversation {
 public:
  Reaction on_message(const wire::ServerMessage& message);

 private:
  Reaction on_hello(const wire::Hello& hello);
  Reaction on_exited(const wire::Exited& exited);

  enum class Stage { kAwaitingHello, kAwaitingStarted, kRunning, kOver };
  Stage stage_ = Stage::kAwaitingHello;
};

// The shell's convention: the command's exit code, or 128 + the signal that ended it.
// Empty when the daemon sent neither.
std::optional<int> exit_status_of(const wire::Exited& exited);

}  // namespace nsbroker::client
