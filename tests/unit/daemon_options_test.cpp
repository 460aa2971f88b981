// nsbrokerd's command line and the per-uid live sandbox accounting.
#include "daemon_options.h"

#include <gtest/gtest.h>

#include "supervise/live_sandboxes.h"

namespace nsbroker {
namespace {

TEST(DaemonOptions, Defaults) {
  std::string error;
  auto options = parse_daemon_options({}, error);
  ASSERT_TRUE(options);
  EXPECT_EQ(options->socket_path, "/run/nsbroker/nsbroker.sock");
  EXPECT_EQ(options->mode, ModeChoice::kAuto);
  EXPECT_EQ(options->max_sandboxes_per_uid, 64u);
}

TEST(DaemonOptions, ReadsEveryOption) {
  std::string error;
  auto options = parse_daemon_options({"--socket", "/tmp/s", "--mode", "privileged",
                                       "--log-level", "debug", "--max-sandboxes-per-uid", "3"},
                                      error);
  ASSERT_TRUE(options) << error;
  EXPECT_EQ(options->socket_path, "/tmp/s");
  EXPECT_EQ(options->mode, ModeChoice::kPrivileged);
  EXPECT_EQ(options->log_level, "debug");
  EXPECT_EQ(options->max_sandboxes_per_uid, 3u);
}

struct BadLine {
  std::vector<std::string> args;
  const char* message;
};

class DaemonOptionsRefused : public ::testing::TestWithParam<BadLine> {};

TEST_P(DaemonOptionsRefused, SaysWhatToDo) {
  std::string error;
  EXPECT_FALSE(parse_daemon_options(GetParam().args, error));
  EXPECT_EQ(error, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, DaemonOptionsRefused,
    ::testing::Values(
        BadLine{{"--mode", "sometimes"}, "--mode must be auto, userns or privileged, not 'sometimes'"},
        BadLine{{"--socket"}, "--socket needs a value"},
        BadLine{{"--max-sandboxes-per-uid", "0"},
                "--max-sandboxes-per-uid needs a number from 1 to 100000, not '0'"},
        BadLine{{"--log-level", "loud"},
                "--log-level must be trace, debug, info, warn or error, not 'loud'"},
        BadLine{{"--frobnicate"}, "unknown option '--frobnicate' (see nsbrokerd --help)"}));

TEST(LiveSandboxes, CapsEachUidSeparately) {
  supervise::LiveSandboxes live(2);
  EXPECT_TRUE(live.try_acquire(1000));
  EXPECT_TRUE(live.try_acquire(1000));
  EXPECT_FALSE(live.try_acquire(1000));
  EXPECT_TRUE(live.try_acquire(1001)) << "another user is not starved";
  live.release(1000);
  EXPECT_EQ(live.count(1000), 1u);
  EXPECT_TRUE(live.try_acquire(1000));
  live.release(4242);  // releasing an unknown uid is harmless
  EXPECT_EQ(live.count(4242), 0u);
}

}  // namespace
}  // namespace nsbroker
