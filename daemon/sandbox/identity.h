// Credentials and capabilities of the setup processes and of the command.
#pragma once

#include "sandbox/child_plan.h"

namespace nsbroker::sandbox {

// Each setup stage keeps only the capabilities its own steps need; every other one leaves
// the effective and the permitted set for good. Why: setup opens and reads files the caller
// named (bind sources, --lock-file, --file data, seccomp programs); with CAP_SYS_PTRACE,
// CAP_SYSLOG or a DAC override still effective, the kernel would answer those reads with root's
// view (/proc/kallsyms addresses, another process's /proc/PID/stat or maps) instead of the
// caller's. Returns false with errno set.
//
// Outside stage: setns and mounts (SYS_ADMIN), entering the caller's root (SYS_CHROOT), the
// caller's fs ids and groups and the id maps (SETUID, SETGID). What the sandbox process will
// need stays permitted, not effective: in privileged mode it inherits our sets.
bool keep_outside_stage_capabilities(const ChildPlan& plan);
// Sandbox process: mounts, pivot_root, hostname (SYS_ADMIN), loopback (NET_ADMIN), the drop
// to the caller (SETUID, SETGID, SETPCAP). CAP_DAC_OVERRIDE stays permitted but not effective
// (see set_file_permission_override), and so does the --cap-add set the command will keep.
bool keep_sandbox_stage_capabilities(const ChildPlan& plan);

// Raises or lowers CAP_DAC_OVERRIDE in the effective set. Only for creating entries inside
// the sandbox's own tmpfs instances (a --perms 111 tmpfs still gets its mount points, as in
// bubblewrap); never around anything that resolves host paths.
bool set_file_permission_override(bool enabled);

// The command's identity: the caller's uid/gid (its groups were set by the outside stage),
// no capabilities in any set, securebits locked, no_new_privs. Returns false with errno set.
bool drop_to_caller(const ChildPlan& plan);

}  // namespace nsbroker::sandbox
