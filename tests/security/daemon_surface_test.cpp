// Issue 8, findings 6 and 7: caller-controlled text cannot forge lines of the daemon's log,
// and the daemon's socket is hidden inside sandboxes wherever --socket puts it.
#include <unistd.h>

#include "security_fixture.h"

namespace nsbroker::sectest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class DaemonSurfaceTest : public SecurityTest {};

TEST_P(DaemonSurfaceTest, NewlineInArgv0CannotForgeALogLine) {
  const std::string forged = "nsbrokerd[1] info: uid=0 forged";
  ProcessResult r = run(with_base({"--", "nsb-no-such-command\n" + forged}));
  EXPECT_NE(r.exit_code, 0) << r.describe();
  // The daemon logs asynchronously: wait until it has logged this request at all.
  ASSERT_TRUE(poll_until(5s, [&] { return daemon_->log().find("uid=1500") != std::string::npos; }))
      << daemon_->log();
  std::string forged_lines;
  for (const std::string& line : lines_of(daemon_->log())) {
    if (line.rfind(forged, 0) == 0) forged_lines += line + "\n";
  }
  EXPECT_EQ(forged_lines, "") << "a caller wrote these lines of the daemon's log";
}

// The harness's daemon listens in a temp dir, not under /run/nsbroker (which the policy
// denies): the socket must still not be reachable inside --ro-bind / /.
TEST_P(DaemonSurfaceTest, SocketAtACustomPathIsMaskedInsideARootBind) {
  ASSERT_TRUE(socket_accepts(daemon_->socket_path()));
  ProcessResult r = run({"--ro-bind", "/", "/", "--", binaries().helper, "--nsb-helper", "connect",
                         daemon_->socket_path()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, StartsWith("connect=")) << r.describe();
  EXPECT_NE(r.out, "connect=ok\n") << "the daemon's socket " << daemon_->socket_path()
                                   << " is reachable inside the sandbox";
}

INSTANTIATE_TEST_SUITE_P(Configs, DaemonSurfaceTest, ::testing::ValuesIn(kAllConfigs), ConfigName());

}  // namespace
}  // namespace nsbroker::sectest
