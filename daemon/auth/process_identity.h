// A pidfd for a caller known only by its pid, without trusting the pid.
//
// The kernel (SO_PEERPIDFD, Linux 6.5) and the bus (ProcessFD, dbus-daemon 1.15.8) can hand
// over a pidfd of the very process that connected. Where they cannot, the daemon opens one by
// pid — and a pid can have been recycled since it was reported: the connecting process may
// have exited and another taken its number. So a pidfd opened by pid is accepted only when
// its process provably is one that could have made the request:
//   - it runs with the uid the kernel or the bus reported (else another user's process would
//     lend the request its namespaces, root and limits);
//   - it started no later than the moment the request was known to exist (a process started
//     after that cannot have made it) — /proc/PID/stat's start time against CLOCK_BOOTTIME;
//   - it is still alive after everything was read, so every read was about that process.
// Callers add what their transport can prove besides (D-Bus: the sender's connection still
// reports the same ProcessID after the pidfd was opened; dbus/bus_caller.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "core/result.h"
#include "wire/unique_fd.h"

namespace nsbroker::auth {

// What the kernel or the bus reported about a caller.
struct ClaimedProcess {
  pid_t pid = 0;   // in the daemon's pid namespace
  uid_t uid = 0;   // the effective uid it connected with
  // CLOCK_BOOTTIME nanoseconds at which the request certainly existed (the connection was
  // accepted, the method call received): the process must have started by then. 0: no bound
  // (a pidfd the kernel or the bus handed over cannot name a recycled pid).
  std::uint64_t existed_by_ns = 0;
  const char* reported_by = "the kernel";  // for messages: "the bus", "SO_PEERCRED"
};

struct ProcessIds {
  uid_t euid = 0;
  gid_t egid = 0;
};

struct PinnedProcess {
  UniqueFd pidfd;
  ProcessIds ids;
};

// CLOCK_BOOTTIME now, in nanoseconds (the clock /proc/PID/stat's start times count in).
std::uint64_t boottime_ns();

// The effective ids of the process behind `pidfd` (which is claim.pid in our pid namespace),
// checked against `claim` as described above. ERROR_DENIED naming the check that failed.
Result<ProcessIds> confirm_process(int pidfd, const ClaimedProcess& claim);

// pidfd_open(claim.pid), then confirm_process().
Result<PinnedProcess> open_claimed_process(const ClaimedProcess& claim);

// Whether the process behind `pidfd` has not been reaped (a zombie still holds its pid).
bool still_alive(int pidfd);

}  // namespace nsbroker::auth
