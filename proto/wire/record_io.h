// Record I/O on SOCK_SEQPACKET sockets: one message per record, fds in SCM_RIGHTS.
//
// Receiving is fail-closed: a record larger than kMaxRecordBytes, one whose control data was
// truncated (too many fds) or that carries anything but SCM_RIGHTS is reported as such and
// every fd that did arrive is closed.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wire/unique_fd.h"

namespace nsbroker::wire {

inline constexpr std::size_t kMaxRecordBytes = 64 * 1024;
inline constexpr std::size_t kMaxFdsPerRecord = 16;
inline constexpr unsigned kProtocolVersion = 1;

struct Record {
  std::string bytes;
  std::vector<UniqueFd> fds;
};

enum class ReceiveStatus {
  kRecord,         // `record` holds a complete record
  kClosed,         // the peer closed the connection
  kWouldBlock,     // non-blocking socket with nothing to read
  kOversize,       // record longer than kMaxRecordBytes
  kTooManyFds,     // control data truncated: more fds than kMaxFdsPerRecord
  kBadControl,     // control message other than SCM_RIGHTS
  kError,          // recvmsg failed; `error` holds errno
};

struct ReceiveResult {
  ReceiveStatus status = ReceiveStatus::kError;
  int error = 0;
  Record record;
};

// Reads one record. Received fds are close-on-exec.
ReceiveResult receive_record(int socket_fd);

// Sends one record with `fds` attached. Returns 0 or an errno value.
int send_record(int socket_fd, std::string_view bytes, std::span<const int> fds = {});

// A one-line description of a failed receive, for error messages and logs.
std::string describe(const ReceiveResult& result);

}  // namespace nsbroker::wire
