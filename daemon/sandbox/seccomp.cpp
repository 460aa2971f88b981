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
#include <optional>
#include <string>

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

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

// Why every namespace kind, not just users: a sandbox that could make a new PID namespace (or
// join another one with setns) could look like something other than a descendant of its own
// sandbox, and any new namespace is a view its caller's policy never judged.
constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                             CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                             CLONE_NEWNET};

std::vector<Rule> base_rules() {
  std::vector<Rule> rules = {
      deny("setns", EPERM),
      // For clone(2) the low byte is the exit signal, so CLONE_NEWTIME is unshare-only.
      deny_if("unshare", EPERM, SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_NEWTIME, CLONE_NEWTIME)),
      deny("clone3", ENOSYS),
      deny_if("ioctl", EPERM, SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCSTI)),
      deny_if("ioctl", EPERM, SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCLINUX)),
  };
  for (unsigned long flag : kNamespaceFlags) {
    rules.push_back(deny_if("unshare", EPERM, SCMP_A0_64(SCMP_CMP_MASKED_EQ, flag, flag)));
    rules.push_back(deny_if("clone", EPERM, SCMP_A0_64(SCMP_CMP_MASKED_EQ, flag, flag)));
  }
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

scmp_compare to_libseccomp(SyscallRule::Op op) {
  switch (op) {
    case SyscallRule::Op::kEq: return SCMP_CMP_EQ;
    case SyscallRule::Op::kNe: return SCMP_CMP_NE;
    case SyscallRule::Op::kLt: return SCMP_CMP_LT;
    case SyscallRule::Op::kLe: return SCMP_CMP_LE;
    case SyscallRule::Op::kGt: return SCMP_CMP_GT;
    case SyscallRule::Op::kGe: return SCMP_CMP_GE;
    case SyscallRule::Op::kMaskedEq: return SCMP_CMP_MASKED_EQ;
  }
  return _SCMP_CMP_MIN;
}

scmp_arg_cmp to_libseccomp(const SyscallRule::Condition& condition) {
  scmp_arg_cmp cmp{};
  cmp.arg = condition.index;
  cmp.op = to_libseccomp(condition.op);
  cmp.datum_a = condition.value;
  if (condition.op == SyscallRule::Op::kMaskedEq) {
    cmp.datum_a = condition.mask;
    cmp.datum_b = condition.value;
  } else if (condition.op == SyscallRule::Op::kEq && condition.value <= 0xFFFFFFFFu) {
    // Why: int arguments are read by the kernel from the low 32 bits only; a 64-bit EQ
    // would let a caller dodge the rule by setting the upper half.
    cmp.op = SCMP_CMP_MASKED_EQ;
    cmp.datum_a = 0xFFFFFFFFu;
    cmp.datum_b = condition.value;
  }
  return cmp;
}

std::optional<Failure> add_profile_rule(scmp_filter_ctx ctx, const SyscallRule& rule,
                                        std::size_t position) {
  std::string what = "profile rule " + std::to_string(position + 1) + " (" + rule.syscall + ")";
  int number = seccomp_syscall_resolve_name(rule.syscall.c_str());
  if (number == __NR_SCMP_ERROR) return seccomp_failure(what + ": unknown syscall", EINVAL);
  if (rule.conditions.size() > 6) return seccomp_failure(what + ": more than 6 conditions", EINVAL);
  std::vector<scmp_arg_cmp> conditions;
  unsigned seen = 0;
  for (const SyscallRule::Condition& condition : rule.conditions) {
    if (condition.index > 5) return seccomp_failure(what + ": argument index above 5", EINVAL);
    if (seen & (1u << condition.index)) {
      return seccomp_failure(what + ": argument " + std::to_string(condition.index) + " twice", EINVAL);
    }
    seen |= 1u << condition.index;
    conditions.push_back(to_libseccomp(condition));
  }
  uint32_t action = rule.action == SyscallRule::Action::kKillProcess
                        ? SCMP_ACT_KILL_PROCESS
                        : SCMP_ACT_ERRNO(static_cast<uint32_t>(rule.error));
  if (rule.action == SyscallRule::Action::kErrno && (rule.error <= 0 || rule.error > 4095)) {
    return seccomp_failure(what + ": errno out of range", EINVAL);
  }
  int rc = seccomp_rule_add_array(ctx, action, number, static_cast<unsigned>(conditions.size()),
                                  conditions.empty() ? nullptr : conditions.data());
  if (rc == -EEXIST) {
    return seccomp_failure(what + ": conflicts with an earlier rule for the same syscall (on "
                           "32-bit x86, socket calls share socketcall, so their rules must "
                           "use one action)", -rc);
  }
  if (rc < 0) return seccomp_failure(what, rc);
  return std::nullopt;
}

}  // namespace

Result<SeccompProgram> SeccompProgram::compile_base() { return compile({}); }

Result<SeccompProgram> SeccompProgram::compile(const std::vector<SyscallRule>& rules) {
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
  // The base rules go in first: libseccomp keeps the first of two rules it cannot tell
  // apart, so nothing added later can change what the base filter does.
  for (const Rule& rule : base_rules()) {
    int number = seccomp_syscall_resolve_name(rule.syscall);
    if (number == __NR_SCMP_ERROR) return seccomp_failure(std::string("unknown syscall ") + rule.syscall, EINVAL);
    int rc = rule.has_condition
                 ? seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(rule.error), number, 1, rule.condition)
                 : seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(rule.error), number, 0);
    if (rc < 0) return seccomp_failure(std::string("rule for ") + rule.syscall, rc);
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (auto failure = add_profile_rule(ctx.get(), rules[i], i)) return *failure;
  }
  auto filter = export_filter(ctx.get());
  if (!filter) return filter.failure();
  if (filter.value().size() > BPF_MAXINSNS) {
    return fail(wire::ERROR_INTERNAL, "seccomp: the filter has " +
                                          std::to_string(filter.value().size()) +
                                          " instructions, more than the kernel's " +
                                          std::to_string(BPF_MAXINSNS) + ": use fewer rules");
  }
  return SeccompProgram(std::move(filter.value()));
}

std::optional<int> SeccompProgram::base_unconditional_errno(std::string_view syscall) {
  for (const Rule& rule : base_rules()) {
    if (!rule.has_condition && syscall == rule.syscall) return rule.error;
  }
  return std::nullopt;
}

bool load_seccomp(const sock_fprog& program) {
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

}  // namespace nsbroker::sandbox
