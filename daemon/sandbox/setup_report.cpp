#include "sandbox/setup_report.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/child_plan.h"

namespace nsbroker::sandbox {
namespace {

void write_report(int fd, const SetupReport& report) {
  ssize_t n;
  do {
    n = ::write(fd, &report, sizeof(report));
  } while (n < 0 && errno == EINTR);
}

const char* step_name(Step step) {
  switch (step) {
    case Step::kNone: return "setup";
    case Step::kJoinCallerNamespaces: return "joining the caller's namespaces";
    case Step::kBecomeCaller: return "switching to the caller's file identity";
    case Step::kBindSource: return "bind source";
    case Step::kBindSourcePolicy: return "bind source";
    case Step::kMaskDeniedPath: return "masking a denied path";
    case Step::kCloneBindSource: return "copying bind source";
    case Step::kDevice: return "device";
    case Step::kConsole: return "binding the terminal to /dev/console";
    case Step::kCloneSandbox: return "creating the sandbox namespaces";
    case Step::kWriteIdMaps: return "writing the user namespace id maps";
    case Step::kWaitForRelease: return "waiting for the daemon to release the sandbox";
    case Step::kCallerLimits: return "giving the sandbox the caller's resource limits and nice value";
    case Step::kCallerCgroup: return "entering the caller's cgroup";
    case Step::kCallerRoot: return "entering the caller's root directory";
    case Step::kPrivateMounts: return "making mounts private";
    case Step::kCreateRoot: return "creating the sandbox root";
    case Step::kPrepareProc: return "creating a proc instance";
    case Step::kPrepareDevpts: return "creating a devpts instance";
    case Step::kEnterRoot: return "entering the sandbox root";
    case Step::kMountPoint: return "mount point";
    case Step::kMountPointNotAllowed: return "mount point";
    case Step::kBindMount: return "bind mount on";
    case Step::kTmpfs: return "tmpfs on";
    case Step::kProc: return "proc on";
    case Step::kDev: return "dev on";
    case Step::kDir: return "dir";
    case Step::kSymlink: return "symlink";
    case Step::kRemountReadOnly: return "remount read-only";
    case Step::kDataFile: return "data file";
    case Step::kChmod: return "chmod";
    case Step::kLockFile: return "lock file";
    case Step::kHostname: return "setting the hostname";
    case Step::kLoopback: return "bringing up lo";
    case Step::kChdir: return "chdir";
    case Step::kStdio: return "setting up stdio";
    case Step::kNewSession: return "setsid";
    case Step::kDropPrivileges: return "dropping privileges";
    case Step::kSeccomp: return "loading the seccomp filter";
    case Step::kClientSeccomp: return "reading the client's seccomp program";
    case Step::kForkCommand: return "starting the command";
    case Step::kExec: return "execvp";
  }
  return "setup";
}

// The path a failing step concerns, if any.
std::string subject_of(const SetupReport& report, const ChildPlan& plan) {
  auto mount_at = [&](int i) -> const ChildMount* {
    if (i < 0 || static_cast<std::size_t>(i) >= plan.mounts.size()) return nullptr;
    return &plan.mounts[static_cast<std::size_t>(i)];
  };
  switch (report.step) {
    case Step::kBindSource:
    case Step::kBindSourcePolicy:
    case Step::kCloneBindSource:
      if (auto* m = mount_at(report.index)) {
        return m->source_fd >= 0 ? "(fd " + std::to_string(m->source_fd) + ")" : std::string(m->source);
      }
      return {};
    case Step::kDevice:
      if (report.index >= 0 && static_cast<std::size_t>(report.index) < kDevNodes.size()) {
        return std::string("/dev/") + kDevNodes[static_cast<std::size_t>(report.index)];
      }
      return {};
    case Step::kMountPoint:
    case Step::kMountPointNotAllowed:
    case Step::kBindMount:
    case Step::kTmpfs:
    case Step::kProc:
    case Step::kDev:
    case Step::kDir:
    case Step::kSymlink:
    case Step::kRemountReadOnly:
    case Step::kDataFile:
    case Step::kChmod:
    case Step::kLockFile:
      if (auto* m = mount_at(report.index)) return m->dest;
      return {};
    case Step::kCallerCgroup:
      if (report.index >= 0 && static_cast<std::size_t>(report.index) < plan.cgroup_procs.size()) {
        return plan.cgroup_procs[static_cast<std::size_t>(report.index)];
      }
      return {};
    case Step::kChdir: return plan.chdir ? plan.chdir : (plan.cwd_path ? plan.cwd_path : "");
    case Step::kExec: return plan.command ? plan.command : "";
    default: return {};
  }
}

// Failures caused by the caller's own permissions say whose permissions were checked.
bool is_permission_error(int error) { return error == EACCES || error == EPERM; }

bool step_runs_as_caller(Step step) {
  switch (step) {
    case Step::kBindSource:
    case Step::kMountPoint:
    case Step::kDir:
    case Step::kSymlink:
    case Step::kChdir:
    case Step::kExec: return true;
    default: return false;
  }
}

// "covered by mounts.deny \"/etc/shadow\"" and the like.
std::string policy_reason(const SetupReport& report, const ChildPlan& plan) {
  auto entry = [&](const std::vector<const char*>& list) -> std::string {
    if (report.rule < 0 || static_cast<std::size_t>(report.rule) >= list.size()) return "";
    return std::string(" \"") + list[static_cast<std::size_t>(report.rule)] + "\"";
  };
  const ChildPathRules& rules = plan.path_rules;
  switch (static_cast<PathVerdict>(report.verdict)) {
    case PathVerdict::kDenied: return "covered by mounts.deny" + entry(rules.deny);
    case PathVerdict::kNotReadOnly:
      return "no mounts.read_only or mounts.read_write entry covers it";
    case PathVerdict::kNotReadWrite: return "--bind needs a mounts.read_write entry covering it";
    case PathVerdict::kNotDevice: return "--dev-bind needs a mounts.devices entry covering it";
    case PathVerdict::kOtherUsersHome:
      return "it is in another user's home (mounts.deny_other_users_homes)";
    case PathVerdict::kAllowed: break;
  }
  return "refused";
}

}  // namespace

void report_policy_denial_and_exit(int report_fd, int index, int verdict, int rule,
                                   const char* opened_as) {
  SetupReport report;
  report.kind = ReportKind::kFailure;
  report.step = Step::kBindSourcePolicy;
  report.error = EACCES;
  report.index = index;
  report.verdict = verdict;
  report.rule = rule;
  std::size_t n = 0;
  while (opened_as[n] && n + 1 < sizeof(report.opened_as)) {
    report.opened_as[n] = opened_as[n];
    ++n;
  }
  write_report(report_fd, report);
  ::_exit(127);
}

void report_sandbox_pid(int report_fd, pid_t pid) {
  SetupReport report;
  report.kind = ReportKind::kSandboxPid;
  report.pid = pid;
  write_report(report_fd, report);
}

void report_sandbox_ready(int report_fd) {
  SetupReport report;
  report.kind = ReportKind::kSandboxReady;
  write_report(report_fd, report);
}

void report_failure_and_exit(int report_fd, Step step, int error, int index) {
  SetupReport report;
  report.kind = ReportKind::kFailure;
  report.step = step;
  report.error = error;
  report.index = index;
  write_report(report_fd, report);
  ::_exit(127);
}

std::string describe_failure(const SetupReport& report, const ChildPlan& plan) {
  std::string text = step_name(report.step);
  std::string subject = subject_of(report, plan);
  if (!subject.empty()) text += " " + subject;
  if (report.step == Step::kMountPointNotAllowed) {
    return text + ": missing, and the policy does not allow creating mount points on the host "
                  "(mounts.create_missing_mount_points)";
  }
  if (report.step == Step::kBindSourcePolicy) {
    std::string opened(report.opened_as, strnlen(report.opened_as, sizeof(report.opened_as)));
    if (opened != subject) text += " (opened as " + opened + ")";
    return text + ": denied by policy: " + policy_reason(report, plan);
  }
  text += ": ";
  text += std::strerror(report.error);
  if (is_permission_error(report.error) && step_runs_as_caller(report.step)) {
    text += " (checked as uid " + std::to_string(plan.uid) + ")";
  }
  return text;
}

}  // namespace nsbroker::sandbox
