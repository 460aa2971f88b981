#include "sandbox/spawner.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sandbox/caller_view.h"
#include "sandbox/cgroups.h"
#include "sandbox/command.h"
#include "sandbox/fds.h"
#include "sandbox/identity.h"
#include "sandbox/mounts.h"
#include "sandbox/net.h"
#include "sandbox/setup_report.h"
#include "sandbox/syscalls.h"
#include "sandbox/userns.h"

namespace nsbroker::sandbox {
namespace {

void fail_unless(bool ok, const ChildPlan& plan, Step step) {
  if (!ok) report_failure_and_exit(plan.report_fd, step, errno);
}

// Blocks until the daemon releases the sandbox process: it has registered the sandbox's PID
// namespace (so no request from inside can arrive unrecognised) and given it the caller's
// limits. End of file means the daemon refused or went away (it knows why): end silently.
void wait_for_release(ChildPlan& plan) {
  char go = 0;
  ssize_t n;
  do {
    n = ::read(plan.release_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(127);
  ::close(plan.release_fd);
}

// After the mounts exist, a failing step first removes what was created on the host.
void fail_cleanly_unless(bool ok, const ChildPlan& plan, SandboxRoot& root, Step step) {
  if (ok) return;
  int error = errno;
  root.remove_created();
  report_failure_and_exit(plan.report_fd, step, error);
}

void change_directory(const ChildPlan& plan, SandboxRoot& root) {
  if (plan.chdir) {
    fail_cleanly_unless(::chdir(plan.chdir) == 0, plan, root, Step::kChdir);
    return;
  }
  // As bubblewrap: keep the caller's cwd if it exists in the sandbox, else $HOME, else /.
  if (plan.cwd_path && ::chdir(plan.cwd_path) == 0) return;
  if (plan.home && ::chdir(plan.home) == 0) return;
  fail_cleanly_unless(::chdir("/") == 0, plan, root, Step::kChdir);
}

// Runs in the sandbox process: PID 1 of the new pid namespace, in its new mount namespace.
[[noreturn]] void run_sandbox_stage(ChildPlan& plan) {
  wait_for_release(plan);
  // The daemon's /proc and the caller's pidfd, root and cwd were for the outside stage only.
  ::close(plan.proc_dir_fd);
  ::close(plan.caller_pidfd);
  ::close(plan.caller_root_fd);
  ::close(plan.fds.cwd);
  // Our parent is the daemon (CLONE_PARENT): the sandbox must not outlive it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  fail_unless(keep_sandbox_stage_capabilities(plan), plan, Step::kDropPrivileges);
  fail_unless(make_mounts_private(), plan, Step::kPrivateMounts);
  prepare_fresh_instances(plan);
  SandboxRoot root;
  enter_staging_root(plan, root);
  apply_mount_operations(plan, root);
  enter_sandbox_root(plan);
  if (plan.hostname) {
    bool named = ::sethostname(plan.hostname, std::strlen(plan.hostname)) == 0;
    fail_cleanly_unless(named, plan, root, Step::kHostname);
  }
  if (plan.sandbox_clone_flags & CLONE_NEWNET) {
    fail_cleanly_unless(bring_up_loopback(), plan, root, Step::kLoopback);
  }
  change_directory(plan, root);
  fail_cleanly_unless(read_client_filters(plan), plan, root, Step::kClientSeccomp);
  // Found now, while a failure can still clean up; executed after the privileges are gone.
  CommandPath command;
  errno = resolve_command(plan, command);
  fail_cleanly_unless(errno == 0, plan, root, Step::kExec);
  fail_cleanly_unless(::setsid() >= 0, plan, root, Step::kNewSession);
  fail_cleanly_unless(drop_to_caller(plan), plan, root, Step::kDropPrivileges);
  // Changing credentials reset these two; the command's execve makes it dumpable again.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  close_all_but_stdio_on_exec();
  if (plan.as_pid_1) {
    // No init to hold the --lock-file locks: the command inherits them.
    for (std::size_t i = 0; i < plan.lock_count; ++i) ::fcntl(plan.lock_fds[i], F_SETFD, 0);
    exec_command(plan, command.c_str());
  }
  run_as_init(plan, command.c_str());
}

// Into the caller's cgroups, before the caller's cgroup namespace hides the daemon's view.
void enter_cgroups(const ChildPlan& plan) {
  int failed = enter_caller_cgroups(plan);
  if (failed >= 0) report_failure_and_exit(plan.report_fd, Step::kCallerCgroup, errno, failed);
}

// Runs in the outside stage: root in the initial user namespace, a copy of the daemon.
[[noreturn]] void run_outside_stage(ChildPlan& plan) {
  close_unneeded_fds(plan);
  ::umask(plan.umask);  // what is created for the caller gets the caller's umask; so does the command
  fail_unless(install_caller_stdio(plan), plan, Step::kStdio);
  enter_cgroups(plan);
  fail_unless(join_caller_namespaces(plan), plan, Step::kJoinCallerNamespaces);
  // A pooled network namespace replaces the caller's; the sandbox is cloned into it.
  if (plan.netns_fd >= 0) {
    fail_unless(::setns(plan.netns_fd, CLONE_NEWNET) == 0, plan, Step::kJoinCallerNamespaces);
    ::close(plan.netns_fd);
    plan.netns_fd = -1;  // its number may be reused before the sandbox process is cloned
  }
  fail_unless(keep_outside_stage_capabilities(plan), plan, Step::kDropPrivileges);
  fail_unless(become_caller_for_files(plan), plan, Step::kBecomeCaller);
  int namespace_root = enter_caller_root(plan);
  fail_unless(namespace_root >= 0, plan, Step::kCallerRoot);
  open_bind_sources(plan);
  open_devices(plan);
  fail_unless(leave_caller_root(namespace_root), plan, Step::kCallerRoot);
  block_forwarded_signals();
  pid_t sandbox = sys::clone_process(plan.sandbox_clone_flags | CLONE_PARENT, nullptr);
  fail_unless(sandbox >= 0, plan, Step::kCloneSandbox);
  if (sandbox == 0) run_sandbox_stage(plan);
  report_sandbox_pid(plan.report_fd, sandbox);
  if (plan.mode == policy::SandboxMode::kUserNamespace) {
    become_root_for_files();
    if (!write_id_maps(plan.proc_dir_fd, sandbox, {plan.inside_uid, plan.uid},
                       {plan.inside_gid, plan.gid})) {
      report_failure_and_exit(plan.report_fd, Step::kWriteIdMaps, errno);
    }
  }
  report_sandbox_ready(plan.report_fd);
  ::_exit(0);
}

bool make_pipe(int (&fds)[2]) { return ::pipe2(fds, O_CLOEXEC) == 0; }

void collect_kept_fds(ChildPlan& plan) {
  // Not the release pipe's write end: only the daemon holds it.
  plan.keep_fds = {plan.caller_pidfd, plan.caller_root_fd, plan.fds.stdio[0], plan.fds.stdio[1],
                   plan.fds.stdio[2], plan.fds.cwd,        plan.proc_dir_fd,  plan.report_fd,
                   plan.release_fd,   plan.netns_fd};
  for (const ClientFilter& filter : plan.client_filters) plan.keep_fds.push_back(filter.fd);
  for (const ChildMount& mount : plan.mounts) {
    if (mount.source_fd >= 0) plan.keep_fds.push_back(mount.source_fd);
  }
  std::sort(plan.keep_fds.begin(), plan.keep_fds.end());
  plan.keep_fds.erase(std::unique(plan.keep_fds.begin(), plan.keep_fds.end()), plan.keep_fds.end());
  if (!plan.keep_fds.empty() && plan.keep_fds.front() < 0) plan.keep_fds.erase(plan.keep_fds.begin());
}

}  // namespace

Result<SpawnHandles> start_sandbox(ChildPlan& plan) {
  int report[2];
  int release[2];
  if (!make_pipe(report)) return fail(wire::ERROR_INTERNAL, std::string("pipe: ") + std::strerror(errno));
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);
  if (!make_pipe(release)) return fail(wire::ERROR_INTERNAL, std::string("pipe: ") + std::strerror(errno));
  UniqueFd release_read(release[0]);
  UniqueFd release_write(release[1]);
  plan.report_fd = report_write.get();
  plan.release_fd = release_read.get();
  collect_kept_fds(plan);

  SpawnHandles handles;
  int pidfd = -1;
  // Why fork semantics (no CLONE_VM): the outside stage may block on a caller's path (a
  // hanging FUSE mount); the daemon must go on serving. The daemon stays small, so the copy
  // is cheap.
  pid_t pid = sys::clone_process(0, &pidfd);
  if (pid < 0) return fail(wire::ERROR_INTERNAL, std::string("clone: ") + std::strerror(errno));
  if (pid == 0) run_outside_stage(plan);
  handles.outside_pid = pid;
  handles.outside_pidfd.reset(pidfd);
  handles.report = std::move(report_read);
  handles.release = std::move(release_write);
  return handles;
}

}  // namespace nsbroker::sandbox
