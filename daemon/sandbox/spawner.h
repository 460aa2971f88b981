// The spawner: the only place that knows the order of the sandbox setup steps.
//
//   daemon ──clone──▶ outside stage (root, initial user namespace, non-dumpable)
//                       joins the caller's namespaces, opens bind sources as the caller,
//                       clones the sandbox process as the daemon's child (CLONE_PARENT),
//                       writes its id maps (userns mode), lets it go, exits.
//                     sandbox process (PID 1 of a new pid namespace)
//                       builds the new root, drops to the caller, execs the command
//                       (or forks it and stays as its init).
//
// Progress comes back on the setup report pipe (sandbox pid, or a failing step); end of file
// without a failure means the command was executed.
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
};

// Starts the setup; never waits for the children. `plan` must stay alive until the outside
// stage has exited (its memory is copied into the children at clone time).
Result<SpawnHandles> start_sandbox(ChildPlan& plan);

}  // namespace nsbroker::sandbox
