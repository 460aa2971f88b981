// Issue 8, finding 2: a chrooted caller must get its chroot as the sandbox's "/" (or a clear
// refusal), never the root of its mount namespace.
//
// The jail is a plain directory (not a mount point) under the test's work tree. The caller
// gets a mount namespace of its own (private, so nothing reaches the test's namespace) in
// which /usr, /proc, the directory holding the client, and the daemon's socket directory are
// bound into the jail; it then chroots into the jail and drops to uid 1500. Inside the jail,
// at the same path as a file outside it, is a marker of its own.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "security_fixture.h"

namespace nsbroker::sectest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string directory_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

// mkdir -p as root, 0755.
void make_dirs(const std::string& path) {
  std::filesystem::create_directories(path);
  std::filesystem::permissions(path, std::filesystem::perms(0755));
}

class ChrootTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    jail_ = *work_ / "jail";
    make_dir(jail_, 0, 0, 0755);
    for (const char* dir : {"/usr", "/proc", "/dev", "/tmp"}) make_dir(jail_ + dir, 0, 0, 0755);
    for (const char* link : {"bin", "sbin", "lib", "lib64"}) {
      std::string target = std::string("usr/") + link;
      if (path_exists("/" + target)) make_symlink(target, jail_ + "/" + link, 0, 0);
    }
    client_dir_ = directory_of(binaries().client);
    socket_dir_ = directory_of(daemon_->socket_path());
    make_dirs(jail_ + client_dir_);
    make_dirs(jail_ + socket_dir_);
    // The same absolute path outside the jail and inside it, with different content.
    outside_ = *work_ / "outside/marker";
    make_dir(*work_ / "outside", 0, 0, 0755);
    write_file(outside_, "nsb-outside-the-jail\n");
    make_dirs(jail_ + directory_of(outside_));
    write_file(jail_ + outside_, "nsb-inside-the-jail\n");
    only_outside_ = *work_ / "only-outside";
    write_file(only_outside_, "nsb-only-outside-the-jail\n");
  }

  // The jailed caller: `nsbroker run --socket S ARGS...` chrooted in the jail.
  ProcessSpec jailed(std::vector<std::string> args) const {
    ProcessSpec s = spec(std::move(args));
    struct Bind {
      std::string from, to;
    };
    // /proc too, as a real jail has (and the sanitizer builds' client needs at exit).
    std::vector<Bind> binds = {{"/usr", jail_ + "/usr"},
                               {"/proc", jail_ + "/proc"},
                               {client_dir_, jail_ + client_dir_},
                               {socket_dir_, jail_ + socket_dir_}};
    s.before_drop = [binds] {
      // System calls only: the strings were made before the fork.
      if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) ::_exit(125);
      for (const Bind& b : binds) {
        if (::mount(b.from.c_str(), b.to.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) ::_exit(125);
      }
    };
    s.chroot_dir = jail_;
    s.cwd = "/";
    return s;
  }

  std::set<std::string> jail_root_entries() const {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(jail_)) names.insert(entry.path().filename().string());
    return names;
  }

  std::string jail_, client_dir_, socket_dir_, outside_, only_outside_;
};

TEST_P(ChrootTest, RootBindOfAChrootedCallerIsItsJail) {
  // The harness's jail works: the caller itself sees the jail's marker.
  ProcessSpec self = jailed({});
  self.argv = {"/usr/bin/cat", outside_};
  ProcessResult own = run_process(self);
  ASSERT_EQ(own.out, "nsb-inside-the-jail\n") << "the jailed caller itself\n" << own.describe();

  ProcessResult r = run_process(jailed({"--ro-bind", "/", "/", "--", "cat", outside_}));
  EXPECT_THAT(r.out, Not(HasSubstr("nsb-outside-the-jail"))) << "the sandbox read a file outside the jail\n"
                                                              << r.describe();
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "nsb-inside-the-jail\n") << "the sandbox must see the caller's chroot as /\n" << r.describe();
}

TEST_P(ChrootTest, FilesOutsideTheJailAreUnreachable) {
  ProcessResult r = run_process(jailed({"--ro-bind", "/", "/", "--", "cat", only_outside_}));
  EXPECT_THAT(r.out, Not(HasSubstr("nsb-only-outside-the-jail"))) << r.describe();
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("No such file or directory")) << r.describe();

  // Named as a bind source: resolved in the jail, where it does not exist. (The destination
  // exists both in the jail and outside it, so only the source can make the request fail.)
  r = run_process(jailed({"--ro-bind", "/", "/", "--ro-bind", only_outside_, outside_, "--", "cat", outside_}));
  EXPECT_THAT(r.out, Not(HasSubstr("nsb-only-outside-the-jail"))) << r.describe();
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("bind source " + only_outside_ + ": No such file or directory")) << r.describe();
}

TEST_P(ChrootTest, SandboxRootListingIsTheJails) {
  ProcessResult r = run_process(jailed({"--ro-bind", "/", "/", "--", "ls", "-a", "/"}));
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::set<std::string> seen;
  for (const std::string& name : lines_of(r.out)) {
    if (!name.empty() && name != "." && name != "..") seen.insert(name);
  }
  EXPECT_EQ(seen, jail_root_entries()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Configs, ChrootTest, ::testing::ValuesIn(kAllConfigs), ConfigName());

}  // namespace
}  // namespace nsbroker::sectest
