// The caller's context as the daemon reads it: cgroup placement in every layout real hosts
// have (pure v2, pure v1, the v1/v2 hybrid), and the limits, umask and nice value of a real
// process (this one), read through /proc as the daemon does.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/caller_context.h"
#include "auth/cgroup_mounts.h"

namespace nsbroker::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kPureV2 =
    "24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";

constexpr const char* kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CgroupMounts, PureV2PlacesTheCallerInItsOwnCgroup) {
  auto files = CgroupMounts::parse(kPureV2).procs_files("0::/user.slice/user-1000.slice/session-3.scope\n");
  ASSERT_TRUE(files) << files.failure().message;
  EXPECT_THAT(files.value(),
              ElementsAre("/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/cgroup.procs"));
}

TEST(CgroupMounts, RootCgroupIsTheMountItself) {
  auto files = CgroupMounts::parse(kPureV2).procs_files("0::/\n");
  ASSERT_TRUE(files) << files.failure().message;
  EXPECT_THAT(files.value(), ElementsAre("/sys/fs/cgroup/cgroup.procs"));
}

TEST(CgroupMounts, HybridPlacesTheCallerInEveryHierarchy) {
  auto files = CgroupMounts::parse(kHybrid).procs_files(
      "9:name=systemd:/user.slice\n8:pids:/jail\n4:memory:/jail/mem\n1:cpu,cpuacct:/\n0::/u\n");
  ASSERT_TRUE(files) << files.failure().message;
  EXPECT_THAT(files.value(), ElementsAre("/sys/fs/cgroup/systemd/user.slice/cgroup.procs",
                                         "/sys/fs/cgroup/pids/jail/cgroup.procs",
                                         "/sys/fs/cgroup/memory/jail/mem/cgroup.procs",
                                         "/sys/fs/cgroup/cpu,cpuacct/cgroup.procs",
                                         "/sys/fs/cgroup/unified/u/cgroup.procs"));
}

TEST(CgroupMounts, HierarchiesWhereTheDaemonIsInTheSameCgroupNeedNoMove) {
  auto files = CgroupMounts::parse(kHybrid).procs_files("8:pids:/jail\n4:memory:/m\n0::/u\n",
                                                        "8:pids:/\n4:memory:/m\n0::/u\n");
  ASSERT_TRUE(files) << files.failure().message;
  EXPECT_THAT(files.value(), ElementsAre("/sys/fs/cgroup/pids/jail/cgroup.procs"));
}

TEST(CgroupMounts, AHierarchyThatLimitsNothingMayBeInvisible) {
  // Pure v1 hosts still list "0::/" for the unmounted v2 hierarchy.
  auto files = CgroupMounts::parse(
                   "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n")
                   .procs_files("4:memory:/a\n1:name=systemd:/b\n0::/\n");
  ASSERT_TRUE(files) << files.failure().message;
  EXPECT_THAT(files.value(), ElementsAre("/sys/fs/cgroup/memory/a/cgroup.procs"));
}

TEST(CgroupMounts, AnInvisibleControllerHierarchyIsRefused) {
  auto files = CgroupMounts::parse(kPureV2).procs_files("4:memory:/a\n0::/b\n");
  ASSERT_FALSE(files);
  EXPECT_THAT(files.failure().message, HasSubstr("memory hierarchy, which the daemon cannot see"));
}

TEST(CgroupMounts, ACgroupOutsideTheDaemonsNamespaceIsRefused) {
  auto files = CgroupMounts::parse(kPureV2).procs_files("0::/../../other.slice\n");
  ASSERT_FALSE(files);
  EXPECT_THAT(files.failure().message, HasSubstr("outside the daemon's cgroup namespace"));
}

TEST(CgroupMounts, AMountOfASubtreeIsTranslated) {
  // A container that was given only its own subtree, mounted at /sys/fs/cgroup.
  auto mounts = CgroupMounts::parse("30 24 0:26 /machine/c1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  auto inside = mounts.procs_files("0::/machine/c1/job\n");
  ASSERT_TRUE(inside) << inside.failure().message;
  EXPECT_THAT(inside.value(), ElementsAre("/sys/fs/cgroup/job/cgroup.procs"));
  EXPECT_FALSE(mounts.procs_files("0::/machine/c2\n"));
  EXPECT_FALSE(mounts.procs_files("0::/machine/c1x\n"));
}

TEST(CgroupMounts, MountPointsWithBlanksAreUnescaped) {
  auto files = CgroupMounts::parse("30 24 0:26 / /srv/cg\\040v2 rw - cgroup2 cgroup2 rw\n")
                   .procs_files("0::/x\n");
  ASSERT_TRUE(files) << files.failure().message;
  EXPECT_THAT(files.value(), ElementsAre("/srv/cg v2/x/cgroup.procs"));
}

// A real process: this test, with a soft limit, umask and nice value it chose.
TEST(CallerContext, ReadsTheLimitsUmaskAndNiceOfARealProcess) {
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  rlimit lowered{files.rlim_cur > 200 ? 200 : files.rlim_cur, files.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  mode_t old_umask = ::umask(027);
  int old_nice = ::getpriority(PRIO_PROCESS, 0);
  ::setpriority(PRIO_PROCESS, 0, old_nice + 1);  // lowering one's priority always works

  Caller caller;
  caller.pid = ::getpid();
  caller.pidfd = std::make_shared<UniqueFd>(static_cast<int>(::syscall(SYS_pidfd_open, caller.pid, 0)));
  UniqueFd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  auto context = read_caller_context(proc.get(), caller, CgroupMounts::read_own());

  ::umask(old_umask);
  ::setrlimit(RLIMIT_NOFILE, &files);
  ASSERT_TRUE(context) << context.failure().message;
  for (int resource = 0; resource < RLIM_NLIMITS; ++resource) {
    rlimit expected{};
    ASSERT_EQ(::getrlimit(static_cast<__rlimit_resource>(resource), &expected), 0);
    if (resource == RLIMIT_NOFILE) expected = lowered;
    EXPECT_EQ(context.value().rlimits[resource].rlim_cur, expected.rlim_cur) << "resource " << resource;
    EXPECT_EQ(context.value().rlimits[resource].rlim_max, expected.rlim_max) << "resource " << resource;
  }
  EXPECT_EQ(context.value().umask, 027u);
  EXPECT_EQ(context.value().nice, ::getpriority(PRIO_PROCESS, 0));
  EXPECT_TRUE(context.value().root);
  // Our own namespace is the daemon's ("self" in /proc): not listed.
  EXPECT_TRUE(context.value().pid_namespaces.empty());
}

}  // namespace
}  // namespace nsbroker::auth
