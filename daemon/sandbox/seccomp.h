// The seccomp filter of a sandbox (DESIGN.md §2): the base filter — what no sandbox may do,
// whatever the request — plus the rules the caller's policy profile adds. Compiled with
// libseccomp once per policy load and profile, exported as BPF (through a memfd: libseccomp
// 2.5.4 lacks seccomp_export_bpf_mem), and loaded by the command's process as its very last
// step before execve.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace nsbroker::sandbox {

// One rule a policy profile adds. Rules can only deny: the action is an errno or killing the
// process, never "allow".
struct SyscallRule {
  enum class Action { kErrno, kKillProcess };
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kMaskedEq };
  struct Condition {
    unsigned index = 0;  // argument 0..5
    Op op = Op::kEq;
    std::uint64_t value = 0;
    std::uint64_t mask = 0;  // kMaskedEq only
  };

  std::string syscall;  // libseccomp's name, e.g. "socket"
  Action action = Action::kErrno;
  int error = 0;        // kErrno: the errno the call returns
  std::vector<Condition> conditions;  // all must hold; none: every call
};

class SeccompProgram {
 public:
  // The base filter alone. Blocks nested user namespaces (clone/unshare with CLONE_NEWUSER;
  // clone3 -> ENOSYS since its flags cannot be inspected), keyrings, io_uring (ENOSYS: libuv
  // probes it), bpf, perf_event_open, userfaultfd, kexec and module loading, the new mount
  // API, ptrace, and the TIOCSTI/TIOCLINUX ioctls (masked to 32 bits, CVE-2019-7303).
  static Result<SeccompProgram> compile_base();

  // The base filter with `rules` added after it. The base rules are always present; a rule
  // can only add denials. Fails (ERROR_INTERNAL, naming the rule) on an unknown syscall, an
  // argument index above 5, the same argument twice in one rule, or a rule libseccomp
  // cannot combine with an earlier one. EQ with a value below 2^32 compares the low 32 bits
  // only (the kernel ignores the upper half of int arguments, so a 64-bit compare could be
  // bypassed; for a denial the 32-bit compare only matches more).
  static Result<SeccompProgram> compile(const std::vector<SyscallRule>& rules);

  // The errno the base filter always returns for `syscall` (a rule without conditions), or
  // nothing when the base filter has no such rule. A profile rule for such a syscall would be
  // dropped by libseccomp, so the policy validator refuses it.
  static std::optional<int> base_unconditional_errno(std::string_view syscall);

  const sock_fprog& program() const { return program_; }
  std::size_t instruction_count() const { return filter_.size(); }

  SeccompProgram(const SeccompProgram& other) : filter_(other.filter_) { point_program(); }
  SeccompProgram(SeccompProgram&& other) noexcept : filter_(std::move(other.filter_)) { point_program(); }
  SeccompProgram& operator=(const SeccompProgram&) = delete;
  SeccompProgram& operator=(SeccompProgram&&) = delete;

 private:
  explicit SeccompProgram(std::vector<sock_filter> filter) : filter_(std::move(filter)) { point_program(); }
  void point_program() {
    program_.len = static_cast<unsigned short>(filter_.size());
    program_.filter = filter_.data();
  }
  std::vector<sock_filter> filter_;
  sock_fprog program_{};
};

// Child side: installs `program` (no_new_privs must already be set). False with errno set.
bool load_seccomp(const sock_fprog& program);

}  // namespace nsbroker::sandbox
