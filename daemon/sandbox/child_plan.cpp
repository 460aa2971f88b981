#include "sandbox/child_plan.h"

#include <sched.h>

#include <string_view>

#include "auth/caller_context.h"
#include "policy/path_rules_view.h"
#include "sandbox/seccomp.h"

namespace nsbroker::sandbox {
namespace {

std::uint64_t sandbox_clone_flags(const policy::Plan& plan) {
  std::uint64_t flags = CLONE_NEWPID | CLONE_NEWNS;
  if (plan.mode == policy::SandboxMode::kUserNamespace) flags |= CLONE_NEWUSER;
  if (plan.unshare_net) flags |= CLONE_NEWNET;
  if (plan.unshare_ipc) flags |= CLONE_NEWIPC;
  if (plan.unshare_uts) flags |= CLONE_NEWUTS;
  if (plan.unshare_cgroup) flags |= CLONE_NEWCGROUP;
  return flags;
}

// The value of NAME in the command's environment, or null.
const char* find_env(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& entry : env) {
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
        entry[name.size()] == '=') {
      return entry.c_str() + name.size() + 1;
    }
  }
  return nullptr;
}

std::vector<char*> null_terminated(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

const char* empty_to_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace

ChildPlan make_child_plan(const policy::Plan& plan, const auth::Caller& caller,
                          const RequestFds& fds, int proc_dir_fd, int netns_fd) {
  ChildPlan child;
  child.mode = plan.mode;
  child.sandbox_clone_flags = sandbox_clone_flags(plan);
  if (netns_fd >= 0) {
    child.netns_fd = netns_fd;
    child.sandbox_clone_flags &= ~static_cast<std::uint64_t>(CLONE_NEWNET);
  }
  child.uid = caller.uid;
  child.gid = caller.gid;
  child.groups = caller.groups;
  child.caller_pidfd = caller.pidfd->get();
  child.caller_root_fd = caller.context->root.get();
  child.umask = caller.context->umask;
  for (const std::string& file : caller.context->cgroup_procs) child.cgroup_procs.push_back(file.c_str());
  child.fds = fds;
  child.proc_dir_fd = proc_dir_fd;
  child.device_trees.fill(-1);
  for (const policy::MountStep& step : plan.mounts) {
    ChildMount mount;
    mount.kind = step.kind;
    mount.source = step.source.c_str();
    mount.dest = step.dest.c_str();
    mount.perms = step.perms ? static_cast<int>(*step.perms) : -1;
    mount.size_bytes = step.size_bytes;
    if (step.source_fd) mount.source_fd = fds.data[*step.source_fd];
    mount.ignore_missing = step.ignore_missing_source;
    child.mounts.push_back(mount);
    if (step.kind == wire::MOUNT_DEV) child.needs_devices = true;
  }
  child.argv = null_terminated(plan.argv);
  child.command = plan.argv[0].c_str();
  if (!plan.argv0.empty()) child.argv[0] = const_cast<char*>(plan.argv0.c_str());
  child.inside_uid = plan.uid_inside.value_or(caller.uid);
  child.inside_gid = plan.gid_inside.value_or(caller.gid);
  child.capabilities_inside = plan.capabilities_inside;
  child.envp = null_terminated(plan.env);
  if (const char* path = find_env(plan.env, "PATH")) child.search_path = path;
  child.home = find_env(plan.env, "HOME");
  child.chdir = empty_to_null(plan.chdir);
  child.cwd_path = empty_to_null(plan.cwd_path);
  child.hostname = empty_to_null(plan.hostname);
  child.as_pid_1 = plan.as_pid_1;
  child.seccomp = plan.seccomp->program();
  child.path_rules = policy::view_of(plan.path_rules);
  child.client_filters.resize(plan.client_filter_fds.size());
  for (std::size_t i = 0; i < plan.client_filter_fds.size(); ++i) {
    child.client_filters[i].fd = fds.data[plan.client_filter_fds[i]];
  }
  // Sized now: the outside stage may not allocate.
  child.opened_paths.assign(child.mounts.size() * ChildPlan::kOpenedPathBytes, '\0');
  child.masks.assign(child.mounts.size() * child.path_rules.deny.size(), 0);
  if (child.path_rules.deny_other_users_homes) {
    child.other_homes.assign(ChildPlan::kMaxOtherHomes * ChildPlan::kHomeNameBytes, '\0');
  }
  return child;
}

}  // namespace nsbroker::sandbox
