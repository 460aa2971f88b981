#include "wire/message_codec.h"

namespace nsbroker::wire {
namespace {

// protobuf-lite 3.21 keeps unknown fields in MessageLite's protected metadata and offers no
// public accessor; naming the member through a derived class is the standard-conforming way
// to read a protected base member.
struct UnknownFieldProbe : google::protobuf::MessageLite {
  static bool carries_unknown_fields(const google::protobuf::MessageLite& message) {
    return (message.*(&UnknownFieldProbe::_internal_metadata_)).have_unknown_fields();
  }
};

bool unknown(const google::protobuf::MessageLite& message) {
  return UnknownFieldProbe::carries_unknown_fields(message);
}

// Each check names the first message that carries fields unknown to this build.
bool has_unknown(const Spawn& spawn, std::string& where) {
  if (unknown(spawn)) return where = "Spawn", true;
  if (unknown(spawn.unshare())) return where = "Spawn.unshare", true;
  for (int i = 0; i < spawn.mounts_size(); ++i) {
    if (unknown(spawn.mounts(i))) {
      return where = "Spawn.mounts[" + std::to_string(i) + "]", true;
    }
  }
  return false;
}

bool has_unknown(const ClientMessage& message, std::string& where) {
  if (unknown(message)) return where = "ClientMessage", true;
  switch (message.body_case()) {
    case ClientMessage::kHello:
      if (unknown(message.hello())) return where = "Hello", true;
      return false;
    case ClientMessage::kSpawn: return has_unknown(message.spawn(), where);
    case ClientMessage::kSignal:
      if (unknown(message.signal())) return where = "Signal", true;
      return false;
    case ClientMessage::BODY_NOT_SET: return false;
  }
  return false;
}

}  // namespace

bool decode_client_message(std::string_view bytes, ClientMessage& out, std::string& why) {
  if (!out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    why = "record is not a valid ClientMessage";
    return false;
  }
  std::string where;
  if (has_unknown(out, where)) {
    why = "record carries fields unknown to this nsbrokerd (in " + where +
          "); upgrade nsbrokerd or use a matching client";
    return false;
  }
  if (out.body_case() == ClientMessage::BODY_NOT_SET) {
    why = "record holds an empty ClientMessage";
    return false;
  }
  return true;
}

bool decode_server_message(std::string_view bytes, ServerMessage& out) {
  return out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

std::string encode(const google::protobuf::MessageLite& message) {
  return message.SerializeAsString();
}

}  // namespace nsbroker::wire
