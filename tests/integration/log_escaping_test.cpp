// Logs are data (DESIGN.md §2): a caller whose argv[0] holds a newline and a made-up log line
// must not be able to write that line into the daemon's log. The daemon logs argv[0] when it
// starts a sandbox, and the failing path when the command cannot be executed; both must come
// out escaped, on the daemon's own line.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox_fixture.h"

namespace nsbroker::itest {
namespace {

using ::testing::HasSubstr;

constexpr const char* kForged = "nsbrokerd[1] info: uid=0 forged";

class LogEscapingTest : public SandboxTest {
 protected:
  // Lines of the daemon's log that begin with the forged text.
  std::vector<std::string> forged_lines() const {
    std::vector<std::string> found;
    for (const std::string& line : lines_of(daemon_->log())) {
      if (line.rfind(kForged, 0) == 0) found.push_back(line);
    }
    return found;
  }
};

TEST_P(LogEscapingTest, ANewlineInArgv0CannotForgeALogLine) {
  // A command whose file name carries the forged line: "<work>/true\nnsbrokerd[1] info: ...".
  std::string name = "true\n" + std::string(kForged);
  std::string command = *work_ / name;
  ASSERT_EQ(::symlink("/usr/bin/true", command.c_str()), 0) << std::strerror(errno);
  ProcessResult r = run({"--ro-bind", work_->path(), work_->path(), "--", command});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::string escaped = "true\\n" + std::string(kForged);
  ASSERT_TRUE(poll_until(5s, [&] { return daemon_->log().find(escaped) != std::string::npos; }))
      << "the daemon should log argv[0] escaped:\n" << daemon_->log();
  EXPECT_THAT(forged_lines(), ::testing::IsEmpty()) << daemon_->log();
  // The escaped argv[0] is on one of the daemon's own lines.
  bool on_own_line = false;
  for (const std::string& line : lines_of(daemon_->log())) {
    if (line.find(escaped) != std::string::npos && line.rfind("nsbrokerd[", 0) == 0 &&
        line.find("uid=1500") != std::string::npos) {
      on_own_line = true;
    }
  }
  EXPECT_TRUE(on_own_line) << daemon_->log();
}

TEST_P(LogEscapingTest, AFailureMessageWithCallerTextIsEscapedToo) {
  // The command does not exist: the setup failure names it ("execvp PATH: ..."), and an escape
  // sequence in it must not reach the terminal of whoever reads the log either.
  std::string command = "/nonexistent-" + random_token() + "\n" + kForged + "\x1b[2J";
  ProcessResult r = run({"--", command});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  ASSERT_TRUE(poll_until(5s, [&] { return daemon_->log().find("setup failed") != std::string::npos; }))
      << daemon_->log();
  std::string log = daemon_->log();
  EXPECT_THAT(log, HasSubstr("\\n" + std::string(kForged) + "\\x1b[2J")) << log;
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << "a raw escape character reached the log";
  EXPECT_THAT(forged_lines(), ::testing::IsEmpty()) << log;
}

INSTANTIATE_TEST_SUITE_P(Configs, LogEscapingTest, ::testing::ValuesIn(kAllConfigs), ConfigName());

}  // namespace
}  // namespace nsbroker::itest
