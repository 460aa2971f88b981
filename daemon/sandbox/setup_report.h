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
  kBindSourcePolicy,
  kCloneBindSource,
  kDevice,
  kConsole,
  kCallerCgroup,
  kCallerRoot,
  kCloneSandbox,
  kWriteIdMaps,
  kWaitForRelease,
  kCallerLimits,
  kPrivateMounts,
  kCreateRoot,
  kPrepareProc,
  kPrepareDevpts,
  kEnterRoot,
  kMountPoint,
  kMountPointNotAllowed,
  kBindMount,
  kTmpfs,
  kProc,
  kDev,
  kDir,
  kSymlink,
  kRemountReadOnly,
  kDataFile,
  kChmod,
  kLockFile,
  kMaskDeniedPath,
  kHostname,
  kLoopback,
  kChdir,
  kStdio,
  kNewSession,
  kDropPrivileges,
  kSeccomp,
  kClientSeccomp,
  kForkCommand,
  kExec,
};

// kSandboxPid: the sandbox process exists (the daemon must reap it); kSandboxReady: the outside
// stage is done with it, the daemon may release it; kFailure: a step failed.
enum class ReportKind : std::uint32_t { kSandboxPid = 1, kFailure = 2, kSandboxReady = 3 };

struct SetupReport {
  ReportKind kind = ReportKind::kFailure;
  Step step = Step::kNone;
  std::int32_t error = 0;   // errno
  std::int32_t index = -1;  // mount operation index, where the step concerns one
  std::int32_t pid = 0;     // kSandboxPid: the sandbox process, in the daemon's pid namespace
  std::int32_t verdict = 0;  // kBindSourcePolicy: a PathVerdict
  std::int32_t rule = -1;    // kBindSourcePolicy: index in the list the verdict names
  char opened_as[1024] = {}; // kBindSourcePolicy: the source as opened (truncated)
};
static_assert(sizeof(SetupReport) <= 4096, "setup reports must stay below PIPE_BUF");

// Child side: async-signal-safe, allocation-free.
void report_sandbox_pid(int report_fd, pid_t pid);
void report_sandbox_ready(int report_fd);
[[noreturn]] void report_failure_and_exit(int report_fd, Step step, int error, int index = -1);
[[noreturn]] void report_policy_denial_and_exit(int report_fd, int index, int verdict, int rule,
                                                const char* opened_as);

// Daemon side: "bind source /root/secret: Permission denied (checked as uid 1000)".
std::string describe_failure(const SetupReport& report, const ChildPlan& plan);

}  // namespace nsbroker::sandbox
