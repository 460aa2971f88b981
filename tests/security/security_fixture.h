// The fixture of the hostile-caller suite (issue 8): one nsbrokerd per test in the daemon
// configuration given by the test parameter (see kAllConfigs), with a policy shaped like the
// shipped default (read-only "/", writable /tmp, a deny list, other users' homes hidden), and
// a scratch tree on the host:
//
//   <work>/homes              root 0755    the policy's homes_root
//   <work>/homes/caller       uid 1500     the caller's home
//   <work>/homes/caller/evil  uid 1500     what an attacker binds over a system directory
//                                          (holds the file "marker")
//   <work>/homes/other        uid 1501     another user's home (its "file" must stay hidden)
//   <work>/denied             root 0755    a policy deny entry (holds "file")
//   <work>/scratch            root 0755    mount points under a read-only bound tree: each
//                                          test makes the ones it needs
//
// The daemon's socket is in its own temp dir, not under /run/nsbroker: the policy's deny
// entry for /run/nsbroker does not cover it (issue 8, item 7).
//
// Every test runs twice under ctest: "security." (the machine's private mounts) and
// "security-shared-root." (a mount namespace whose / is shared, as systemd sets up a host).
// A test that must see propagation says so by checking the mount table of its own
// namespace, which is the caller's and the daemon's.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "sandbox_fixture.h"

namespace nsbroker::sectest {

using namespace nsbroker::itest;

class SecurityTest : public ::testing::TestWithParam<DaemonConfig> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The policy text for `work` (see above).
  std::string policy() const;

  // `nsbroker run --socket S ARGS...` as `uid` (ARGS include "--" and the command).
  ProcessSpec spec(std::vector<std::string> args, uid_t uid = kCallerUid) const;
  ProcessResult run(std::vector<std::string> args, uid_t uid = kCallerUid) const;
  // The same, with the caller's fd 5 opened on `fd5_path` (by the caller itself, as uid
  // 1500: `exec nsbroker run ... 5<PATH` in sh).
  ProcessSpec spec_with_fd5(const std::string& fd5_path, std::vector<std::string> args) const;

  // A directory (or empty file) in <work>/scratch, owned by root, for a mount point.
  std::string scratch_dir(const std::string& name) const;
  std::string scratch_file(const std::string& name) const;

  // Pids of the processes of a running sandbox, found by `marker` in their environment
  // (pass `--setenv NSB_MARK TOKEN` and marker "NSB_MARK=TOKEN"); waits up to 10 s.
  std::vector<pid_t> sandbox_pids(const std::string& marker, pid_t client_pid) const;

  std::unique_ptr<TempDir> work_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string homes_, home_, evil_, other_home_, denied_, scratch_;
};

// "nsbroker run" options for a sandbox with the base mounts (usr, bin, lib, lib64).
std::vector<std::string> with_base(std::vector<std::string> args);

// Fields 3.. of a /proc/PID/stat text (after "pid (comm)"), so that field N is at [N - 3].
std::vector<std::string> stat_fields(const std::string& text);

}  // namespace nsbroker::sectest
