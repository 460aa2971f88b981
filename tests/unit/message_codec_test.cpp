// Strict decoding of client messages: unknown fields, garbage and empty records are refused.
#include "wire/message_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>

namespace nsbroker::wire {
namespace {

// ---- hand-made protobuf encoding, to build records this build's messages cannot express ----

std::string varint(std::uint64_t value) {
  std::string bytes;
  do {
    unsigned char byte = value & 0x7f;
    value >>= 7;
    bytes.push_back(static_cast<char>(value != 0 ? (byte | 0x80) : byte));
  } while (value != 0);
  return bytes;
}

std::string length_delimited(int field, const std::string& body) {
  return varint(static_cast<std::uint64_t>(field) << 3 | 2) + varint(body.size()) + body;
}

// Field number 99 (varint 1): no message of the protocol has it.
std::string unknown_field() { return varint(99 << 3 | 0) + varint(1); }

Spawn spawn_with_one_mount() {
  Spawn spawn;
  spawn.add_argv("true");
  MountOp& mount = *spawn.add_mounts();
  mount.set_kind(MOUNT_RO_BIND);
  mount.set_source("/usr");
  mount.set_dest("/usr");
  return spawn;
}

MountOp tmpfs_mount() {
  MountOp mount;
  mount.set_kind(MOUNT_TMPFS);
  mount.set_dest("/tmp");
  return mount;
}

Hello client_hello() {
  Hello hello;
  hello.set_protocol_version(1);
  hello.set_software("nsbroker test");
  return hello;
}

Signal interrupt() {
  Signal signal;
  signal.set_signal(2);
  return signal;
}

// ClientMessage fields: 1 hello, 2 spawn, 3 signal. Spawn fields: 3 unshare, 4 mounts.
std::string spawn_record(const std::string& spawn_bytes) {
  return length_delimited(2, spawn_bytes);
}

struct UnknownFieldCase {
  std::string where;
  std::string bytes;

  friend void PrintTo(const UnknownFieldCase& c, std::ostream* out) { *out << c.where; }
};

const std::string kSpawn = encode(spawn_with_one_mount());

const UnknownFieldCase kUnknownFieldCases[] = {
    {"ClientMessage", spawn_record(kSpawn) + unknown_field()},
    {"Hello", length_delimited(1, encode(client_hello()) + unknown_field())},
    {"Spawn", spawn_record(kSpawn + unknown_field())},
    {"Spawn.unshare", spawn_record(kSpawn + length_delimited(3, unknown_field()))},
    {"Spawn.mounts[0]", spawn_record(length_delimited(4, unknown_field()) + kSpawn)},
    {"Spawn.mounts[1]",
     spawn_record(kSpawn + length_delimited(4, encode(tmpfs_mount()) + unknown_field()))},
    {"Signal", length_delimited(3, encode(interrupt()) + unknown_field())},
};

class RefusesUnknownField : public testing::TestWithParam<UnknownFieldCase> {};

TEST_P(RefusesUnknownField, NamingWhere) {
  ClientMessage message;
  std::string why;
  EXPECT_FALSE(decode_client_message(GetParam().bytes, message, why));
  EXPECT_EQ(why, "record carries fields unknown to this nsbrokerd (in " + GetParam().where +
                     "); upgrade nsbrokerd or use a matching client");
}

INSTANTIATE_TEST_SUITE_P(MessageCodec, RefusesUnknownField, testing::ValuesIn(kUnknownFieldCases),
                         [](const testing::TestParamInfo<UnknownFieldCase>& info) {
                           std::string name;
                           for (char c : info.param.where) {
                             if (std::isalnum(static_cast<unsigned char>(c))) name += c;
                           }
                           return name;
                         });

TEST(MessageCodec, RefusesGarbage) {
  ClientMessage message;
  std::string why;
  EXPECT_FALSE(decode_client_message("\xff\xff\xff\xff\xff", message, why));
  EXPECT_EQ(why, "record is not a valid ClientMessage");
}

TEST(MessageCodec, RefusesTruncatedRecord) {
  std::string truncated = spawn_record(kSpawn);
  truncated.pop_back();
  ClientMessage message;
  std::string why;
  EXPECT_FALSE(decode_client_message(truncated, message, why));
  EXPECT_EQ(why, "record is not a valid ClientMessage");
}

TEST(MessageCodec, RefusesEmptyRecord) {
  ClientMessage message;
  std::string why;
  EXPECT_FALSE(decode_client_message("", message, why));
  EXPECT_EQ(why, "record holds an empty ClientMessage");
}

TEST(MessageCodec, AcceptsEveryKnownMessage) {
  ClientMessage hello, spawn, signal;
  *hello.mutable_hello() = client_hello();
  *spawn.mutable_spawn() = spawn_with_one_mount();
  *signal.mutable_signal() = interrupt();
  for (const ClientMessage* sent : {&hello, &spawn, &signal}) {
    ClientMessage received;
    std::string why;
    ASSERT_TRUE(decode_client_message(encode(*sent), received, why)) << why;
    EXPECT_EQ(encode(received), encode(*sent));
  }
}

TEST(MessageCodec, ServerMessageToleratesUnknownFields) {
  // A newer daemon may add fields; an older client still follows the conversation.
  ServerMessage sent;
  sent.mutable_exited()->set_exit_code(3);
  ServerMessage received;
  ASSERT_TRUE(decode_server_message(encode(sent) + unknown_field(), received));
  EXPECT_EQ(received.exited().exit_code(), 3);
}

TEST(MessageCodec, ServerMessageRefusesGarbage) {
  ServerMessage received;
  EXPECT_FALSE(decode_server_message("\xff\xff\xff\xff\xff", received));
}

}  // namespace
}  // namespace nsbroker::wire
