// The seccomp filter: the base filter plus a profile's rules, compiled once. Rules only add
// denials; the compiled program is loaded in a forked child to see it act.
#include "sandbox/seccomp.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "policy_test_support.h"

namespace nsbroker::sandbox {
namespace {

SyscallRule rule(const char* syscall, int error, std::vector<SyscallRule::Condition> conditions = {}) {
  SyscallRule r;
  r.syscall = syscall;
  r.action = SyscallRule::Action::kErrno;
  r.error = error;
  r.conditions = std::move(conditions);
  return r;
}

SyscallRule kill_rule(const char* syscall) {
  SyscallRule r;
  r.syscall = syscall;
  r.action = SyscallRule::Action::kKillProcess;
  return r;
}

std::size_t base_size() {
  auto base = SeccompProgram::compile_base();
  EXPECT_TRUE(base) << base.failure().message;
  return base ? base.value().instruction_count() : 0;
}

TEST(SeccompCompile, TheBaseFilterAloneIsWhatNoRulesGive) {
  auto none = SeccompProgram::compile({});
  ASSERT_TRUE(none);
  EXPECT_GT(none.value().instruction_count(), 0u);
  EXPECT_EQ(none.value().instruction_count(), base_size());
}

TEST(SeccompCompile, ProfileRulesAddToTheBaseFilter) {
  auto program = SeccompProgram::compile(
      {rule("personality", EPERM), rule("socket", EAFNOSUPPORT, {{0, SyscallRule::Op::kEq, AF_PACKET, 0}})});
  ASSERT_TRUE(program) << program.failure().message;
  EXPECT_GT(program.value().instruction_count(), base_size());
}

TEST(SeccompCompile, RefusesWhatCannotBeCompiled) {
  auto unknown = SeccompProgram::compile({rule("no_such_syscall", EPERM)});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.failure().message.find("profile rule 1 (no_such_syscall): unknown syscall"), std::string::npos)
      << unknown.failure().message;
  auto index = SeccompProgram::compile({rule("socket", EPERM, {{6, SyscallRule::Op::kEq, 1, 0}})});
  ASSERT_FALSE(index);
  EXPECT_NE(index.failure().message.find("argument index above 5"), std::string::npos);
  auto twice = SeccompProgram::compile(
      {rule("socket", EPERM, {{0, SyscallRule::Op::kGt, 1, 0}, {0, SyscallRule::Op::kLt, 9, 0}})});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.failure().message.find("argument 0 twice"), std::string::npos);
}

TEST(SeccompCompile, KnowsWhatTheBaseFilterAlwaysRefuses) {
  EXPECT_EQ(SeccompProgram::base_unconditional_errno("ptrace"), EPERM);
  EXPECT_EQ(SeccompProgram::base_unconditional_errno("clone3"), ENOSYS);
  EXPECT_EQ(SeccompProgram::base_unconditional_errno("io_uring_setup"), ENOSYS);
  EXPECT_EQ(SeccompProgram::base_unconditional_errno("clone"), std::nullopt) << "conditional";
  EXPECT_EQ(SeccompProgram::base_unconditional_errno("socket"), std::nullopt);
}

TEST(SeccompCompile, AValidatedPolicyNeverReachesTheCompilerWithAnUnknownSyscall) {
  auto errors = policy::testing::load_errors(
      "default_profile: \"p\"\nprofile { name: \"p\" seccomp { rule { syscall: \"sokcet\" action: \"EPERM\" } } }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("unknown syscall \"sokcet\": use libseccomp's name"), std::string::npos) << errors[0];
  auto policy = policy::testing::load_ok(
      "default_profile: \"p\"\nprofile { name: \"p\" seccomp { rule { syscall: \"socket\" action: \"EPERM\" } } }\n");
  ASSERT_TRUE(policy);
  ASSERT_TRUE(policy->profiles()[0].seccomp);
  EXPECT_GT(policy->profiles()[0].seccomp->instruction_count(), base_size());
}

// Runs `body` in a forked child under `program`; returns the wait status.
int run_filtered(const SeccompProgram& program, int (*body)()) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !load_seccomp(program.program())) ::_exit(100);
    ::_exit(body());  // _exit: no atexit handlers (a leak checker would ptrace) under the filter
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(SeccompRun, AnErrnoRuleReturnsItsErrno) {
  auto program = SeccompProgram::compile({rule("uname", EACCES)});
  ASSERT_TRUE(program) << program.failure().message;
  int status = run_filtered(program.value(), [] {
    struct utsname name {};
    return ::uname(&name) == -1 && errno == EACCES ? 0 : 1;
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SeccompRun, EqCannotBeDodgedThroughTheUpperHalfOfAnIntArgument) {
  auto program = SeccompProgram::compile(
      {rule("socket", EAFNOSUPPORT, {{0, SyscallRule::Op::kEq, AF_PACKET, 0}})});
  ASSERT_TRUE(program) << program.failure().message;
  int status = run_filtered(program.value(), [] {
    // The kernel reads `family` as an int: 0x1'00000011 is AF_PACKET to it.
    long dodged = ::syscall(SYS_socket, 0x100000000UL | AF_PACKET, SOCK_DGRAM, 0);
    if (dodged != -1 || errno != EAFNOSUPPORT) return 1;
    int unix_socket = ::socket(AF_UNIX, SOCK_STREAM, 0);
    return unix_socket >= 0 ? 0 : 2;
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SeccompRun, AKillRuleKillsTheProcess) {
  auto program = SeccompProgram::compile({kill_rule("getppid")});
  ASSERT_TRUE(program) << program.failure().message;
  int status = run_filtered(program.value(), [] { return static_cast<int>(::syscall(SYS_getppid) & 0); });
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

TEST(SeccompRun, TheBaseRulesStayWithProfileRules) {
  auto program = SeccompProgram::compile({rule("uname", EACCES), rule("ioctl", EACCES)});
  ASSERT_TRUE(program) << program.failure().message;
  int status = run_filtered(program.value(), [] {
    if (::unshare(CLONE_NEWUSER) != -1 || errno != EPERM) return 1;
    if (::syscall(SYS_clone3, nullptr, 0) != -1 || errno != ENOSYS) return 2;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace nsbroker::sandbox
