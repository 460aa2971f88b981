#include "client/socket_path.h"

#include <gtest/gtest.h>

namespace nsbroker::client {
namespace {

TEST(SocketPath, OptionWinsOverEnvironment) {
  EXPECT_EQ(daemon_socket_path("/opt.sock", "/env.sock"), "/opt.sock");
}

TEST(SocketPath, EnvironmentWhenNoOption) {
  EXPECT_EQ(daemon_socket_path("", "/env.sock"), "/env.sock");
}

TEST(SocketPath, DefaultWhenNeitherIsSet) {
  EXPECT_EQ(daemon_socket_path("", nullptr), "/run/nsbroker/nsbroker.sock");
}

TEST(SocketPath, EmptyEnvironmentCountsAsUnset) {
  EXPECT_EQ(daemon_socket_path("", ""), "/run/nsbroker/nsbroker.sock");
}

}  // namespace
}  // namespace nsbroker::client
