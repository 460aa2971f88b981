// Record I/O over a real SOCK_SEQPACKET socketpair: bytes, fds, limits, and no fd leaks.
#include "wire/record_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace nsbroker::wire {
namespace {

struct SocketPair {
  UniqueFd sender;
  UniqueFd receiver;
};

SocketPair seqpacket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    ADD_FAILURE() << "socketpair: " << std::strerror(errno);
    return {};
  }
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

UniqueFd file_with(const std::string& content) {
  UniqueFd fd(::memfd_create("record_io_test", MFD_CLOEXEC));
  EXPECT_TRUE(fd.valid()) << std::strerror(errno);
  EXPECT_EQ(::write(fd.get(), content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  return fd;
}

bool same_file(int a, int b) {
  struct stat first {
  }, second{};
  return ::fstat(a, &first) == 0 && ::fstat(b, &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

bool close_on_exec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

// The numbers of this process's open fds (the listing's own fd included, at the same number
// each time as long as nothing else changed).
std::set<int> open_fds() {
  std::set<int> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    fds.insert(std::stoi(entry.path().filename().string()));
  }
  return fds;
}

// sendmsg without send_record's limits, to make the receiver face what a hostile peer sends.
ssize_t send_unchecked(int socket, const std::string& bytes, std::span<const int> fds) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<unsigned char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  return ::sendmsg(socket, &msg, MSG_NOSIGNAL);
}

std::vector<UniqueFd> files(std::size_t count) {
  std::vector<UniqueFd> result;
  for (std::size_t i = 0; i < count; ++i) result.push_back(file_with("file " + std::to_string(i)));
  return result;
}

std::vector<int> numbers(const std::vector<UniqueFd>& fds) {
  std::vector<int> result;
  for (const UniqueFd& fd : fds) result.push_back(fd.get());
  return result;
}

TEST(RecordIo, RoundTripsBytesAndFds) {
  SocketPair pair = seqpacket_pair();
  std::vector<UniqueFd> sent = files(2);
  ASSERT_EQ(send_record(pair.sender.get(), "payload", numbers(sent)), 0);

  ReceiveResult result = receive_record(pair.receiver.get());
  ASSERT_EQ(result.status, ReceiveStatus::kRecord) << describe(result);
  EXPECT_EQ(result.record.bytes, "payload");
  ASSERT_EQ(result.record.fds.size(), 2u);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_NE(result.record.fds[i].get(), sent[i].get()) << "a new fd, not the sender's number";
    EXPECT_TRUE(same_file(result.record.fds[i].get(), sent[i].get())) << "fd " << i;
    EXPECT_TRUE(close_on_exec(result.record.fds[i].get())) << "fd " << i;
  }
}

TEST(RecordIo, RoundTripsBytesWithoutFds) {
  SocketPair pair = seqpacket_pair();
  std::string bytes("a\0b\xff", 4);
  ASSERT_EQ(send_record(pair.sender.get(), bytes), 0);
  ReceiveResult result = receive_record(pair.receiver.get());
  ASSERT_EQ(result.status, ReceiveStatus::kRecord) << describe(result);
  EXPECT_EQ(result.record.bytes, bytes);
  EXPECT_TRUE(result.record.fds.empty());
}

TEST(RecordIo, KeepsRecordBoundaries) {
  SocketPair pair = seqpacket_pair();
  ASSERT_EQ(send_record(pair.sender.get(), "first"), 0);
  ASSERT_EQ(send_record(pair.sender.get(), "second"), 0);
  EXPECT_EQ(receive_record(pair.receiver.get()).record.bytes, "first");
  EXPECT_EQ(receive_record(pair.receiver.get()).record.bytes, "second");
}

TEST(RecordIo, AcceptsTheLargestRecordWithMaximumFds) {
  SocketPair pair = seqpacket_pair();
  std::vector<UniqueFd> sent = files(kMaxFdsPerRecord);
  std::string bytes(kMaxRecordBytes, 'x');
  ASSERT_EQ(send_record(pair.sender.get(), bytes, numbers(sent)), 0);

  ReceiveResult result = receive_record(pair.receiver.get());
  ASSERT_EQ(result.status, ReceiveStatus::kRecord) << describe(result);
  EXPECT_EQ(result.record.bytes.size(), kMaxRecordBytes);
  EXPECT_EQ(result.record.fds.size(), kMaxFdsPerRecord);
}

TEST(RecordIo, RefusesOversizeRecordAndDropsItsFds) {
  SocketPair pair = seqpacket_pair();
  std::set<int> before = open_fds();
  {
    UniqueFd attached = file_with("x");
    const int fds[] = {attached.get()};
    ASSERT_EQ(send_unchecked(pair.sender.get(), std::string(kMaxRecordBytes + 1, 'x'), fds),
              static_cast<ssize_t>(kMaxRecordBytes + 1));
  }
  ReceiveResult result = receive_record(pair.receiver.get());
  EXPECT_EQ(result.status, ReceiveStatus::kOversize) << describe(result);
  EXPECT_TRUE(result.record.fds.empty());
  EXPECT_EQ(open_fds(), before);
}

TEST(RecordIo, RefusesTooManyFdsWithoutLeakingAny) {
  SocketPair pair = seqpacket_pair();
  std::set<int> before = open_fds();
  {
    std::vector<UniqueFd> sent = files(kMaxFdsPerRecord + 1);
    ASSERT_EQ(send_unchecked(pair.sender.get(), "request", numbers(sent)), 7);
  }  // the sender's copies are closed; only the ones in flight remain
  ReceiveResult result = receive_record(pair.receiver.get());
  EXPECT_EQ(result.status, ReceiveStatus::kTooManyFds) << describe(result);
  EXPECT_TRUE(result.record.fds.empty());
  EXPECT_EQ(open_fds(), before);
}

TEST(RecordIo, ReportsPeerClose) {
  SocketPair pair = seqpacket_pair();
  pair.sender.reset();
  EXPECT_EQ(receive_record(pair.receiver.get()).status, ReceiveStatus::kClosed);
}

TEST(RecordIo, ReportsNothingToRead) {
  SocketPair pair = seqpacket_pair();
  EXPECT_EQ(receive_record(pair.receiver.get()).status, ReceiveStatus::kWouldBlock);
}

TEST(RecordIo, SendRefusesOversizeRecord) {
  SocketPair pair = seqpacket_pair();
  EXPECT_EQ(send_record(pair.sender.get(), std::string(kMaxRecordBytes + 1, 'x')), EMSGSIZE);
}

TEST(RecordIo, SendRefusesTooManyFds) {
  SocketPair pair = seqpacket_pair();
  std::vector<UniqueFd> sent = files(kMaxFdsPerRecord + 1);
  EXPECT_EQ(send_record(pair.sender.get(), "x", numbers(sent)), EMSGSIZE);
}

TEST(RecordIo, SendToClosedPeerReportsEpipe) {
  SocketPair pair = seqpacket_pair();
  pair.receiver.reset();
  EXPECT_EQ(send_record(pair.sender.get(), "x"), EPIPE);
}

}  // namespace
}  // namespace nsbroker::wire
