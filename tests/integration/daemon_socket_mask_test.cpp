// Sandboxes cannot reach the broker (DESIGN.md §2): the daemon's socket is hidden inside every
// sandbox wherever --socket puts it, not only under /run/nsbroker. The harness's daemon listens
// in a fresh temporary directory, with an open policy that denies nothing of its own; the
// daemon adds its socket to the denied paths by itself.
#include "sandbox_fixture.h"

namespace nsbroker::itest {
namespace {

using ::testing::HasSubstr;

class DaemonSocketMaskTest : public SandboxTest {
 protected:
  // `nsbroker run --ro-bind / / -- /bin/sh -c SCRIPT` as uid 1500; $SOCK is the daemon's
  // socket and $CLIENT the client, both as the host sees them.
  ProcessResult in_whole_root(const std::string& script) {
    return run_process(client_spec(
        daemon_->socket_path(),
        {"--ro-bind", "/", "/", "--setenv", "SOCK", daemon_->socket_path(), "--setenv", "CLIENT",
         binaries().client, "--", "/bin/sh", "-c", script}));
  }
};

TEST_P(DaemonSocketMaskTest, ARootBindDoesNotBringTheSocketAlong) {
  ASSERT_EQ(daemon_->socket_path().rfind("/run/nsbroker/", 0), std::string::npos)
      << "the point is a socket outside /run/nsbroker";
  ProcessResult r = in_whole_root(
      "if [ -S \"$SOCK\" ]; then echo kind=socket; elif [ -e \"$SOCK\" ]; then "
      "echo kind=$(stat -c '%F:%s:%a' \"$SOCK\"); else echo kind=absent; fi; "
      "\"$CLIENT\" run --socket \"$SOCK\" --ro-bind / / -- /bin/true; echo client=$?");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  // An empty, mode 000 stand-in covers it.
  EXPECT_THAT(r.out, HasSubstr("kind=regular empty file:0:0\n")) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("client=1\n")) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("cannot reach nsbrokerd at " + daemon_->socket_path())) << r.describe();
  // The directory around it is still what the host has.
  std::string dir = daemon_->socket_path().substr(0, daemon_->socket_path().rfind('/'));
  ProcessResult listing = in_whole_root("ls \"" + dir + "\"");
  EXPECT_THAT(listing.out, HasSubstr("policy.pbtxt\n")) << listing.describe();
}

TEST_P(DaemonSocketMaskTest, TheSocketItselfOrItsDirectoryCannotBeBound) {
  ProcessResult bound = run({"--ro-bind", daemon_->socket_path(), "/s", "--", "/bin/true"});
  EXPECT_NE(bound.exit_code, 0) << bound.describe();
  EXPECT_THAT(bound.err, HasSubstr("mounts.deny \"" + daemon_->socket_path() + "\"")) << bound.describe();

  std::string dir = daemon_->socket_path().substr(0, daemon_->socket_path().rfind('/'));
  ProcessResult in_dir = run({"--ro-bind", dir, "/d", "--", "/bin/sh", "-c",
                              "[ -S /d/nsbrokerd.sock ] && echo visible || echo hidden"});
  ASSERT_EQ(in_dir.exit_code, 0) << in_dir.describe();
  EXPECT_EQ(in_dir.out, "hidden\n") << in_dir.describe();
}

INSTANTIATE_TEST_SUITE_P(Configs, DaemonSocketMaskTest, ::testing::ValuesIn(kAllConfigs), ConfigName());

}  // namespace
}  // namespace nsbroker::itest
