// The Debian package: `cpack -G DEB` builds it from the build tree; its file list, control
// fields and conffiles are checked, and its maintainer scripts are run — in a private mount
// namespace with tmpfs over /run and /etc and a recording fake systemctl — on a "host" with
// and without systemd.
#include <sys/stat.h>

#include <filesystem>
#include <gtest/gtest.h>

#include "harness.h"

namespace nsbroker::stest {
namespace {
namespace fs = std::filesystem;

class PackageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (need_root() || need_program("dpkg-deb") || need_program("unshare")) return;
    if (!exists(std::string(NSBROKER_BUILD_DIR) + "/CPackConfig.cmake")) return;
    out_ = new TempDir("nsb-svc-deb-", 0755);
    ProcessSpec spec;
    // cpack first builds the tree (its "preinstall" target); ctest runs after the build and
    // perhaps beside other tests, so the install step is done here without building, exactly
    // as `cmake --install` does it, into cpack's staging directory ($DESTDIR).
    spec.argv = {NSBROKER_CPACK_COMMAND, "--config", std::string(NSBROKER_BUILD_DIR) + "/CPackConfig.cmake",
                 "-G", "DEB", "-B", out_->path(), "-D", "CPACK_INSTALL_CMAKE_PROJECTS=",
                 "-D", std::string("CPACK_INSTALL_COMMANDS=") + NSBROKER_CMAKE_COMMAND + " --install " +
                           NSBROKER_BUILD_DIR};
    cpack_ = new ProcessResult(run(spec, 170s));
    for (const auto& entry : fs::directory_iterator(out_->path())) {
      if (entry.path().extension() == ".deb") debs_.push_back(entry.path().string());
    }
  }
  static void TearDownTestSuite() {
    delete cpack_;
    delete out_;
    cpack_ = nullptr;
    out_ = nullptr;
  }

  void SetUp() override {
    for (auto why : {need_root(), need_program("dpkg-deb"), need_program("unshare")}) {
      if (why) GTEST_SKIP() << *why;
    }
    ASSERT_NE(cpack_, nullptr) << "no CPackConfig.cmake in the build tree";
    ASSERT_EQ(cpack_->exit_code, 0) << cpack_->describe();
    ASSERT_EQ(debs_.size(), 1u) << cpack_->describe();
  }

  static ProcessResult dpkg_deb(std::vector<std::string> args) {
    ProcessSpec spec;
    spec.argv = {"/usr/bin/dpkg-deb"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    return run(spec, 60s);
  }

  // Runs a maintainer script as dpkg would, in a mount namespace of its own: /run and /etc
  // are empty tmpfs (with /run/systemd/system when `systemd`), /etc/nsbroker exists, and
  // systemctl is a fake that appends its arguments to <dir>/systemctl.log.
  ProcessResult run_script(const std::string& script, const std::string& argument, bool systemd,
                           const TempDir& dir) {
    write_file(dir / "bin/systemctl", "#!/bin/sh\necho \"$*\" >> " + dir / "systemctl.log" + "\n", 0755);
    std::string setup = "mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /etc && mkdir /etc/nsbroker";
    if (systemd) setup += " && mkdir -p /run/systemd/system";
    ProcessSpec spec;
    spec.argv = {"/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
                 setup + " && PATH=" + dir / "bin" + ":/usr/sbin:/usr/bin:/sbin:/bin /bin/sh " +
                     dir / ("control/" + script) + " " + argument +
                     "; echo rc=$?; test -d /etc/nsbroker && echo etc_nsbroker=1 || echo etc_nsbroker=0"};
    return run(spec, 30s);
  }

  static TempDir* out_;
  static ProcessResult* cpack_;
  static std::vector<std::string> debs_;
};

TempDir* PackageTest::out_ = nullptr;
ProcessResult* PackageTest::cpack_ = nullptr;
std::vector<std::string> PackageTest::debs_;

TEST_F(PackageTest, DebHasTheFilesTheControlFieldsAndTheConffile) {
  const std::string& deb = debs_.front();
  ProcessResult fields = dpkg_deb({"-f", deb, "Package", "Version", "Depends", "Recommends"});
  ASSERT_EQ(fields.exit_code, 0) << fields.describe();
  EXPECT_NE(fields.out.find("Package: nsbroker"), std::string::npos) << fields.out;
  EXPECT_NE(fields.out.find("Version: " NSBROKER_VERSION), std::string::npos) << fields.out;
  for (const char* library : {"libsdbus-c++1", "libsystemd0", "libseccomp2", "libc6"}) {
    EXPECT_NE(fields.out.find(library), std::string::npos) << library << " missing in\n" << fields.out;
  }
  EXPECT_NE(fields.out.find("Recommends: systemd, dbus"), std::string::npos) << fields.out;

  ProcessResult listing = dpkg_deb({"-c", deb});
  ASSERT_EQ(listing.exit_code, 0) << listing.describe();
  std::vector<std::string> expected = {
      NSBROKER_INSTALL_BINDIR "/nsbroker",
      NSBROKER_INSTALL_SBINDIR "/nsbrokerd",
      NSBROKER_INSTALL_LIBEXECDIR "/nsbroker/nsbroker-dbus-run",
      NSBROKER_INSTALL_LIBEXECDIR "/nsbroker/bwrap",
      NSBROKER_UNIT_DIR "/nsbrokerd.service",
      NSBROKER_UNIT_DIR "/nsbrokerd.socket",
      NSBROKER_DBUS_DIR "/system.d/org.nsbroker.Broker1.conf",
      NSBROKER_DBUS_DIR "/system-services/org.nsbroker.Broker1.service",
      NSBROKER_DBUS_DIR "/interfaces/org.nsbroker.Broker1.xml",
      NSBROKER_INSTALL_MANDIR "/man1/nsbroker.1",
      NSBROKER_INSTALL_MANDIR "/man5/nsbroker-policy.5",
      NSBROKER_INSTALL_MANDIR "/man8/nsbrokerd.8",
  };
  bool policy = exists(std::string(NSBROKER_SOURCE_DIR) + "/config/policy.pbtxt");
  if (policy) expected.push_back(NSBROKER_POLICY_DIR "/policy.pbtxt");
  for (const std::string& path : expected) {
    EXPECT_NE(listing.out.find(" ." + path + "\n"), std::string::npos) << path << " not in\n" << listing.out;
  }
  // Root owns everything; nothing is setuid.
  for (const std::string& line : lines_of(listing.out)) {
    if (line.empty()) continue;
    EXPECT_NE(line.find("root/root"), std::string::npos) << line;
    EXPECT_TRUE(line[3] != 's' && line[3] != 'S' && line[6] != 's' && line[6] != 'S') << line;
  }

  TempDir dir("nsb-svc-ctl-", 0755);
  ASSERT_EQ(dpkg_deb({"-e", deb, dir / "control"}).exit_code, 0);
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir / "control/" + std::string(script)).c_str(), &st), 0) << script;
    EXPECT_EQ(st.st_mode & 0777, 0755u) << script;
  }
  if (policy) {
    EXPECT_EQ(read_file(dir / "control/conffiles").value_or(""), NSBROKER_POLICY_DIR "/policy.pbtxt\n");
  }
}

TEST_F(PackageTest, MaintainerScriptsDoNothingHarmfulWithoutSystemd) {
  TempDir dir("nsb-svc-ms-", 0755);
  ::mkdir((dir / "bin").c_str(), 0755);
  ASSERT_EQ(dpkg_deb({"-e", debs_.front(), dir / "control"}).exit_code, 0);
  for (auto [script, argument] : std::vector<std::pair<std::string, std::string>>{
           {"postinst", "configure"}, {"prerm", "remove"}, {"postrm", "remove"}, {"postrm", "purge"}}) {
    ProcessResult result = run_script(script, argument, false, dir);
    EXPECT_EQ(result.values()["rc"], "0") << script << " " << argument << "\n" << result.describe();
    if (script == "postinst") {
      EXPECT_NE(result.err.find("no systemd"), std::string::npos) << result.describe();
    }
    if (argument == "purge") {
      EXPECT_EQ(result.values()["etc_nsbroker"], "0") << result.describe();
    }
  }
  EXPECT_FALSE(exists(dir / "systemctl.log")) << read_file(dir / "systemctl.log").value_or("");
}

TEST_F(PackageTest, MaintainerScriptsEnableTheSocketOnASystemdHost) {
  TempDir dir("nsb-svc-ms-", 0755);
  ::mkdir((dir / "bin").c_str(), 0755);
  ASSERT_EQ(dpkg_deb({"-e", debs_.front(), dir / "control"}).exit_code, 0);
  auto calls = [&] {
    std::string log = read_file(dir / "systemctl.log").value_or("");
    ::unlink((dir / "systemctl.log").c_str());
    return log;
  };
  ProcessResult installed = run_script("postinst", "configure", true, dir);
  EXPECT_EQ(installed.values()["rc"], "0") << installed.describe();
  EXPECT_EQ(calls(), "daemon-reload\nenable nsbrokerd.socket\nstart nsbrokerd.socket\n");

  ProcessResult upgrading = run_script("prerm", "upgrade", true, dir);
  EXPECT_EQ(upgrading.values()["rc"], "0") << upgrading.describe();
  EXPECT_EQ(calls(), "") << "an upgrade leaves the running service (and its sandboxes) alone";

  ProcessResult removing = run_script("prerm", "remove", true, dir);
  EXPECT_EQ(removing.values()["rc"], "0") << removing.describe();
  EXPECT_EQ(calls(), "stop nsbrokerd.socket nsbrokerd.service\ndisable nsbrokerd.socket\n");

  ProcessResult purged = run_script("postrm", "purge", true, dir);
  EXPECT_EQ(purged.values()["rc"], "0") << purged.describe();
  EXPECT_EQ(calls(), "daemon-reload\n");
  EXPECT_EQ(purged.values()["etc_nsbroker"], "0") << "an empty /etc/nsbroker is removed on purge";
}

}  // namespace
}  // namespace nsbroker::stest
