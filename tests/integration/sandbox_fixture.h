// The fixture shared by the sandbox-behaviour tests: one nsbrokerd per test in the
// configuration given by the test parameter, and a scratch tree on the host:
//
//   <work>/home            uid 1500, 0755  (the caller's home)
//   <work>/home/proj       uid 1500, 0755  (a project directory the caller may bind)
//   <work>/other           uid 1501, 0755  ("another user")
//   <work>/other/secret    uid 1501, 0700  holding file (0644): private to uid 1501
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace nsbroker::itest {

class SandboxTest : public ::testing::TestWithParam<DaemonConfig> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // `nsbroker run` as uid 1500 with the base mounts (usr, bin, lib, lib64) first.
  ProcessResult run(std::vector<std::string> args);
  ProcessSpec spec(std::vector<std::string> args);
  // The mounts that make the probe executable available inside as /nsb-helper.
  std::vector<std::string> helper_mounts() const;

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<TempDir> work_;
  std::string home_, proj_, other_, secret_;
};

// For INSTANTIATE_TEST_SUITE_P(..., ::testing::ValuesIn(kAllConfigs), ConfigName()).
inline const std::vector<DaemonConfig> kAllConfigs = {
    DaemonConfig::kUserNamespace, DaemonConfig::kPrivilegedForced,
    DaemonConfig::kPrivilegedByAutoDenied};

struct ConfigName {
  std::string operator()(const ::testing::TestParamInfo<DaemonConfig>& info) const {
    return config_name(info.param);
  }
};

// "userns" or "privileged": what the daemon must say in its "listening on" line.
std::string expected_mode(DaemonConfig config);

// Starts the daemon for `config`; fails the current test (fatally) when it does not come up
// in the expected mode.
void start_daemon_for(DaemonConfig config, std::unique_ptr<DaemonProcess>& daemon);

// At the end of every test: nothing a client does may take the daemon down. Also prints the
// daemon's log when the test failed.
void check_daemon_after_test(DaemonProcess* daemon, const std::string& label);

}  // namespace nsbroker::itest
