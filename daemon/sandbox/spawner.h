// The spawner: the only place that knows the order of the sandbox setup steps.
//
//   daemon ──clone──▶ outside stage (root, initial user namespace, non-dumpable)
//                       enters the caller's cgroups, joins its namespaces, keeps only the
//                       capabilities it needs, opens bind sources as the caller and inside
//                       the caller's root, clones the sandbox process as the daemon's child
//                       (CLONE_PARENT), writes its id maps (userns mode), reports, exits.
//   daemon            registers the sandbox's PID namespace, gives the sandbox process the
//                       caller's rlimits and nice value, releases it.
//                     sandbox process (PID 1 of a new pid namespace)
//                       builds the new root, drops to the caller, execs the command
//                       (or forks it and stays as its init).
//
// Progress comes back on the setup report pipe (sandbox pid, ready, or a failing step); end of
// file without a failure means the command was executed.
#pragma once

#include <sys/types.h>

#include "core/result.h"
#include "sandbox/child_plan.h"
#include "wire/unique_fd.h"

namespace nsbroker::sandbox {

struct SpawnHandles {
  pid_t outside_pid = -1;
  UniqueFd outside_pidfd;  // becomes readable when the outside stage exits (reap it then)
  UniqueFd report;         // read end of the setup report pipe
  UniqueFd release;        // one byte here lets the sandbox process start its setup
};

// Starts the setup; never waits for the children. `plan` must stay alive until the outside
// stage has exited (its memory is copied into the children at clone time).
Result<SpawnHandles> start_sandbox(ChildPlan& plan);

}  // namespace nsbroker::sandbox
