// 13. A client with no daemon behind its socket path says so in one line and exits 1.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "harness.h"

namespace nsbroker::itest {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

void expect_cannot_reach(const ProcessResult& r, const std::string& path, int err) {
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
  EXPECT_THAT(r.err, StartsWith("nsbroker: cannot reach nsbrokerd at " + path + ": ")) << r.describe();
  EXPECT_THAT(r.err, HasSubstr(std::strerror(err))) << r.describe();
  EXPECT_THAT(r.err, EndsWith("is the service running?\n")) << r.describe();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.describe();
}

// Runs as uid 1500 when the test is root, as the current user otherwise: no skip needed.
TEST(NoDaemon, MissingSocketPath) {
  TempDir dir("nsb-it-nodaemon-", 0755);
  std::string path = dir / "nsbrokerd.sock";
  auto r = run_client(path, {"--", "/bin/true"});
  expect_cannot_reach(r, path, ENOENT);
}

TEST(NoDaemon, StaleSocketWithoutListener) {
  TempDir dir("nsb-it-nodaemon-", 0755);
  std::string path = dir / "nsbrokerd.sock";
  // A socket file whose daemon is gone: bound, never listening, closed.
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0) << std::strerror(errno);
  ::close(fd);
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  auto r = run_client(path, {"--", "/bin/true"});
  expect_cannot_reach(r, path, ECONNREFUSED);
}

}  // namespace
}  // namespace nsbroker::itest
