#include "wire/record_io.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace nsbroker::wire {
namespace {

// Control buffer sized for exactly kMaxFdsPerRecord fds; one more makes the kernel set
// MSG_CTRUNC, which we treat as "too many fds".
constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(int) * kMaxFdsPerRecord);

// Takes ownership of every fd in the control data, whatever happens next.
ReceiveStatus collect_fds(msghdr& msg, std::vector<UniqueFd>& out) {
  ReceiveStatus status = ReceiveStatus::kRecord;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* data = CMSG_DATA(c);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
        out.emplace_back(fd);
      }
    } else {
      status = ReceiveStatus::kBadControl;
    }
  }
  return status;
}

}  // namespace

ReceiveResult receive_record(int socket_fd) {
  ReceiveResult result;
  // One byte more than the limit lets an oversize record show up as MSG_TRUNC or as a
  // length above the limit.
  std::string buffer(kMaxRecordBytes + 1, '\0');
  alignas(cmsghdr) unsigned char control[kControlBytes];
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);

  ssize_t n;
  do {
    n = ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    result.error = errno;
    result.status = (errno == EAGAIN || errno == EWOULDBLOCK) ? ReceiveStatus::kWouldBlock
                    : (errno == ECONNRESET)                   ? ReceiveStatus::kClosed
                                                              : ReceiveStatus::kError;
    return result;
  }
  ReceiveStatus control_status = collect_fds(msg, result.record.fds);
  if (n == 0 && result.record.fds.empty() && !(msg.msg_flags & MSG_CTRUNC)) {
    result.status = ReceiveStatus::kClosed;
    return result;
  }
  if ((msg.msg_flags & MSG_TRUNC) || static_cast<std::size_t>(n) > kMaxRecordBytes) {
    result.status = ReceiveStatus::kOversize;
  } else if (msg.msg_flags & MSG_CTRUNC) {
    result.status = ReceiveStatus::kTooManyFds;
  } else {
    result.status = control_status;
  }
  if (result.status != ReceiveStatus::kRecord) {
    result.record.fds.clear();  // fail closed: drop everything that arrived
    return result;
  }
  buffer.resize(static_cast<std::size_t>(n));
  result.record.bytes = std::move(buffer);
  return result;
}

int send_record(int socket_fd, std::string_view bytes, std::span<const int> fds) {
  if (bytes.size() > kMaxRecordBytes || fds.size() > kMaxFdsPerRecord) return EMSGSIZE;
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) unsigned char control[kControlBytes] = {};
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = ::sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}

std::string describe(const ReceiveResult& result) {
  switch (result.status) {
    case ReceiveStatus::kRecord: return "record received";
    case ReceiveStatus::kClosed: return "connection closed";
    case ReceiveStatus::kWouldBlock: return "no record available";
    case ReceiveStatus::kOversize:
      return "record larger than " + std::to_string(kMaxRecordBytes) + " bytes";
    case ReceiveStatus::kTooManyFds:
      return "more than " + std::to_string(kMaxFdsPerRecord) +
             " file descriptors (control data truncated)";
    case ReceiveStatus::kBadControl: return "control message other than SCM_RIGHTS";
    case ReceiveStatus::kError: return std::string("recvmsg: ") + std::strerror(result.error);
  }
  return "unknown receive status";
}

}  // namespace nsbroker::wire
