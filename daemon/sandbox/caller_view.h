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

// setgroups(caller groups) + setfsgid + setfsuid. Changing fsuid from 0 clears the file
// capabilities (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER...) from the effective set.
bool become_caller_for_files(const ChildPlan& plan);

// Back to fsuid 0 (to write id maps of the sandbox process). Supplementary groups stay.
void become_root_for_files();

// Opens each bind source as the caller and copies it into a detached mount tree with the
// mount attributes of its kind. On failure reports the step and index and exits.
void open_bind_sources(ChildPlan& plan);

// Opens the device nodes of --dev and the caller's terminal (for /dev/console).
void open_devices(ChildPlan& plan);

}  // namespace nsbroker::sandbox
