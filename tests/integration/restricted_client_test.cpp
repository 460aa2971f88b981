// Callers on hosts that forbid user namespaces (DESIGN.md §3), simulated with
// nsbroker-test-deny-userns around the client:
//   EPERM   Docker's default seccomp profile
//   ENOSPC  user.max_user_namespaces = 0
//   EINVAL  a kernel without CONFIG_USER_NS
// First the proof that the simulation is in force for uid 1500, then that such a caller still
// gets a working, isolated sandbox from each daemon configuration.
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <map>
#include <tuple>

#include "sandbox_fixture.h"

namespace nsbroker::itest {
namespace {

using ::testing::HasSubstr;

int errno_value(const std::string& name) {
  static const std::map<std::string, int> kValues = {{"EPERM", EPERM}, {"ENOSPC", ENOSPC}, {"EINVAL", EINVAL}};
  return kValues.at(name);
}

class DenyUsernsSimulation : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (auto why = need_root()) GTEST_SKIP() << *why;
    if (auto why = need_seccomp()) GTEST_SKIP() << *why;
  }
};

TEST_P(DenyUsernsSimulation, UserNamespacesFailWithTheChosenErrnoForTheCaller) {
  const std::string& name = GetParam();
  ProcessSpec probe;
  probe.argv = {binaries().helper, "--nsb-helper", "userns"};
  probe.deny_userns_errno = name;
  auto r = run_process(probe);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "userns=" + name + "\n") << r.describe();

  if (path_exists("/usr/bin/unshare")) {
    ProcessSpec unshare;
    unshare.argv = {"/usr/bin/unshare", "-U", "true"};
    unshare.deny_userns_errno = name;
    r = run_process(unshare);
    EXPECT_NE(r.exit_code, 0) << r.describe();
    EXPECT_THAT(r.err, HasSubstr(std::strerror(errno_value(name)))) << r.describe();
  }
}

INSTANTIATE_TEST_SUITE_P(Errnos, DenyUsernsSimulation, ::testing::Values("EPERM", "ENOSPC", "EINVAL"),
                         [](const auto& info) { return info.param; });

class RestrictedClientTest
    : public ::testing::TestWithParam<std::tuple<DaemonConfig, std::string>> {
 protected:
  void SetUp() override {
    DaemonConfig config = std::get<0>(GetParam());
    if (auto why = config_unavailable(config)) GTEST_SKIP() << *why;
    if (auto why = need_seccomp()) GTEST_SKIP() << *why;
    start_daemon_for(config, daemon_);
  }
  void TearDown() override { check_daemon_after_test(daemon_.get(), config_name(std::get<0>(GetParam()))); }
  ProcessResult run_restricted(std::vector<std::string> args) {
    std::vector<std::string> all = base_mounts();
    all.insert(all.end(), args.begin(), args.end());
    ProcessSpec s = client_spec(daemon_->socket_path(), all);
    s.deny_userns_errno = std::get<1>(GetParam());
    return run_process(s);
  }

  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_P(RestrictedClientTest, GetsAWorkingIsolatedSandbox) {
  auto r = run_restricted({"--unshare-all", "--proc", "/proc", "--", "sh", "-c",
                           "echo inside $(id -u); exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.describe();
  EXPECT_EQ(r.out, "inside 1500\n") << r.describe();

  // The namespaces are real: own network with lo up, own pid namespace, no capabilities.
  r = run_restricted({"--ro-bind", binaries().helper, "/nsb-helper", "--unshare-all", "--proc", "/proc",
                      "--", "/nsb-helper", "--nsb-helper", "lo"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("interfaces=lo\n")) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("lo_up=1\n")) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("tcp_loopback=ok\n")) << r.describe();

  r = run_restricted({"--unshare-all", "--proc", "/proc", "--", "sh", "-c",
                      "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; test -d /proc/1 && echo has-pid-1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("CapEff:\t0000000000000000\n")) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("NoNewPrivs:\t1\n")) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("has-pid-1\n")) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(
    ConfigsAndErrnos, RestrictedClientTest,
    ::testing::Combine(::testing::ValuesIn(kAllConfigs), ::testing::Values("EPERM", "ENOSPC", "EINVAL")),
    [](const auto& info) {
      return config_name(std::get<0>(info.param)) + "_client_" + std::get<1>(info.param);
    });

}  // namespace
}  // namespace nsbroker::itest
