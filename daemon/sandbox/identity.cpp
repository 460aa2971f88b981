#include "sandbox/identity.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "sandbox/syscalls.h"

namespace nsbroker::sandbox {
namespace {

int capget(__user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return static_cast<int>(::syscall(SYS_capget, &header, data));
}

int capset(__user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return static_cast<int>(::syscall(SYS_capset, &header, data));
}

void clear_capability(__user_cap_data_struct (&data)[2], int cap) {
  data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
}

constexpr std::uint64_t bit(int cap) { return std::uint64_t{1} << cap; }

constexpr std::uint64_t kOutsideStageNeeds =
    bit(CAP_SYS_ADMIN) | bit(CAP_SYS_CHROOT) | bit(CAP_SETUID) | bit(CAP_SETGID);
constexpr std::uint64_t kSandboxStageNeeds = bit(CAP_SYS_ADMIN) | bit(CAP_NET_ADMIN) |
                                             bit(CAP_SETUID) | bit(CAP_SETGID) | bit(CAP_SETPCAP);

// Not effective during setup: CAP_DAC_OVERRIDE (raised only around entries in the sandbox's
// own tmpfs) and the --cap-add set the command keeps (user namespace mode only).
std::uint64_t sandbox_stage_permitted(const ChildPlan& plan) {
  return kSandboxStageNeeds | bit(CAP_DAC_OVERRIDE) | plan.capabilities_inside;
}

// Sets exactly these effective and permitted sets (inheritable: empty). `effective` must be
// part of `permitted`, and both part of what the process holds.
bool restrict_capabilities(std::uint64_t effective, std::uint64_t permitted) {
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<std::uint32_t>(effective >> (32 * i));
    data[i].permitted = static_cast<std::uint32_t>(permitted >> (32 * i));
  }
  return capset(data) == 0;
}

// Every capability the command may not have leaves the bounding set.
bool drop_bounding_set(std::uint64_t keep) {
  // Walk up until the kernel says the capability does not exist.
  for (int cap = 0;; ++cap) {
    if (cap < 64 && (keep >> cap & 1)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return errno == EINVAL && cap > CAP_SETPCAP;
  }
}

}  // namespace

bool keep_outside_stage_capabilities(const ChildPlan& plan) {
  // Permitted also holds what the sandbox process needs later: in privileged mode it is
  // cloned from us and can only keep what we still have.
  return restrict_capabilities(kOutsideStageNeeds, kOutsideStageNeeds | sandbox_stage_permitted(plan));
}

bool keep_sandbox_stage_capabilities(const ChildPlan& plan) {
  return restrict_capabilities(kSandboxStageNeeds, sandbox_stage_permitted(plan));
}

bool set_file_permission_override(bool enabled) {
  __user_cap_data_struct data[2] = {};
  if (capget(data) < 0) return false;
  if (enabled) data[CAP_TO_INDEX(CAP_DAC_OVERRIDE)].effective |= CAP_TO_MASK(CAP_DAC_OVERRIDE);
  else clear_capability(data, CAP_DAC_OVERRIDE);
  return capset(data) == 0;
}

bool drop_to_caller(const ChildPlan& plan) {
  // Securebits: no capability regained through uid 0 or setuid fixups, ever, locked.
  constexpr int kLockedBits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                              SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
  if (::prctl(PR_SET_SECUREBITS, kLockedBits, 0, 0, 0) < 0) return false;
  if (!drop_bounding_set(plan.capabilities_inside)) return false;
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return false;
  if (sys::set_res_gid(plan.inside_gid) < 0 || sys::set_res_uid(plan.inside_uid) < 0) return false;
  // Nothing, or exactly the --cap-add set (userns mode only, see policy): kept across execve
  // through the ambient set, since the command is not root.
  __user_cap_data_struct kept[2] = {};
  for (int i = 0; i < 2; ++i) {
    auto bits = static_cast<std::uint32_t>(plan.capabilities_inside >> (32 * i));
    kept[i].permitted = kept[i].effective = kept[i].inheritable = bits;
  }
  if (capset(kept) < 0) return false;
  for (int cap = 0; cap < 64; ++cap) {
    if ((plan.capabilities_inside >> cap & 1) &&
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
      return false;
    }
  }
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

}  // namespace nsbroker::sandbox
