// `cmake --install` into a DESTDIR tree: every file in its place, the units pass
// `systemd-analyze verify` there (man pages included), and an administrator's policy survives
// a second install.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "harness.h"

namespace nsbroker::stest {
namespace {

const std::string kBin = NSBROKER_INSTALL_BINDIR;
const std::string kSbin = NSBROKER_INSTALL_SBINDIR;
const std::string kLibexec = NSBROKER_INSTALL_LIBEXECDIR;
const std::string kMan = NSBROKER_INSTALL_MANDIR;
const std::string kData = NSBROKER_INSTALL_DATADIR;
const std::string kUnits = NSBROKER_UNIT_DIR;
const std::string kDbus = NSBROKER_DBUS_DIR;
const std::string kPolicyDir = NSBROKER_POLICY_DIR;

bool has_default_policy() { return exists(std::string(NSBROKER_SOURCE_DIR) + "/config/policy.pbtxt"); }

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!exists(std::string(NSBROKER_BUILD_DIR) + "/cmake_install.cmake")) GTEST_SKIP() << "no build tree";
  }

  ProcessResult install() {
    ProcessSpec spec;
    spec.argv = {NSBROKER_CMAKE_COMMAND, "--install", NSBROKER_BUILD_DIR};
    spec.env.push_back("DESTDIR=" + root_.path());
    return run(spec, 120s);
  }

  std::string at(const std::string& path) const { return root_.path() + path; }

  TempDir root_{"nsb-svc-destdir-", 0755};
};

TEST_F(InstallTest, PlacesBinariesUnitsBusFilesManPagesAndPolicy) {
  ProcessResult result = install();
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  std::vector<std::pair<std::string, bool>> files = {  // path, executable
      {kBin + "/nsbroker", true},
      {kSbin + "/nsbrokerd", true},
      {kLibexec + "/nsbroker/nsbroker-dbus-run", true},
      {kLibexec + "/nsbroker/bwrap", true},
      {kUnits + "/nsbrokerd.service", false},
      {kUnits + "/nsbrokerd.socket", false},
      {kDbus + "/system.d/org.nsbroker.Broker1.conf", false},
      {kDbus + "/system-services/org.nsbroker.Broker1.service", false},
      {kDbus + "/interfaces/org.nsbroker.Broker1.xml", false},
      {kMan + "/man1/nsbroker.1", false},
      {kMan + "/man5/nsbroker-policy.5", false},
      {kMan + "/man8/nsbrokerd.8", false},
  };
  if (has_default_policy()) {
    files.push_back({kPolicyDir + "/policy.pbtxt", false});
    files.push_back({kData + "/nsbroker/policy.pbtxt", false});
  }
  for (const auto& [path, executable] : files) {
    struct stat st {};
    ASSERT_EQ(::lstat(at(path).c_str(), &st), 0) << path << " missing\n" << result.out;
    EXPECT_TRUE(S_ISREG(st.st_mode)) << path << " is not a regular file";
    if (executable) EXPECT_EQ(st.st_mode & 0755, 0755u) << path;
    else EXPECT_EQ(st.st_mode & 0777, 0644u) << path;
  }
  // Units and the activation file start the installed daemon with the documented options.
  std::string exec = kSbin + "/nsbrokerd --dbus --idle-exit " NSBROKER_IDLE_EXIT_DEFAULT;
  EXPECT_NE(read_file(at(kUnits + "/nsbrokerd.service")).value_or("").find("ExecStart=" + exec), std::string::npos);
  std::string activation = read_file(at(kDbus + "/system-services/org.nsbroker.Broker1.service")).value_or("");
  EXPECT_NE(activation.find("Exec=" + exec), std::string::npos) << activation;
  EXPECT_NE(activation.find("SystemdService=nsbrokerd.service"), std::string::npos);
  EXPECT_NE(activation.find("Name=org.nsbroker.Broker1"), std::string::npos);
  EXPECT_NE(activation.find("User=root"), std::string::npos);
  EXPECT_NE(read_file(at(kUnits + "/nsbrokerd.socket")).value_or("").find(
                "ListenSequentialPacket=/run/nsbroker/nsbroker.sock"),
            std::string::npos);
}

TEST_F(InstallTest, SystemdAnalyzeVerifiesTheInstalledUnits) {
  if (auto why = need_program("systemd-analyze")) GTEST_SKIP() << *why;
  ProcessResult installed = install();
  ASSERT_EQ(installed.exit_code, 0) << installed.describe();
  // The tree holds the package only; the system's own tools the units call come from the
  // host, laid out as on Debian 12 (merged /usr).
  ::mkdir(at("/usr").c_str(), 0755);
  ::mkdir(at("/usr/bin").c_str(), 0755);
  ::symlink("usr/bin", at("/bin").c_str());
  write_file(at("/usr/bin/kill"), read_file("/usr/bin/kill").value_or(""), 0755);
  ProcessSpec spec;
  // Inside the DESTDIR tree: ExecStart= must name an executable there, and the man pages of
  // Documentation= must exist there (MANPATH points man at them).
  spec.argv = {"/usr/bin/systemd-analyze", "verify", "--recursive-errors=no", "--root=" + root_.path(),
               kUnits + "/nsbrokerd.socket", kUnits + "/nsbrokerd.service"};
  spec.env.push_back("MANPATH=" + at(kMan));
  spec.env.push_back("SYSTEMD_LOG_LEVEL=notice");
  ProcessResult result = run(spec, 60s);
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_EQ(result.out + result.err, "") << "systemd-analyze has remarks:\n" << result.describe();
}

TEST_F(InstallTest, AnEditedPolicyIsNeverOverwritten) {
  if (!has_default_policy()) GTEST_SKIP() << "config/policy.pbtxt does not exist yet";
  ASSERT_EQ(install().exit_code, 0);
  std::string policy = at(kPolicyDir + "/policy.pbtxt");
  std::string edited = "# the administrator's own policy\n";
  write_file(policy, edited);
  ProcessResult again = install();
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  EXPECT_EQ(read_file(policy).value_or(""), edited);
  EXPECT_NE(again.out.find("Keeping"), std::string::npos) << again.out;
  // The shipped default is still there to compare with.
  EXPECT_EQ(read_file(at(kData + "/nsbroker/policy.pbtxt")),
            read_file(std::string(NSBROKER_SOURCE_DIR) + "/config/policy.pbtxt"));
}

}  // namespace
}  // namespace nsbroker::stest
