#include "sandbox/seccomp.h"

#include <sys/ioctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "wire/unique_fd.h"

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

namespace nsbroker::sandbox {
namespace {

struct Rule {
  const char* syscall;
  int error;  // errno returned
  // Optional argument condition.
  bool has_condition = false;
  scmp_arg_cmp condition{};
};

Rule deny(const char* name, int error) { return Rule{name, error}; }

Rule deny_if(const char* name, int error, scmp_arg_cmp condition) {
  return Rule{name, error, true, condition};
}

std::vector<Rule> base_rules() {
  const scmp_arg_cmp new_user_flag = SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
  std::vector<Rule> rules = {
      deny_if("unshare", EPERM, new_user_flag),
      deny_if("clone", EPERM, new_user_flag),
      deny("clone3", ENOSYS),
      deny_if("ioctl", EPERM, SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCSTI)),
      deny_if("ioctl", EPERM, SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCLINUX)),
  };
  for (const char* name : {"keyctl", "add_key", "request_key", "bpf", "perf_event_open",
                           "userfaultfd", "kexec_load", "kexec_file_load", "init_module",
                           "finit_module", "delete_module", "ptrace"}) {
    rules.push_back(deny(name, EPERM));
  }
  for (const char* name : {"io_uring_setup", "io_uring_enter", "io_uring_register", "open_tree",
                           "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
                           "mount_setattr"}) {
    rules.push_back(deny(name, ENOSYS));
  }
  return rules;
}

using Context = std::unique_ptr<void, decltype(&seccomp_release)>;

Failure seccomp_failure(const std::string& what, int rc) {
  return fail(wire::ERROR_INTERNAL,
              "seccomp: " + what + ": " + std::strerror(rc < 0 ? -rc : rc));
}

Result<std::vector<sock_filter>> export_filter(scmp_filter_ctx ctx) {
  UniqueFd memfd(::memfd_create("nsbroker-seccomp", MFD_CLOEXEC));
  if (!memfd) return seccomp_failure("memfd_create", errno);
  // libseccomp 2.5.4 lacks seccomp_export_bpf_mem: export to a memfd and read it back.
  if (int rc = seccomp_export_bpf(ctx, memfd.get()); rc < 0) return seccomp_failure("export", rc);
  off_t size = ::lseek(memfd.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return seccomp_failure("exported program has a bad size", EINVAL);
  }
  std::vector<sock_filter> filter(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (::pread(memfd.get(), filter.data(), static_cast<std::size_t>(size), 0) != size) {
    return seccomp_failure("reading the exported program", errno);
  }
  return filter;
}

}  // namespace

Result<SeccompProgram> SeccompProgram::compile_base() {
  Context ctx(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
  if (!ctx) return seccomp_failure("seccomp_init", ENOMEM);
#if defined(__x86_64__)
  // A 64-bit process can still make 32-bit syscalls: filter those ABIs too.
  for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    if (int rc = seccomp_arch_add(ctx.get(), arch); rc < 0 && rc != -EEXIST) {
      return seccomp_failure("adding a 32-bit architecture", rc);
    }
  }
#endif
  for (const Rule& rule : base_rules()) {
    int number = seccomp_syscall_resolve_name(rule.syscall);
    if (number == __NR_SCMP_ERROR) return seccomp_failure(std::string("unknown syscall ") + rule.syscall, EINVAL);
    int rc = rule.has_condition
                 ? seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(rule.error), number, 1, rule.condition)
                 : seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(rule.error), number, 0);
    if (rc < 0) return seccomp_failure(std::string("rule for ") + rule.syscall, rc);
  }
  auto filter = export_filter(ctx.get());
  if (!filter) return filter.failure();
  return SeccompProgram(std::move(filter.value()));
}

bool load_seccomp(const sock_fprog& program) {
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

}  // namespace nsbroker::sandbox
