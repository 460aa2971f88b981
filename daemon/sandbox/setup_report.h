// The setup report: how the setup processes tell the daemon what happened, over a
// close-on-exec pipe. Each record is a fixed-size struct (well below PIPE_BUF, so writes are
// atomic). End of file without a failure record means the command was executed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace nsbroker::sandbox {

struct ChildPlan;

enum class Step : std::uint32_t {
  kNone = 0,
  kJoinCallerNamespaces,
  kBecomeCaller,
  kBindSource,
  kCloneBindSource,
  kDevice,
  kConsole,
  kCloneSandbox,
  kWriteIdMaps,
  kWaitForOutsideStage,
  kPrivateMounts,
  kCreateRoot,
  kPrepareProc,
  kPrepareDevpts,
  kEnterRoot,
  kMountPoint,
  kBindMount,
  kTmpfs,
  kProc,
  kDev,
  kDir,
  kSymlink,
  kRemountReadOnly,
  kHostname,
  kLoopback,
  kChdir,
  kStdio,
  kNewSession,
  kDropPrivileges,
  kSeccomp,
  kForkCommand,
  kExec,
};

enum class ReportKind : std::uint32_t { kSandboxPid = 1, kFailure = 2 };

struct SetupReport {
  ReportKind kind = ReportKind::kFailure;
  Step step = Step::kNone;
  std::int32_t error = 0;   // errno
  std::int32_t index = -1;  // mount operation index, where the step concerns one
  std::int32_t pid = 0;     // kSandboxPid: the sandbox process, in the daemon's pid namespace
};

// Child side: async-signal-safe, allocation-free.
void report_sandbox_pid(int report_fd, pid_t pid);
[[noreturn]] void report_failure_and_exit(int report_fd, Step step, int error, int index = -1);

// Daemon side: "bind source /root/secret: Permission denied (checked as uid 1000)".
std::string describe_failure(const SetupReport& report, const ChildPlan& plan);

}  // namespace nsbroker::sandbox
