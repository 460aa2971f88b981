#include "sandbox_fixture.h"

#include <unistd.h>

#include <iostream>

namespace nsbroker::itest {

std::string expected_mode(DaemonConfig config) {
  return config == DaemonConfig::kUserNamespace ? "userns" : "privileged";
}

void start_daemon_for(DaemonConfig config, std::unique_ptr<DaemonProcess>& daemon) {
  daemon = std::make_unique<DaemonProcess>(DaemonSpec::for_config(config));
  ASSERT_TRUE(daemon->ready()) << daemon->error();
  // The auto-under-deny configuration is only meaningful if the daemon really fell back.
  ASSERT_EQ(daemon->listening_mode(), expected_mode(config))
      << "nsbrokerd came up in the wrong mode; its log:\n" << daemon->log();
}

void SandboxTest::SetUp() {
  if (auto why = config_unavailable(GetParam())) GTEST_SKIP() << *why;
  start_daemon_for(GetParam(), daemon_);
  if (HasFatalFailure()) return;
  work_ = std::make_unique<TempDir>("nsb-it-work-", 0755);
  home_ = *work_ / "home";
  proj_ = home_ + "/proj";
  other_ = *work_ / "other";
  secret_ = other_ + "/secret";
  make_dir(home_, kCallerUid, kCallerUid, 0755);
  make_dir(proj_, kCallerUid, kCallerUid, 0755);
  make_dir(other_, kOtherUid, kOtherUid, 0755);
  make_dir(secret_, kOtherUid, kOtherUid, 0700);
  write_file(secret_ + "/file", "nsb-secret-content\n");
  ASSERT_EQ(::chown((secret_ + "/file").c_str(), kOtherUid, kOtherUid), 0);
}

void check_daemon_after_test(DaemonProcess* daemon, const std::string& label) {
  if (!daemon) return;
  if (!daemon->alive() && daemon->ready()) {
    ADD_FAILURE() << "nsbrokerd (" << label << ") ended during the test: " << daemon->ended_how();
  }
  if (::testing::Test::HasFailure()) {
    std::cout << "---- nsbrokerd log (" << label << ") ----\n" << daemon->log() << "----\n";
  }
}

void SandboxTest::TearDown() { check_daemon_after_test(daemon_.get(), config_name(GetParam())); }

ProcessSpec SandboxTest::spec(std::vector<std::string> args) {
  std::vector<std::string> all = base_mounts();
  all.insert(all.end(), args.begin(), args.end());
  return client_spec(daemon_->socket_path(), std::move(all));
}

ProcessResult SandboxTest::run(std::vector<std::string> args) {
  return run_process(spec(std::move(args)));
}

std::vector<std::string> SandboxTest::helper_mounts() const {
  return {"--ro-bind", binaries().helper, "/nsb-helper"};
}

}  // namespace nsbroker::itest
