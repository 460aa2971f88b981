// Identity on the bus: who sent a method call, as the bus daemon knows it from the kernel
// (org.freedesktop.DBus.GetConnectionCredentials of the sender), never from the payload and
// never from a /proc lookup by pid (DESIGN.md §2).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sdbus-c++/Types.h>

#include "auth/caller.h"
#include "core/result.h"
#include "wire/unique_fd.h"

namespace nsbroker::dbus {

// The fields of GetConnectionCredentials nsbroker uses.
struct BusCredentials {
  uid_t uid = 0;
  std::vector<gid_t> groups;  // UnixGroupIDs: the primary group and the supplementary ones
  pid_t pid = 0;              // ProcessID, in the bus daemon's (= our) pid namespace
  UniqueFd pidfd;             // ProcessFD, when the bus provides it (dbus-daemon >= 1.15.8)
};

// Parses the a{sv} answer. UnixUserID, UnixGroupIDs and ProcessID are required; a bus that
// does not give them cannot be used to identify callers.
Result<BusCredentials> parse_credentials(const std::map<std::string, sdbus::Variant>& answer);

// The Caller the core needs, with a pidfd of the calling process: ProcessFD when the bus gave
// one, else pidfd_open(ProcessID), accepted only if its process runs as UnixUserID and had
// started by `call_received_ns` (CLOCK_BOOTTIME when the method call was received), so that a
// recycled pid cannot lend the request another identity (auth/process_identity.h). The
// primary gid is the process's effective gid, and it must be one of the bus's UnixGroupIDs.
// A pidfd opened by ProcessID needs confirm_same_connection() before it is used.
Result<auth::Caller> make_caller(BusCredentials credentials, std::uint64_t call_received_ns);

// After a pidfd was opened by ProcessID: the sender's connection, asked again (`again`), still
// reports that process and uid, and the pidfd's process is still alive. The bus drops a
// connection once no process holds it, so the connection outliving the pidfd_open means its
// process had not exited by then — unless it had handed the connection on to another one;
// then the uid and start-time checks are what remains (only ProcessFD closes that case).
// Else the refusal.
std::optional<Failure> confirm_same_connection(pid_t pid, uid_t uid, const BusCredentials& again,
                                               int pidfd);

}  // namespace nsbroker::dbus
