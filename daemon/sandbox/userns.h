// User namespaces: the id maps of a sandbox created in userns mode.
#pragma once

#include <sys/types.h>

namespace nsbroker::sandbox {

// Maps exactly the caller's uid and gid (to themselves, or to --uid/--gid inside) into the
// sandbox's user namespace and denies
// setgroups there. Written from the outside stage (root in the initial user namespace, the
// namespace's owner), through the daemon's own /proc (`proc_dir_fd`) because the outside stage
// has joined the caller's mount namespace. Returns false with errno set.
struct IdMapping {
  unsigned inside;
  unsigned outside;
};
bool write_id_maps(int proc_dir_fd, pid_t pid, IdMapping uid, IdMapping gid);

// Whether root may create a user namespace here (a kernel without CONFIG_USER_NS, a seccomp
// filter on the daemon, or a zero limit all say no). Forks a short-lived probe process.
bool root_can_create_user_namespace();

}  // namespace nsbroker::sandbox
