// The outside stage's view of the world: the caller's namespaces and the caller's permissions.
//
// Everything a request names on the host (bind sources, the devices of --dev, the terminal)
// is opened here, in the caller's mount namespace, with the caller's fsuid/fsgid and all its
// supplementary groups and without CAP_DAC_*, so the sandbox can never reach a file the
// caller could not (DESIGN.md §2).
#pragma once

#include "sandbox/child_plan.h"

namespace nsbroker::sandbox {

// Joins the caller's mount, network, IPC, UTS and cgroup namespaces through its pidfd.
// Returns false with errno set.
bool join_caller_namespaces(const ChildPlan& plan);

// Makes the caller's root directory our root: a chrooted caller's sandbox is built from what
// is inside its chroot, exactly as its own bwrap would be (after setns our root is the mount
// namespace's root, which a chrooted caller cannot reach). Returns an O_PATH fd of the
// namespace root, to leave by, or -1 with errno set. Run after become_caller_for_files: the
// chroot is checked with the caller's permissions.
int enter_caller_root(const ChildPlan& plan);

// Back to the namespace root (the sandbox process needs a mount root to pivot from) and closes
// `namespace_root`. Returns false with errno set.
bool leave_caller_root(int namespace_root);

// setgroups(caller groups) + setfsgid + setfsuid. Changing fsuid from 0 clears the file
// capabilities (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER...) from the effective set.
bool become_caller_for_files(const ChildPlan& plan);

// Back to fsuid 0 (to write id maps of the sandbox process). Supplementary groups stay. The
// kernel puts the permitted file capabilities back into the effective set with fsuid 0: call
// it only once no caller-named file will be opened any more.
void become_root_for_files();

// Opens each bind source as the caller and copies it into a detached mount tree with the
// mount attributes of its kind. On failure reports the step and index and exits.
void open_bind_sources(ChildPlan& plan);

// Opens the device nodes of --dev and the caller's terminal (for /dev/console).
void open_devices(ChildPlan& plan);

}  // namespace nsbroker::sandbox
