// nsbroker-test-deny-userns: run a command as if it were on a host that forbids user namespaces.
//
//   nsbroker-test-deny-userns --errno EPERM|ENOSPC|EINVAL -- CMD [ARGS...]
//
// The test suite uses this to simulate restricted hosts on an unrestricted kernel (DESIGN.md §3):
//   EPERM   Docker's default seccomp profile (and similar container runtimes),
//   ENOSPC  a host with user.max_user_namespaces = 0,
//   EINVAL  a kernel built without CONFIG_USER_NS (Synology-style NAS kernels).
// Wrapping a client simulates a restricted caller; wrapping nsbrokerd forces privileged mode.
//
// What it does, in this order:
//   1. builds a seccomp filter (libseccomp) whose default action is ALLOW and which
//        - fails unshare() and clone() with the chosen errno when CLONE_NEWUSER is in the flags
//          (masked compare on the flags argument, so other flag bits do not matter),
//        - fails every clone3() with ENOSYS: its flags live in memory, which seccomp cannot
//          read, so clone3 can only be refused as a whole. ENOSYS (not EPERM) makes glibc and
//          nsbrokerd fall back to clone(), where the flags can be inspected;
//   2. sets PR_SET_NO_NEW_PRIVS (needed to load a filter without CAP_SYS_ADMIN, and it keeps a
//      setuid binary from shedding the filter);
//   3. loads the filter, which is inherited by every descendant and survives execve;
//   4. execvp()s CMD.
//
// Exit status: CMD's own, or 2 for a usage error, 1 when the filter cannot be installed,
// 127 when CMD is not found and 126 when it cannot be executed (as env(1) does).
// This is a test tool, not a security boundary: it only needs to be faithful to what the
// restricted hosts do, for the syscalls that create user namespaces.

#include <seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr const char* kProg = "nsbroker-test-deny-userns";
constexpr int kExitUsage = 2;
constexpr int kExitSetup = 1;

struct SimulatedHost {
  std::string_view name;
  int err;
  std::string_view what;
};

constexpr SimulatedHost kHosts[] = {
    {"EPERM", EPERM, "Docker's default seccomp profile"},
    {"ENOSPC", ENOSPC, "user.max_user_namespaces = 0"},
    {"EINVAL", EINVAL, "a kernel without CONFIG_USER_NS"},
};

void print_usage(FILE* out) {
  std::fprintf(out,
               "usage: %s --errno EPERM|ENOSPC|EINVAL -- CMD [ARGS...]\n"
               "\n"
               "Runs CMD under a seccomp filter that makes unshare() and clone() with\n"
               "CLONE_NEWUSER fail with the given errno, and clone3() fail with ENOSYS.\n"
               "Also sets PR_SET_NO_NEW_PRIVS. The filter is inherited by all descendants.\n"
               "\n"
               "  --errno EPERM    simulate Docker's default seccomp profile\n"
               "  --errno ENOSPC   simulate user.max_user_namespaces = 0\n"
               "  --errno EINVAL   simulate a kernel without user namespaces\n"
               "  -h, --help       show this help\n",
               kProg);
}

[[noreturn]] void usage_error(const char* fmt, const char* arg = "") {
  std::fprintf(stderr, "%s: ", kProg);
  std::fprintf(stderr, fmt, arg);
  std::fprintf(stderr, "\nTry '%s --help'.\n", kProg);
  std::exit(kExitUsage);
}

const SimulatedHost* find_host(std::string_view name) {
  for (const auto& host : kHosts) {
    if (host.name == name) return &host;
  }
  return nullptr;
}

// Owns a libseccomp context.
class FilterCtx {
 public:
  explicit FilterCtx(uint32_t default_action) : ctx_(seccomp_init(default_action)) {}
  ~FilterCtx() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  FilterCtx(const FilterCtx&) = delete;
  FilterCtx& operator=(const FilterCtx&) = delete;
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

// Index of the clone() flags argument: the raw syscall's argument order differs on s390.
#if defined(__s390__) || defined(__s390x__)
constexpr unsigned kCloneFlagsArg = 1;
#else
constexpr unsigned kCloneFlagsArg = 0;
#endif

scmp_arg_cmp has_newuser(unsigned arg) {
  scmp_arg_cmp cmp{};
  cmp.arg = arg;
  cmp.op = SCMP_CMP_MASKED_EQ;
  cmp.datum_a = CLONE_NEWUSER;  // mask
  cmp.datum_b = CLONE_NEWUSER;  // value after masking
  return cmp;
}

// Returns 0 or a negative errno from libseccomp; *step names the failing step.
int install_filter(int err, const char** step) {
  *step = "seccomp_init";
  FilterCtx filter(SCMP_ACT_ALLOW);
  if (filter.get() == nullptr) return -ENOMEM;

  // Cover the compat ABIs too, so a 32-bit program cannot step around the simulation (a
  // filter kills syscalls from architectures it does not list).
  *step = "seccomp_arch_add";
  const uint32_t native = seccomp_arch_native();
  if (native == SCMP_ARCH_X86_64) {
    for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
      int rc = seccomp_arch_add(filter.get(), arch);
      if (rc != 0 && rc != -EEXIST) return rc;
    }
  } else if (native == SCMP_ARCH_AARCH64) {
    int rc = seccomp_arch_add(filter.get(), SCMP_ARCH_ARM);
    if (rc != 0 && rc != -EEXIST) return rc;
  }

  *step = "seccomp_rule_add(unshare)";
  scmp_arg_cmp unshare_cmp = has_newuser(0);
  int rc = seccomp_rule_add_array(filter.get(), SCMP_ACT_ERRNO(err), SCMP_SYS(unshare), 1,
                                  &unshare_cmp);
  if (rc != 0) return rc;

  *step = "seccomp_rule_add(clone)";
  scmp_arg_cmp clone_cmp = has_newuser(kCloneFlagsArg);
  rc = seccomp_rule_add_array(filter.get(), SCMP_ACT_ERRNO(err), SCMP_SYS(clone), 1, &clone_cmp);
  if (rc != 0) return rc;

  *step = "seccomp_rule_add(clone3)";
  rc = seccomp_rule_add(filter.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  if (rc != 0) return rc;

  // We set NO_NEW_PRIVS ourselves (below) so that it is explicit and checked.
  *step = "seccomp_attr_set(CTL_NNP)";
  rc = seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return rc;

  *step = "prctl(PR_SET_NO_NEW_PRIVS)";
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;

  *step = "seccomp_load";
  return seccomp_load(filter.get());
}

}  // namespace

int main(int argc, char** argv) {
  const SimulatedHost* host = nullptr;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "-h" || arg == "--help") {
      print_usage(stdout);
      return 0;
    }
    std::string_view value;
    if (arg == "--errno") {
      if (i + 1 >= argc) usage_error("--errno needs a value: EPERM, ENOSPC or EINVAL");
      value = argv[++i];
    } else if (arg.starts_with("--errno=")) {
      value = arg.substr(std::strlen("--errno="));
    } else if (arg.starts_with("-")) {
      usage_error("unknown option '%s'", argv[i]);
    } else {
      usage_error("missing '--' before the command '%s'", argv[i]);
    }
    host = find_host(value);
    if (host == nullptr) {
      usage_error("unsupported --errno '%s' (use EPERM, ENOSPC or EINVAL)",
                  std::string(value).c_str());
    }
  }
  if (host == nullptr) usage_error("--errno EPERM|ENOSPC|EINVAL is required");
  if (i >= argc) usage_error("no command given after '--'");

  const char* step = "";
  if (int rc = install_filter(host->err, &step); rc != 0) {
    std::fprintf(stderr, "%s: cannot install the seccomp filter: %s failed: %s\n", kProg, step,
                 std::strerror(-rc));
    return kExitSetup;
  }

  execvp(argv[i], &argv[i]);
  const int exec_errno = errno;
  std::fprintf(stderr, "%s: cannot execute '%s': %s\n", kProg, argv[i],
               std::strerror(exec_errno));
  return exec_errno == ENOENT ? 127 : 126;
}
