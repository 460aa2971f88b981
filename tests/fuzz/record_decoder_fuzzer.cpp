// fuzz_record_decoder: what nsbrokerd does with one record a client sends (server/connection.cpp)
// and what the client does with the daemon's answers: receive_record() on a SOCK_SEQPACKET
// socket, then decode_client_message() (strict: unknown fields and empty messages refused) and
// decode_server_message() (tolerant).
//
// Input: one control byte, then the record's bytes.
//   bits 0-4  how many fds travel with the record (SCM_RIGHTS; above 16 must be refused)
//   bit 5     pad the record with copies of itself to just around the 64 KiB limit
//             (kMaxRecordBytes - 8 + bits 0-3 of the second byte), to probe the size check
//   bit 6     also decode the bytes as a ServerMessage
// Checks: the receive status is the one the size and fd count call for, the bytes arrive
// unchanged, every fd is closed when the record is refused or dropped, a decoded message
// re-encodes to bytes that decode to the same message, a message the strict decoder accepts
// holds no field proto/nsbroker.proto does not define (read with a wire-format walker of our
// own), and a refusal says why.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "wire/message_codec.h"
#include "wire/record_io.h"

namespace nsbroker::fuzz {
namespace {

struct Channel {
  int sender = -1;
  int receiver = -1;
  int null_fd = -1;  // what travels as the record's fds
};

const Channel& channel() {
  static const Channel kChannel = [] {
    Channel c;
    int pair[2];
    NSB_FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0,
                   std::string("socketpair: ") + std::strerror(errno));
    c.sender = pair[0];
    c.receiver = pair[1];
    // Room for records somewhat above the limit.
    int size = 4 * static_cast<int>(wire::kMaxRecordBytes);
    ::setsockopt(c.sender, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    ::setsockopt(c.receiver, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    c.null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    NSB_FUZZ_CHECK(c.null_fd >= 0, std::string("/dev/null: ") + std::strerror(errno));
    return c;
  }();
  return kChannel;
}

// The lowest free fd number: the same before and after a record means no fd leaked.
int lowest_free_fd() {
  int fd = ::fcntl(channel().null_fd, F_DUPFD_CLOEXEC, 0);
  NSB_FUZZ_CHECK(fd >= 0, std::string("dup: ") + std::strerror(errno));
  ::close(fd);
  return fd;
}

// Sends `bytes` with `fd_count` copies of /dev/null, also above the limits send_record()
// keeps to (a hostile client is not held to them).
void send_raw(std::string_view bytes, std::size_t fd_count) {
  std::vector<int> fds(fd_count, channel().null_fd);
  if (bytes.size() <= wire::kMaxRecordBytes && fd_count <= wire::kMaxFdsPerRecord) {
    int error = wire::send_record(channel().sender, bytes, fds);
    NSB_FUZZ_CHECK(error == 0, std::string("send_record: ") + std::strerror(error));
    return;
  }
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<unsigned char> control(CMSG_SPACE(sizeof(int) * fd_count), 0);
  if (fd_count != 0) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fd_count);
  }
  ssize_t sent = ::sendmsg(channel().sender, &msg, MSG_NOSIGNAL);
  NSB_FUZZ_CHECK(sent == static_cast<ssize_t>(bytes.size()), std::string("sendmsg: ") + std::strerror(errno));
}

void check_receive(const wire::ReceiveResult& received, std::string_view sent, std::size_t fd_count) {
  std::string context = std::to_string(sent.size()) + " bytes, " + std::to_string(fd_count) +
                        " fds: got " + wire::describe(received);
  if (sent.empty() && fd_count == 0) {
    // An empty record cannot be told apart from the end of the connection.
    NSB_FUZZ_CHECK(received.status == wire::ReceiveStatus::kClosed, context);
  } else if (sent.size() > wire::kMaxRecordBytes) {
    NSB_FUZZ_CHECK(received.status == wire::ReceiveStatus::kOversize, context);
  } else if (fd_count > wire::kMaxFdsPerRecord) {
    NSB_FUZZ_CHECK(received.status == wire::ReceiveStatus::kTooManyFds, context);
  } else {
    NSB_FUZZ_CHECK(received.status == wire::ReceiveStatus::kRecord, context);
    NSB_FUZZ_CHECK(received.record.bytes == sent, "the record's bytes changed; " + context);
    NSB_FUZZ_CHECK(received.record.fds.size() == fd_count, "fds lost; " + context);
    for (const UniqueFd& fd : received.record.fds) {
      int flags = ::fcntl(fd.get(), F_GETFD);
      NSB_FUZZ_CHECK(flags >= 0 && (flags & FD_CLOEXEC), "a received fd is not close-on-exec; " + context);
    }
  }
  if (received.status != wire::ReceiveStatus::kRecord) {
    NSB_FUZZ_CHECK(received.record.fds.empty(), "a refused record kept its fds; " + context);
    NSB_FUZZ_CHECK(received.record.bytes.empty(), "a refused record kept its bytes; " + context);
  }
}

// ---- an independent reading of the wire format, for the "no unknown fields" rule ------------

// The fields of each client message (proto/nsbroker.proto), with their wire types; a field
// added there must be added here too. 0: varint, 2: length-delimited; kPackedOrVarint for a
// repeated scalar, which may come either way.
constexpr int kPackedOrVarint = -1;

struct Schema;
struct Field {
  std::uint32_t number;
  int wire_type;
  const Schema* nested = nullptr;
};
struct Schema {
  const char* name;
  std::vector<Field> fields;
  // Every field is a member of one oneof (ClientMessage.body): the parser keeps the member
  // written last (several writes of it merge) and drops the earlier members whole.
  bool one_of = false;
};

const Schema kHello{"Hello", {{1, 0}, {2, 2}}};
const Schema kSignal{"Signal", {{1, 0}}};
const Schema kNamespaces{"Namespaces", {{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 0}}};
const Schema kMountOp{"MountOp", {{1, 0}, {2, 2}, {3, 2}, {4, 0}, {5, 0}, {6, 0}, {7, 0}, {8, 0}}};
const Schema kSpawn{"Spawn",
                    {{1, 2}, {2, 2}, {3, 2, &kNamespaces}, {4, 2, &kMountOp}, {5, 2}, {6, 2}, {7, 2},
                     {8, 0}, {9, 0}, {10, 0}, {11, kPackedOrVarint}, {12, 2}, {13, 0}, {14, 0}, {15, 0},
                     {16, 0}, {17, 2}}};
const Schema kClientMessage{"ClientMessage", {{1, 2, &kHello}, {2, 2, &kSpawn}, {3, 2, &kSignal}}, true};

bool read_varint(std::string_view& bytes, std::uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 70 && !bytes.empty(); shift += 7) {
    auto byte = static_cast<std::uint8_t>(bytes.front());
    bytes.remove_prefix(1);
    if (shift < 64) value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// One field as written: its number, its wire type, the schema's entry for it when that names
// the number with this wire type (else the parser keeps it as an unknown field), and for a
// length-delimited field its bytes.
struct Item {
  std::uint32_t number = 0;
  int wire_type = 0;
  const Field* known = nullptr;
  std::string_view bytes;
};

std::vector<Item> read_items(std::string_view bytes, const Schema& schema, const std::string& path) {
  std::vector<Item> items;
  while (!bytes.empty()) {
    std::uint64_t tag = 0;
    std::uint64_t value = 0;
    NSB_FUZZ_CHECK(read_varint(bytes, tag) && read_varint(bytes, value),
                   "the decoder accepted a broken field in " + path);
    Item item;
    item.number = static_cast<std::uint32_t>(tag >> 3);
    item.wire_type = static_cast<int>(tag & 7);
    if (item.wire_type == 2) {
      NSB_FUZZ_CHECK(value <= bytes.size(), "the decoder accepted a length past the end in " + path);
      item.bytes = bytes.substr(0, static_cast<std::size_t>(value));
      bytes.remove_prefix(static_cast<std::size_t>(value));
    }
    for (const Field& field : schema.fields) {
      bool type_matches = field.wire_type == item.wire_type ||
                          (field.wire_type == kPackedOrVarint && (item.wire_type == 0 || item.wire_type == 2));
      if (field.number == item.number && type_matches) item.known = &field;
    }
    items.push_back(item);
  }
  return items;
}

// Every field in `bytes` is one `schema` knows, with its wire type, nested messages too;
// members of a oneof that a later member replaced are not looked into (the parser drops them).
void check_known_fields(std::string_view bytes, const Schema& schema, const std::string& path) {
  std::vector<Item> items = read_items(bytes, schema, path);
  std::size_t kept_from = 0;
  if (schema.one_of) {
    const Item* last = nullptr;
    for (const Item& item : items) {
      if (item.known != nullptr) last = &item;
    }
    for (std::size_t i = 0; last != nullptr && i < items.size(); ++i) {
      if (items[i].known != nullptr && items[i].number != last->number) kept_from = i + 1;
    }
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    NSB_FUZZ_CHECK(item.known != nullptr,
                   "the strict decoder accepted a field unknown to nsbroker.proto: " + path + " field " +
                       std::to_string(item.number) + " (wire type " + std::to_string(item.wire_type) + ")");
    if (i < kept_from || item.known->nested == nullptr) continue;
    check_known_fields(item.bytes, *item.known->nested, path + "." + item.known->nested->name);
  }
}

// decode(encode(m)) == m, and the daemon's strict decoder accepts what it decoded once.
void check_client_message(std::string_view bytes) {
  wire::ClientMessage message;
  std::string why;
  if (!wire::decode_client_message(bytes, message, why)) {
    NSB_FUZZ_CHECK(!why.empty(), "a refused record without a reason");
    return;
  }
  NSB_FUZZ_CHECK(why.empty(), "an accepted record with a reason: " + why);
  NSB_FUZZ_CHECK(message.body_case() != wire::ClientMessage::BODY_NOT_SET, "an empty message was accepted");
  check_known_fields(bytes, kClientMessage, "ClientMessage");
  std::string encoded = wire::encode(message);
  wire::ClientMessage again;
  std::string why_again;
  NSB_FUZZ_CHECK(wire::decode_client_message(encoded, again, why_again),
                 "a decoded message does not decode after re-encoding: " + why_again);
  NSB_FUZZ_CHECK(wire::encode(again) == encoded, "re-encoding is not stable: " + printable(encoded));
  NSB_FUZZ_CHECK(again.body_case() == message.body_case(), "the message kind changed on re-encoding");
  if (message.has_spawn()) {
    NSB_FUZZ_CHECK(again.spawn().argv_size() == message.spawn().argv_size() &&
                       again.spawn().mounts_size() == message.spawn().mounts_size(),
                   "the Spawn changed on re-encoding");
  }
}

void check_server_message(std::string_view bytes) {
  wire::ServerMessage message;
  if (!wire::decode_server_message(bytes, message)) return;
  std::string encoded = wire::encode(message);
  wire::ServerMessage again;
  NSB_FUZZ_CHECK(wire::decode_server_message(encoded, again), "a re-encoded ServerMessage does not decode");
  NSB_FUZZ_CHECK(wire::encode(again) == encoded, "ServerMessage re-encoding is not stable");
  NSB_FUZZ_CHECK(again.body_case() == message.body_case(), "the ServerMessage kind changed");
}

}  // namespace
}  // namespace nsbroker::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nsbroker::fuzz::quiet_protobuf_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nsbroker;
  using namespace nsbroker::fuzz;
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t fd_count = control & 0x1f;
  std::string padded;
  if ((control & 0x20) && !body.empty()) {
    std::size_t length = wire::kMaxRecordBytes - 8 + (static_cast<std::uint8_t>(body[0]) & 0x0f);
    padded.reserve(length);
    while (padded.size() < length) padded.append(body.substr(0, length - padded.size()));
    body = padded;
  }

  const int free_before = lowest_free_fd();
  send_raw(body, fd_count);
  {
    wire::ReceiveResult received = wire::receive_record(channel().receiver);
    check_receive(received, body, fd_count);
    if (received.status == wire::ReceiveStatus::kRecord) {
      check_client_message(received.record.bytes);
      if (control & 0x40) check_server_message(received.record.bytes);
    }
  }
  // Nothing left over for the next input, and every received fd closed with the record.
  wire::ReceiveResult leftover = wire::receive_record(channel().receiver);
  NSB_FUZZ_CHECK(leftover.status == wire::ReceiveStatus::kWouldBlock,
                 "a second record arrived: " + wire::describe(leftover));
  NSB_FUZZ_CHECK(lowest_free_fd() == free_before, "received fds leaked");
  return 0;
}
