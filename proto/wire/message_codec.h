// Encoding and strict decoding of wire messages.
//
// The daemon decodes client messages strictly: a record that does not parse, or that carries
// fields this build does not know, is refused (DESIGN.md §2 "fail closed").
#pragma once

#include <string>
#include <string_view>

#include "nsbroker.pb.h"

namespace nsbroker::wire {

// Parses `bytes` into `out`. On failure returns false and sets `why` to a human reason.
bool decode_client_message(std::string_view bytes, ClientMessage& out, std::string& why);

// Parses a server message; unknown fields are tolerated (newer daemon, older client).
bool decode_server_message(std::string_view bytes, ServerMessage& out);

std::string encode(const google::protobuf::MessageLite& message);

}  // namespace nsbroker::wire
