// A pidfd opened by pid is accepted only for a process that provably could have made the
// request (auth/process_identity.h): same uid, started by the time the request existed, alive
// after the checks. The last test recycles a pid for real (clone3 with set_tid, as root).
#include "auth/process_identity.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

namespace nsbroker::auth {
namespace {

// A child that waits until `release` is called (or the test ends).
class HeldChild {
 public:
  // `wanted_pid` > 0: clone3 with set_tid, to take that very pid (needs CAP_SYS_ADMIN).
  explicit HeldChild(pid_t wanted_pid = 0) {
    if (::pipe2(pipe_, O_CLOEXEC) != 0) return;
    clone_args args{};
    args.exit_signal = SIGCHLD;
    pid_t tid = wanted_pid;
    if (wanted_pid > 0) {
      args.set_tid = reinterpret_cast<std::uintptr_t>(&tid);
      args.set_tid_size = 1;
    }
    pid_ = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
    if (pid_ == 0) {
      char byte;
      ::close(pipe_[1]);
      while (::read(pipe_[0], &byte, 1) < 0 && errno == EINTR) {}
      ::_exit(0);
    }
    error_ = pid_ < 0 ? errno : 0;
    ::close(pipe_[0]);
  }
  ~HeldChild() { release(); }
  pid_t pid() const { return pid_; }
  int error() const { return error_; }
  void release() {
    if (pipe_[1] >= 0) ::close(pipe_[1]);
    pipe_[1] = -1;
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  int pipe_[2] = {-1, -1};
  pid_t pid_ = -1;
  int error_ = 0;
};

void pass_a_clock_tick() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

TEST(ProcessIdentity, AcceptsTheProcessItWasToldAbout) {
  auto pinned = open_claimed_process({::getpid(), ::geteuid(), boottime_ns(), "the test"});
  ASSERT_TRUE(pinned) << pinned.failure().message;
  EXPECT_TRUE(pinned.value().pidfd.valid());
  EXPECT_EQ(pinned.value().ids.euid, ::geteuid());
  EXPECT_EQ(pinned.value().ids.egid, ::getegid());
  EXPECT_TRUE(still_alive(pinned.value().pidfd.get()));
}

TEST(ProcessIdentity, RefusesAnotherUid) {
  auto refused = open_claimed_process({::getpid(), ::geteuid() + 4242, 0, "the test"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.failure().code, wire::ERROR_DENIED);
  EXPECT_NE(refused.failure().message.find("runs as uid " + std::to_string(::geteuid()) + ", not as uid " +
                                           std::to_string(::geteuid() + 4242) + " which the test reported"),
            std::string::npos)
      << refused.failure().message;
}

TEST(ProcessIdentity, RefusesAProcessStartedAfterTheRequestExisted) {
  std::uint64_t request = boottime_ns();
  pass_a_clock_tick();
  HeldChild later;
  ASSERT_GT(later.pid(), 0) << std::strerror(later.error());
  auto refused = open_claimed_process({later.pid(), ::geteuid(), request, "the test"});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.failure().message.find("started after the request was made, so its pid was reused"),
            std::string::npos)
      << refused.failure().message;
  EXPECT_TRUE(open_claimed_process({later.pid(), ::geteuid(), boottime_ns(), "the test"}))
      << "the same process for a request made after it started";
}

TEST(ProcessIdentity, RefusesAPidWhoseProcessHasExited) {
  HeldChild gone;
  ASSERT_GT(gone.pid(), 0);
  pid_t pid = gone.pid();
  gone.release();
  auto refused = open_claimed_process({pid, ::geteuid(), boottime_ns(), "the test"});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.failure().message.find("has exited"), std::string::npos) << refused.failure().message;
}

// The race itself: the caller connects and exits, another process (same uid, so the uid check
// cannot tell) takes its pid before the daemon opens a pidfd by it.
TEST(ProcessIdentity, RefusesARecycledPidOfTheSameUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "choosing a pid (clone3 set_tid) needs root";
  for (int attempt = 0; attempt < 5; ++attempt) {
    HeldChild caller;
    ASSERT_GT(caller.pid(), 0);
    pid_t pid = caller.pid();
    std::uint64_t connected = boottime_ns();  // the request exists from here on
    caller.release();
    pass_a_clock_tick();
    HeldChild impostor(pid);
    if (impostor.error() == EEXIST) continue;  // someone else's process took the pid first
    if (impostor.error() != 0) GTEST_SKIP() << "clone3 with set_tid: " << std::strerror(impostor.error());
    ASSERT_EQ(impostor.pid(), pid);
    auto refused = open_claimed_process({pid, ::geteuid(), connected, "the test"});
    ASSERT_FALSE(refused) << "a recycled pid was taken for the caller";
    EXPECT_NE(refused.failure().message.find("its pid was reused"), std::string::npos)
        << refused.failure().message;
    return;
  }
  GTEST_SKIP() << "the pid was taken by another process every time";
}

}  // namespace
}  // namespace nsbroker::auth
