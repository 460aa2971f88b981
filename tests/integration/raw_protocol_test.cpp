// 10. Hostile records: malformed, oversize and fd-flooding records get an Error reply with
// ERROR_PROTOCOL (and the connection is closed), the daemon keeps none of the fds, and a good
// client running at the same time is not disturbed. Requests the client refuses to send
// (--lock-file with --as-pid-1, ...) get an Error when sent raw, never a Started.
//
// A raw client speaks the wire protocol directly (records built here, sent with our own
// sendmsg so that we can exceed the limits nsbroker_wire's send_record enforces), as root:
// these tests are about the record layer, not about the caller's identity.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <thread>

#include "sandbox_fixture.h"
#include "wire/message_codec.h"
#include "wire/record_io.h"

namespace nsbroker::itest {
namespace {

namespace fs = std::filesystem;

class RawConnection {
 public:
  explicit RawConnection(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0) {
      error_ = errno;
      ::close(fd_);
      fd_ = -1;
    }
    // Room for records well above the 64 KiB limit.
    int size = 1 << 20;
    if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  std::string connect_error() const { return std::strerror(error_); }

  // One record with `fds` in SCM_RIGHTS; no size or count limit. Returns 0 or errno.
  int send(std::string_view bytes, std::span<const int> fds = {}) {
    iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<unsigned char> control(CMSG_SPACE(sizeof(int) * fds.size()));
    if (!fds.empty()) {
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    return ::sendmsg(fd_, &msg, MSG_NOSIGNAL) < 0 ? errno : 0;
  }
  int send(const wire::ClientMessage& message, std::span<const int> fds = {}) {
    return send(wire::encode(message), fds);
  }

  // The next record, decoded; std::nullopt on timeout, close or undecodable record (`why`).
  std::optional<wire::ServerMessage> receive(std::chrono::milliseconds timeout, std::string* why = nullptr) {
    wire::ReceiveResult received = next_record(timeout);
    if (received.status != wire::ReceiveStatus::kRecord) {
      if (why) *why = wire::describe(received);
      return std::nullopt;
    }
    wire::ServerMessage message;
    if (!wire::decode_server_message(received.record.bytes, message)) {
      if (why) *why = "undecodable server message";
      return std::nullopt;
    }
    return message;
  }

  // True when the daemon closes the connection within `timeout` (records before that are
  // skipped).
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      wire::ReceiveResult r = next_record(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (r.status == wire::ReceiveStatus::kClosed) return true;
      if (r.status == wire::ReceiveStatus::kWouldBlock) return false;
    }
    return false;
  }

  // Hello v1 → Hello.
  bool handshake() {
    wire::ClientMessage hello;
    hello.mutable_hello()->set_protocol_version(wire::kProtocolVersion);
    hello.mutable_hello()->set_software("nsbroker integration test");
    if (send(hello) != 0) return false;
    auto reply = receive(5s);
    return reply && reply->has_hello();
  }

 private:
  wire::ReceiveResult next_record(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      wire::ReceiveResult none;
      none.status = wire::ReceiveStatus::kWouldBlock;
      return none;
    }
    return wire::receive_record(fd_);
  }

  int fd_ = -1;
  int error_ = 0;
};

wire::ClientMessage hello_message(std::string software = "test") {
  wire::ClientMessage m;
  m.mutable_hello()->set_protocol_version(wire::kProtocolVersion);
  m.mutable_hello()->set_software(std::move(software));
  return m;
}

wire::ClientMessage spawn_message() {
  wire::ClientMessage m;
  m.mutable_spawn()->add_argv("/bin/true");
  return m;
}

// A Hello whose encoding is exactly `size` bytes.
std::string hello_of_size(std::size_t size) {
  std::size_t pad = size;
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string bytes = wire::encode(hello_message(std::string(pad, 'a')));
    if (bytes.size() == size) return bytes;
    if (bytes.size() > size) pad -= std::min(pad, bytes.size() - size);
    else pad += size - bytes.size();
  }
  throw std::logic_error("cannot build a Hello of " + std::to_string(size) + " bytes");
}

// How many of `pid`'s fds refer to `target` (a path).
std::size_t fds_referring_to(pid_t pid, const std::string& target) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code link_ec;
    if (fs::read_symlink(it->path(), link_ec).string() == target) ++n;
  }
  return n;
}

class RawProtocolTest : public SandboxTest {
 protected:
  // Sends `bytes` (+ fds) on a fresh connection, optionally after a Hello exchange, and
  // expects an Error with ERROR_PROTOCOL followed by the daemon closing the connection.
  void expect_protocol_error(const std::string& what, std::string_view bytes,
                             std::span<const int> fds = {}, bool after_hello = false) {
    SCOPED_TRACE(what);
    RawConnection c(daemon_->socket_path());
    ASSERT_TRUE(c.connected()) << c.connect_error();
    if (after_hello) {
      ASSERT_TRUE(c.handshake());
    }
    ASSERT_EQ(c.send(bytes, fds), 0) << "sendmsg failed";
    std::string why;
    auto reply = c.receive(5s, &why);
    ASSERT_TRUE(reply.has_value()) << "no reply: " << why;
    ASSERT_TRUE(reply->has_error()) << "expected an Error, got body case " << reply->body_case();
    EXPECT_EQ(reply->error().code(), wire::ERROR_PROTOCOL) << reply->error().message();
    EXPECT_FALSE(reply->error().message().empty());
    EXPECT_TRUE(c.closed_by_peer(2s)) << "the daemon should close the connection after the error";
  }

  int dev_null() {
    if (dev_null_ < 0) dev_null_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return dev_null_;
  }
  void TearDown() override {
    if (dev_null_ >= 0) ::close(dev_null_);
    SandboxTest::TearDown();
  }

  int dev_null_ = -1;
};

TEST_P(RawProtocolTest, MalformedRecordsGetProtocolError) {
  expect_protocol_error("garbage bytes", "\xff\xff\xff\xff\xff");
  // Field 1 (hello), length-delimited, claiming far more bytes than follow.
  expect_protocol_error("truncated submessage", std::string("\x0a\xf0\x01\x08\x01", 5));
  // A valid Hello followed by an unknown field 1000 (varint): fail closed on unknown fields.
  expect_protocol_error("unknown field", wire::encode(hello_message()) + std::string("\xc0\x3e\x01", 3));
  expect_protocol_error("Spawn before Hello", wire::encode(spawn_message()));
  expect_protocol_error("Hello carrying an fd", wire::encode(hello_message()), std::vector<int>{dev_null()});
}

TEST_P(RawProtocolTest, OversizeRecordGetsProtocolError) {
  // Boundary: exactly 64 KiB is a record like any other.
  {
    RawConnection c(daemon_->socket_path());
    ASSERT_TRUE(c.connected()) << c.connect_error();
    ASSERT_EQ(c.send(hello_of_size(wire::kMaxRecordBytes)), 0);
    auto reply = c.receive(5s);
    ASSERT_TRUE(reply.has_value());
    EXPECT_TRUE(reply->has_hello()) << "a 64 KiB record should be accepted";
  }
  expect_protocol_error("64 KiB + 1", hello_of_size(wire::kMaxRecordBytes + 1));
  expect_protocol_error("100 KiB", hello_of_size(100 * 1024));
  expect_protocol_error("100 KiB after Hello", hello_of_size(100 * 1024), {}, true);
}

TEST_P(RawProtocolTest, FdFloodGetsProtocolErrorAndNoFdIsKept) {
  // The flooded fds all refer to one file of our own, so that any the daemon kept can be
  // recognised among its other fds (its count varies by itself: a pool of network namespaces
  // is refilled in the background).
  std::string flood_file = *work_ / "flood-fd-target";
  write_file(flood_file, "");
  int flood_fd = ::open(flood_file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(flood_fd, 0);
  for (std::size_t count : {wire::kMaxFdsPerRecord + 1, std::size_t{64}, std::size_t{250}}) {
    std::vector<int> fds(count, flood_fd);
    expect_protocol_error(std::to_string(count) + " fds on a Spawn", wire::encode(spawn_message()), fds, true);
    expect_protocol_error(std::to_string(count) + " fds on the first record",
                          wire::encode(hello_message()), fds);
  }
  ::close(flood_fd);
  EXPECT_TRUE(poll_until(2s, [&] { return fds_referring_to(daemon_->pid(), flood_file) == 0; }))
      << "nsbrokerd still holds " << fds_referring_to(daemon_->pid(), flood_file)
      << " of the flooded fds after the connections were closed";
}

TEST_P(RawProtocolTest, BadClientsDoNotDisturbAGoodClient) {
  // Connections that stall: some never speak, some stop after Hello.
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 8; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(daemon_->socket_path()));
    ASSERT_TRUE(stalled.back()->connected());
    if (i % 2) {
      ASSERT_TRUE(stalled.back()->handshake());
    }
  }

  // Meanwhile a flood of hostile records from another thread.
  std::atomic<bool> stop{false};
  // Under a flood the daemon may also answer with a per-uid limit or drop the connection
  // silently; what it must never do is treat a hostile record as a valid one.
  std::atomic<int> protocol_errors{0}, limit_errors{0}, no_reply{0}, unexpected{0};
  int null_fd = dev_null();
  std::string oversize = hello_of_size(100 * 1024);
  std::thread flood([&] {
    std::vector<int> many(40, null_fd);
    auto deadline = std::chrono::steady_clock::now() + 20s;
    for (int i = 0; !stop && std::chrono::steady_clock::now() < deadline; ++i) {
      RawConnection c(daemon_->socket_path());
      if (!c.connected()) continue;
      int sent = i % 3 == 0 ? c.send("\xff\xff\xff\xff")
                 : i % 3 == 1 ? c.send(oversize)
                              : c.send(wire::encode(hello_message()), many);
      if (sent != 0) continue;
      auto reply = c.receive(2s);
      if (!reply) ++no_reply;
      else if (reply->has_error() && reply->error().code() == wire::ERROR_PROTOCOL) ++protocol_errors;
      else if (reply->has_error() && reply->error().code() == wire::ERROR_LIMIT_EXCEEDED) ++limit_errors;
      else ++unexpected;
    }
  });

  for (int i = 0; i < 3; ++i) {
    auto r = run({"--", "sh", "-c", "echo good; exit 5"});
    EXPECT_EQ(r.exit_code, 5) << r.describe();
    EXPECT_EQ(r.out, "good\n") << r.describe();
  }
  // Let the flood reach the daemon for a while even on a fast machine.
  poll_until(3s, [&] { return protocol_errors >= 30; });
  stop = true;
  flood.join();
  EXPECT_GT(protocol_errors, 0) << limit_errors << " limit errors, " << no_reply << " without reply";
  EXPECT_EQ(unexpected, 0) << "a hostile record got a reply other than ERROR_PROTOCOL / ERROR_LIMIT_EXCEEDED";

  // The stalled connections did not stop the daemon either: a new good client after the flood.
  auto r = run({"--", "sh", "-c", "echo still-good"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "still-good\n") << r.describe();
}

// The client is not a security boundary: combinations it refuses, sent raw, get an Error from
// the daemon and never a Started (here as root, whom the open policy would allow anything).
TEST_P(RawProtocolTest, CombinationsTheClientRefusesAreRefusedByTheDaemon) {
  struct Case {
    const char* what;
    void (*edit)(wire::Spawn&);
    const char* message_part;
  };
  const Case cases[] = {
      {"--lock-file with --as-pid-1",
       [](wire::Spawn& s) {
         s.set_as_pid_1(true);
         wire::MountOp* lock = s.add_mounts();
         lock->set_kind(wire::MOUNT_LOCK_FILE);
         lock->set_dest("/etc/hostname");
       },
       "--lock-file cannot be combined with --as-pid-1"},
      {"--uid 4294967295",
       [](wire::Spawn& s) {
         s.set_has_uid(true);
         s.set_uid(4294967295u);
       },
       "names nobody"},
  };
  int cwd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(cwd, 0);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    RawConnection connection(daemon_->socket_path());
    ASSERT_TRUE(connection.connected()) << connection.connect_error();
    ASSERT_TRUE(connection.handshake());
    wire::ClientMessage message;
    wire::Spawn& spawn = *message.mutable_spawn();
    spawn.add_argv("/bin/true");
    wire::MountOp* root = spawn.add_mounts();
    root->set_kind(wire::MOUNT_RO_BIND);
    root->set_source("/");
    root->set_dest("/");
    c.edit(spawn);
    std::vector<int> fds = {dev_null(), dev_null(), dev_null(), cwd};
    ASSERT_EQ(connection.send(message, fds), 0);
    std::string why;
    auto reply = connection.receive(5s, &why);
    ASSERT_TRUE(reply.has_value()) << "no reply: " << why;
    ASSERT_TRUE(reply->has_error()) << "expected an Error, got body case " << reply->body_case();
    EXPECT_EQ(reply->error().code(), wire::ERROR_INVALID_ARGUMENT) << reply->error().message();
    EXPECT_NE(reply->error().message().find(c.message_part), std::string::npos) << reply->error().message();
    // Nothing follows but the end of the connection: no Started, no Exited.
    while (auto more = connection.receive(2s)) {
      EXPECT_FALSE(more->has_started()) << "the daemon started a sandbox after refusing it";
      EXPECT_FALSE(more->has_exited());
    }
  }
  ::close(cwd);
}

INSTANTIATE_TEST_SUITE_P(Configs, RawProtocolTest, ::testing::ValuesIn(kAllConfigs), ConfigName());

}  // namespace
}  // namespace nsbroker::itest
