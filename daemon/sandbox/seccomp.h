// The base seccomp filter (DESIGN.md §2): what no sandbox may do, whatever the request.
// Compiled once with libseccomp when the daemon starts, exported as BPF, and loaded by the
// command's process as its very last step before execve.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "core/result.h"

namespace nsbroker::sandbox {

class SeccompProgram {
 public:
  // Blocks nested user namespaces (clone/unshare with CLONE_NEWUSER; clone3 -> ENOSYS since its
  // flags cannot be inspected), keyrings, io_uring (ENOSYS: libuv probes it), bpf,
  // perf_event_open, userfaultfd, kexec and module loading, the new mount API, ptrace, and the
  // TIOCSTI/TIOCLINUX ioctls (masked to 32 bits, CVE-2019-7303).
  static Result<SeccompProgram> compile_base();

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
