// Codex's real bubblewrap calls, replayed through nsbroker's `bwrap` front.
//
// Every main, proc-preflight and startup-userns-probe vector of
// <shared>/testdata/codex-bwrap-vectors.json (109 calls captured from Codex CLI; see its
// README.md) runs as uid 1500 whose own user-namespace creation is blocked
// (nsbroker-test-deny-userns --errno EPERM), through our bwrap, against a real nsbrokerd
// running the shipped Codex profile (config/examples/codex.pbtxt), in userns mode and in
// privileged mode. For each vector:
//   - Codex's paths are re-rooted into a fresh temporary tree: /home/alice, /tmp,
//     /var/tmp/alice-tmp and /var/lib/codex-home* become <tree>/..., with the project tree and
//     the files the vector's script touches (.git, secret/key, .env, ...);
//   - $CODEX_EXE becomes the test executable's Codex helper stand-in (helper_mode.h), a file
//     named codex-linux-sandbox inside Codex's arg0 directory, which prints what the real
//     helper checks (uid, CapEff/CapPrm, NoNewPrivs, pid, cwd, mounts) and runs the command;
//   - the fds the call relies on (extra_inherited_fds, "3 -> /dev/null") are open;
//   - expected: the command's exit status, the probe's view (uid 1500, no capabilities,
//     NoNewPrivs 1, PID 1 with --as-pid-1, the cwd), nothing printed by bwrap itself, secrets
//     behind --ro-bind-data carve-outs unreadable, and every path created on the host (the
//     missing mount targets inside writable binds) owned by uid 1500;
//   - where Debian's /usr/bin/bwrap runs as uid 1500 without restriction, the same call runs
//     through it too (without --argv0 when that bwrap lacks it: Codex then sends the same
//     argv minus --argv0, its helper being a file named codex-linux-sandbox) and the
//     observable results are compared side by side.
//
// exit_code_of_codex is Codex's own exit status for the whole scenario. Where it is the
// command's (exit7 → 7, sigterm → 143, sigkill → 137) the main call must end so; where it is
// 1 (failmain, failns, minimal, wr_ws) Codex failed for reasons outside this call (injected
// failures, a Codex binary outside the minimal root), so the command's own status is expected
// (0, as Debian's bwrap shows where it can run).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <iostream>
#include <sstream>

#include "codex_vectors.h"
#include "helper_mode.h"
#include "sandbox_fixture.h"

namespace nsbroker::itest {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string& vectors_path() {
  static const std::string path = codex_vectors_path(NSBROKER_SHARED_DIR);
  return path;
}

struct Case {
  CodexVector vector;
  DaemonConfig config;

  friend void PrintTo(const Case& c, std::ostream* out) {
    *out << "vector " << c.vector.index << " (" << c.vector.scenario << ", " << c.vector.kind << "), "
         << config_name(c.config);
  }
};

std::vector<Case> cases() {
  std::vector<Case> all;
  for (const CodexVector& v : load_codex_vectors(vectors_path()).vectors) {
    if (v.kind == "help-probe") continue;
    for (DaemonConfig config : {DaemonConfig::kUserNamespace, DaemonConfig::kPrivilegedForced}) {
      all.push_back({v, config});
    }
  }
  return all;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const CodexVector& v = info.param.vector;
  char index[8];
  std::snprintf(index, sizeof index, "%03zu", v.index);
  std::string name = std::string(index) + "_" + v.scenario + "_" + v.kind + "_" + config_name(info.param.config);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::string basename_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// ---- our bwrap and Debian's -----------------------------------------------------------------

// The front, as a file named bwrap in a 0755 directory uid 1500 can reach.
const std::string& our_bwrap() {
  static TempDir dir("nsb-it-bwrap-", 0755);
  static const std::string path = [] {
    std::string to = dir / "bwrap";
    fs::copy_file(NSBROKER_BWRAP_BIN, to, fs::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0755);
    return to;
  }();
  return path;
}

struct DebianBwrap {
  std::string path = "/usr/bin/bwrap";
  std::optional<std::string> unusable;  // why the comparison is skipped
  bool has_argv0 = false;
};

const DebianBwrap& debian_bwrap() {
  static const DebianBwrap bwrap = [] {
    DebianBwrap b;
    if (!path_exists(b.path)) {
      b.unusable = b.path + " is not installed (apt-get install bubblewrap)";
      return b;
    }
    ProcessSpec help;
    help.argv = {b.path, "--help"};
    b.has_argv0 = run_process(help).out.find("--argv0") != std::string::npos;
    ProcessSpec probe;
    probe.argv = {b.path, "--ro-bind", "/", "/", "/bin/true"};
    ProcessResult r = run_process(probe);
    if (r.exit_code != 0) {
      b.unusable = b.path + " cannot run as uid 1500 here (" + r.describe() + ")";
    }
    return b;
  }();
  return bwrap;
}

// ---- the temporary tree Codex's paths are re-rooted into ------------------------------------

class CodexTree {
 public:
  CodexTree() : dir_("nsb-codex-", 0755) {
    auto mine = [&](const std::string& path, mode_t mode = 0755) {
      make_dir(root() + path, kCallerUid, kCallerUid, mode);
    };
    auto roots = [&](const std::string& path, mode_t mode = 0755) {
      make_dir(root() + path, 0, 0, mode);
    };
    roots("/home");
    mine("/home/alice");
    mine("/home/alice/project");
    mine("/home/alice/project/.git");
    file("/home/alice/project/.git/HEAD", "ref: refs/heads/main\n");
    file("/home/alice/project/README.md", "the project\n");
    file("/home/alice/project/.env", "SECRET_TOKEN=" + std::string(kSecret) + "\n");
    mine("/home/alice/project/sub");
    file("/home/alice/project/sub/prod.env", "PROD_TOKEN=" + std::string(kSecret) + "\n");
    mine("/home/alice/project/secret");
    file("/home/alice/project/secret/key", std::string(kSecret) + "\n");
    mine("/home/alice/project/secret/ok");
    mine("/home/alice/project/private");
    file("/home/alice/project/private/notes", std::string(kSecret) + "\n");
    mine("/home/alice/proj2");
    mine("/home/alice/proj2/.git");
    mine("/home/alice/extra");
    mine("/home/alice/nogit");
    roots("/tmp", 01777);
    for (const char* uid : {"0", "1004"}) {
      mine(std::string("/tmp/codex-daemon-") + uid, 0700);
      mine(std::string("/tmp/codex-bwrap-synthetic-mount-targets-") + uid);
    }
    roots("/var");
    roots("/var/tmp", 01777);
    mine("/var/tmp/alice-tmp");
    mine("/var/tmp/alice-tmp/codex-bwrap-synthetic-mount-targets-0");
    roots("/var/lib");
    for (const char* dir : {"/var/lib/codex-home", "/var/lib/codex-home/tmp",
                            "/var/lib/codex-home/tmp/arg0-linux", kArg0Dir}) {
      mine(dir);
    }
    roots("/var/lib/codex-home2");
    mine("/var/lib/codex-home2/memories");
    // The helper stand-in, where Codex keeps its arg0 links (the minimal root binds it).
    fs::copy_file(binaries().helper, probe());
    ::chown(probe().c_str(), kCallerUid, kCallerUid);
    ::chmod(probe().c_str(), 0755);
  }

  static constexpr const char* kSecret = "nsb-codex-secret-7f3a";
  static constexpr const char* kArg0Dir = "/var/lib/codex-home/tmp/arg0-linux/codex-arg0XXXXXX";

  const std::string& root() const { return dir_.path(); }
  std::string probe() const { return root() + kArg0Dir + "/" + std::string(kCodexProbeName); }

  // Codex's path (or a string holding Codex's paths: a script, a JSON policy) in this tree.
  std::string reroot(const std::string& text) const { return reroot_codex_paths(text, root()); }

  // Each path below the tree with its owner, to see what a run created on the host.
  std::map<std::string, std::pair<uid_t, gid_t>> snapshot() const {
    std::map<std::string, std::pair<uid_t, gid_t>> owners;
    for (const std::string& relative : list_tree(root())) {
      struct stat st {};
      if (::lstat((root() + "/" + relative).c_str(), &st) == 0) {
        owners[relative] = {st.st_uid, st.st_gid};
      }
    }
    return owners;
  }

  // Removes what a run added (Codex removes the mount targets bwrap created).
  void remove_added(const std::map<std::string, std::pair<uid_t, gid_t>>& before) const {
    for (const auto& [relative, owner] : snapshot()) {
      if (before.count(relative)) continue;
      std::error_code ec;
      fs::remove_all(root() + "/" + relative, ec);
    }
  }

  // A non-try bind source that does not exist (v120ws binds the project's .codex) is made,
  // as Codex only names sources that exist.
  void create_missing_bind_sources(const std::vector<std::string>& argv) const {
    for (std::size_t i = 1; i + 2 < argv.size(); ++i) {
      if (argv[i] == "--") break;
      if (argv[i] != "--bind" && argv[i] != "--ro-bind" && argv[i] != "--dev-bind") continue;
      const std::string& source = argv[i + 1];
      if (source.rfind(root() + "/", 0) == 0 && !path_exists(source)) {
        make_dirs_as_caller(source);
      }
      i += 2;
    }
  }

 private:
  void file(const std::string& path, const std::string& content) const {
    write_file(root() + path, content);
    ::chown((root() + path).c_str(), kCallerUid, kCallerUid);
  }

  void make_dirs_as_caller(const std::string& path) const {
    std::string parent = path.substr(0, path.rfind('/'));
    if (!path_exists(parent)) make_dirs_as_caller(parent);
    make_dir(path, kCallerUid, kCallerUid, 0755);
  }

  TempDir dir_;
};

// ---- what a run shows -----------------------------------------------------------------------

struct Observed {
  ProcessResult result;
  std::map<std::string, std::string> probe;   // "uid" → "1500", ...
  std::multiset<std::string> mounts_in_tree;  // "<point> <fstype> <ro|rw>", points in the tree
  std::vector<std::string> script_lines;      // the command's comparable output
  std::map<std::string, std::pair<uid_t, gid_t>> created;  // host paths the run added
};

// The command's output lines that mean the same under any bwrap: the markers the scripts
// echo, and the errors of touch/ls/cat (read-only file systems, permissions).
std::vector<std::string> comparable_lines(const std::string& out, const std::string& err) {
  static const std::regex kMarker(
      "^(inside( pid=[0-9]+)?|wrote(-[a-z]+)?|done|ok|hello-from-tool|unix ok|inet ok|pid=[0-9]+)$");
  std::vector<std::string> lines;
  for (const std::string& line : lines_of(out)) {
    if (line.rfind("probe:", 0) != 0 && std::regex_match(line, kMarker)) lines.push_back("out: " + line);
  }
  for (const std::string& line : lines_of(err)) {
    if (line.rfind("touch:", 0) == 0 || line.rfind("ls:", 0) == 0 || line.rfind("cat:", 0) == 0) {
      lines.push_back("err: " + line);
    }
  }
  return lines;
}

Observed observe(const CodexTree& tree, ProcessResult result,
                 const std::map<std::string, std::pair<uid_t, gid_t>>& before) {
  Observed o;
  for (const std::string& line : lines_of(result.out)) {
    if (line.rfind("probe:", 0) != 0) continue;
    std::size_t eq = line.find('=');
    std::string key = line.substr(6, eq - 6);
    std::string value = line.substr(eq + 1);
    if (key == "mount") {
      if (value.rfind(tree.root() + "/", 0) == 0) o.mounts_in_tree.insert(value);
    } else {
      o.probe[key] = value;
    }
  }
  o.script_lines = comparable_lines(result.out, result.err);
  for (const auto& [path, owner] : tree.snapshot()) {
    if (!before.count(path)) o.created[path] = owner;
  }
  o.result = std::move(result);
  return o;
}

std::string describe_created(const std::map<std::string, std::pair<uid_t, gid_t>>& created) {
  std::string text;
  for (const auto& [path, owner] : created) {
    text += "  " + path + " (" + std::to_string(owner.first) + ":" + std::to_string(owner.second) + ")\n";
  }
  return text.empty() ? "  (nothing)\n" : text;
}

bool has_option(const std::vector<std::string>& argv, const std::string& option) {
  auto end = std::find(argv.begin(), argv.end(), "--");
  return std::find(argv.begin(), end, option) != end;
}

// nsbrokerd in `config`, with the shipped Codex profile as its policy.
void start_codex_daemon(DaemonConfig config, std::unique_ptr<DaemonProcess>& daemon) {
  DaemonSpec spec = DaemonSpec::for_config(config);
  std::optional<std::string> profile =
      read_file(std::string(NSBROKER_SOURCE_DIR) + "/config/examples/codex.pbtxt");
  ASSERT_TRUE(profile) << "config/examples/codex.pbtxt is missing";
  spec.policy_text = *profile;
  daemon = std::make_unique<DaemonProcess>(spec);
  ASSERT_TRUE(daemon->ready()) << daemon->error();
  ASSERT_EQ(daemon->listening_mode(), expected_mode(config)) << daemon->log();
}

// The status the call must end with (see the file comment).
int expected_exit(const CodexVector& v) {
  if (v.kind != "main") return 0;
  return v.exit_code_of_codex && *v.exit_code_of_codex > 1 ? *v.exit_code_of_codex : 0;
}

// ---- the test -------------------------------------------------------------------------------

class CodexVectorTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (auto why = config_unavailable(GetParam().config)) GTEST_SKIP() << *why;
    if (auto why = need_seccomp()) GTEST_SKIP() << *why;
    start_codex_daemon(GetParam().config, daemon_);
    if (HasFatalFailure()) return;
    tree_ = std::make_unique<CodexTree>();
  }

  void TearDown() override { check_daemon_after_test(daemon_.get(), config_name(GetParam().config)); }

  // The vector's argv in the tree, run by `bwrap` (the path given).
  std::vector<std::string> argv_for(const std::string& bwrap, bool keep_argv0) const {
    const CodexVector& v = GetParam().vector;
    std::vector<std::string> argv = {bwrap};
    for (std::size_t i = 1; i < v.argv.size(); ++i) {
      if (!keep_argv0 && v.argv[i] == "--argv0" && has_option(v.argv, "--argv0")) {
        auto options_end = std::find(v.argv.begin(), v.argv.end(), "--") - v.argv.begin();
        if (static_cast<std::ptrdiff_t>(i) < options_end) {
          ++i;  // and its value
          continue;
        }
      }
      argv.push_back(v.argv[i] == "$CODEX_EXE" ? tree_->probe() : tree_->reroot(v.argv[i]));
    }
    return argv;
  }

  ProcessSpec spec_for(std::vector<std::string> argv, bool deny_userns) const {
    const CodexVector& v = GetParam().vector;
    ProcessSpec spec;
    spec.argv = std::move(argv);
    if (deny_userns) spec.deny_userns_errno = "EPERM";
    spec.cwd = tree_->reroot(v.cwd);
    spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", "HOME=" + tree_->root() + "/home/alice",
                "USER=alice", "NSBROKER_SOCKET=" + daemon_->socket_path()};
    spec.timeout = 30s;
    // The fds Codex leaves open for --ro-bind-data FD, on /dev/null as captured.
    std::vector<int> fds = v.extra_fd_numbers();
    if (!fds.empty()) {
      spec.before_drop = [fds] {
        int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd < 0) ::_exit(125);
        for (int fd : fds) {
          if (fd != null_fd && ::dup2(null_fd, fd) < 0) ::_exit(125);
        }
        if (std::find(fds.begin(), fds.end(), null_fd) == fds.end()) ::close(null_fd);
      };
    }
    return spec;
  }

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<CodexTree> tree_;
};

TEST_P(CodexVectorTest, ReplaysThroughTheBwrapFront) {
  const CodexVector& v = GetParam().vector;
  std::vector<std::string> argv = argv_for(our_bwrap(), true);
  tree_->create_missing_bind_sources(argv);
  auto before = tree_->snapshot();
  Observed ours = observe(*tree_, run_process(spec_for(argv, true)), before);
  const ProcessResult& r = ours.result;
  std::string context = "vector " + std::to_string(v.index) + " (" + v.scenario + ", " + v.kind +
                        ")\n" + r.describe();

  EXPECT_FALSE(r.timed_out) << context;
  EXPECT_EQ(r.exit_code, expected_exit(v)) << context;
  EXPECT_THAT(r.err, Not(HasSubstr("bwrap:"))) << "the front reported an error\n" << context;
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(CodexTree::kSecret))) << "a carve-out leaked\n" << context;

  if (v.kind == "main") {
    const auto& p = ours.probe;
    ASSERT_FALSE(p.empty()) << "the Codex helper stand-in did not run\n" << context;
    EXPECT_EQ(p.at("uid"), std::to_string(kCallerUid)) << context;
    EXPECT_EQ(p.at("gid"), std::to_string(kCallerUid)) << context;
    EXPECT_EQ(p.at("CapEff"), "0000000000000000") << context;
    EXPECT_EQ(p.at("CapPrm"), "0000000000000000") << context;
    EXPECT_EQ(p.at("NoNewPrivs"), "1") << context;
    if (has_option(v.argv, "--as-pid-1")) {
      EXPECT_EQ(p.at("pid"), "1") << context;
    } else {
      EXPECT_NE(p.at("pid"), "1") << "a small init is PID 1 without --as-pid-1\n" << context;
    }
    // The caller's cwd is kept (no vector's --chdir names another directory).
    EXPECT_EQ(p.at("cwd"), tree_->reroot(v.cwd)) << context;
    if (has_option(v.argv, "--argv0")) {
      EXPECT_EQ(p.at("argv0"), "codex-linux-sandbox") << context;
    } else {
      EXPECT_EQ(basename_of(p.at("argv0")), "codex-linux-sandbox") << context;
    }
  } else {
    EXPECT_EQ(r.out, "") << context;
    EXPECT_EQ(r.err, "") << context;
  }
  // Mount targets missing inside writable binds were made on the host, as the caller.
  for (const auto& [path, owner] : ours.created) {
    EXPECT_EQ(owner, std::make_pair(kCallerUid, static_cast<gid_t>(kCallerUid)))
        << path << " was created on the host by someone else than the caller\n" << context;
  }
  tree_->remove_added(before);

  // Side by side with Debian's bwrap.
  const DebianBwrap& debian = debian_bwrap();
  if (debian.unusable) {
    std::cout << "[ compare  ] skipped: " << *debian.unusable << "\n";
    return;
  }
  Observed theirs =
      observe(*tree_, run_process(spec_for(argv_for(debian.path, debian.has_argv0), false)), before);
  tree_->remove_added(before);
  std::string both = context + "\n=== Debian's bwrap ===\n" + theirs.result.describe();
  EXPECT_EQ(r.exit_code, theirs.result.exit_code) << both;
  EXPECT_EQ(ours.script_lines, theirs.script_lines) << both;
  EXPECT_EQ(ours.mounts_in_tree, theirs.mounts_in_tree) << both;
  EXPECT_EQ(ours.created, theirs.created)
      << "paths created on the host differ\nours:\n" << describe_created(ours.created)
      << "Debian's bwrap:\n" << describe_created(theirs.created) << both;
  for (const char* key : {"uid", "gid", "CapEff", "CapPrm", "NoNewPrivs", "pid", "cwd"}) {
    auto mine = ours.probe.find(key);
    auto other = theirs.probe.find(key);
    ASSERT_EQ(mine == ours.probe.end(), other == theirs.probe.end()) << key << "\n" << both;
    if (mine != ours.probe.end()) {
      EXPECT_EQ(mine->second, other->second) << key << "\n" << both;
    }
  }
  if (ours.probe.count("argv0") && theirs.probe.count("argv0")) {
    EXPECT_EQ(basename_of(ours.probe.at("argv0")), basename_of(theirs.probe.at("argv0"))) << both;
  }
  std::cout << "[ compare  ] side by side with " << debian.path
            << (debian.has_argv0 ? "" : " (without --argv0)") << ": exit status, "
            << ours.probe.size() << " probe fields, " << ours.mounts_in_tree.size()
            << " mounts in the tree, " << ours.created.size() << " paths created on the host, "
            << ours.script_lines.size() << " output lines\n";
}


// ---- the front's own behaviour, beyond Codex's calls ----------------------------------------

// The bwrap front as uid 1500 (user namespaces blocked) against a Codex-profile daemon, with
// a scratch directory the caller owns; commands go through /bin/sh so that fds can be set up.
class CodexBwrapFront : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = config_unavailable(DaemonConfig::kUserNamespace)) GTEST_SKIP() << *why;
    if (auto why = need_seccomp()) GTEST_SKIP() << *why;
    start_codex_daemon(DaemonConfig::kUserNamespace, daemon_);
    if (HasFatalFailure()) return;
    work_ = std::make_unique<TempDir>("nsb-front-", 0755);
    ::chown(work_->path().c_str(), kCallerUid, kCallerUid);
  }

  void TearDown() override { check_daemon_after_test(daemon_.get(), "userns"); }

  // `sh -c SCRIPT` as the caller; $BWRAP is the front, $W the scratch directory.
  ProcessResult shell(const std::string& script, std::string socket = "") {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.deny_userns_errno = "EPERM";
    spec.cwd = work_->path();
    spec.env = {"PATH=/usr/bin:/bin", "LC_ALL=C", "BWRAP=" + our_bwrap(), "W=" + work_->path(),
                "NSBROKER_SOCKET=" + (socket.empty() ? daemon_->socket_path() : socket)};
    return run_process(spec);
  }

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<TempDir> work_;
};

// One "bwrap: ..." line on stderr, nothing on stdout, exit status 1.
void expect_front_error(const ProcessResult& r, const std::string& must_contain,
                        const std::string& prefix = "bwrap: ") {
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << r.describe();
  EXPECT_THAT(r.err, HasSubstr(must_contain)) << r.describe();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line\n" << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
}

TEST_F(CodexBwrapFront, ExitStatusIsTheCommandsOr128PlusSignal) {
  EXPECT_EQ(shell("$BWRAP --ro-bind / / -- /bin/sh -c 'exit 7'").exit_code, 7);
  EXPECT_EQ(shell("$BWRAP --ro-bind / / --unshare-pid -- /bin/sh -c 'kill -TERM $$'").exit_code, 143);
  EXPECT_EQ(shell("$BWRAP --ro-bind / / --unshare-pid -- /bin/sh -c 'kill -KILL $$'").exit_code, 137);
}

TEST_F(CodexBwrapFront, ItsOwnErrorsAreOneLine) {
  expect_front_error(shell("$BWRAP --ro-bind / / --bogus -- /bin/true"), "unknown option --bogus");
  expect_front_error(shell("$BWRAP --overlay-src /a --tmp-overlay /b /bin/true"),
                     "--overlay-src is not supported");
  expect_front_error(shell("$BWRAP --level-prefix --bogus /bin/true"), "unknown option", "<3>bwrap: ");
  expect_front_error(shell("$BWRAP --ro-bind / / /bin/true", work_->path() + "/no.sock"),
                     "cannot reach nsbrokerd at " + work_->path() + "/no.sock");
  // A policy refusal names the rule.
  expect_front_error(shell("$BWRAP --ro-bind / / --bind /etc /etc -- /bin/true"), "mounts.read_write");
  expect_front_error(shell("$BWRAP --ro-bind / / --file 9 /x -- /bin/true"),
                     "file descriptor 9 named on the command line is not open");
}

TEST_F(CodexBwrapFront, InfoAndJsonStatusFds) {
  ProcessResult r = shell(
      "exec 3>\"$W/info\" 4>\"$W/status\"; "
      "$BWRAP --ro-bind / / --unshare-pid --info-fd 3 --json-status-fd 4 -- /bin/sh -c 'exit 3'");
  EXPECT_EQ(r.exit_code, 3) << r.describe();
  std::string info = read_file(*work_ / "info").value_or("");
  std::string status = read_file(*work_ / "status").value_or("");
  EXPECT_TRUE(std::regex_match(info, std::regex("\\{\n    \"child-pid\": [1-9][0-9]*\n\\}\n"))) << info;
  EXPECT_TRUE(std::regex_match(
      status, std::regex("\\{ \"child-pid\": [1-9][0-9]* \\}\n\\{ \"exit-code\": 3 \\}\n")))
      << status;
}

TEST_F(CodexBwrapFront, BlockFdHoldsTheCommandBack) {
  // The command writes a timestamp; the writer side of the pipe sends one 300 ms later.
  ProcessResult r = shell(
      "start=$(date +%s%N); "
      "(sleep 0.3; echo go) | $BWRAP --ro-bind / / --block-fd 0 -- /bin/sh -c 'date +%s%N' > \"$W/t\"; "
      "echo $(( ($(cat \"$W/t\") - start) / 1000000 ))");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_GE(std::stol(r.out), 300) << "the command ran before --block-fd had data\n" << r.describe();
}

TEST_F(CodexBwrapFront, ArgsFdAndSyncFd) {
  ProcessResult r = shell(
      "printf '%s\\0' --ro-bind / / --setenv GREETING 'hello there' > \"$W/args\"; "
      "exec 3<\"$W/args\"; "
      "$BWRAP --args 3 --sync-fd 1 -- /bin/sh -c 'echo \"$GREETING\"'");
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "hello there\n") << r.describe();
  expect_front_error(shell("printf '%s\\0' --args 4 > \"$W/a\"; exec 3<\"$W/a\"; "
                           "$BWRAP --args 3 -- /bin/true"),
                     "--args is not supported inside an --args file");
}

INSTANTIATE_TEST_SUITE_P(CodexVectors, CodexVectorTest, ::testing::ValuesIn(cases()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CodexVectorTest);

// The file itself: present (or the replay above is empty, and this says why), complete and
// readable by our own JSON reader.
TEST(CodexVectorsFile, IsPresentAndReadable) {
  if (!path_exists(vectors_path())) {
    GTEST_SKIP() << vectors_path() << " is absent: the Codex vector replay has nothing to run "
                 << "(the shared test data lives next to the repository, in ../shared)";
  }
  VectorFile file = load_codex_vectors(vectors_path());
  ASSERT_EQ(file.error, "");
  EXPECT_EQ(file.vectors.size(), 109u);
  std::size_t replayed = std::count_if(file.vectors.begin(), file.vectors.end(),
                                       [](const CodexVector& v) { return v.kind != "help-probe"; });
  EXPECT_EQ(replayed, 69u);
}

// `bwrap --help`, as Codex runs it before every command: answered without the daemon, with
// what Codex looks for, exit status 0.
TEST(CodexVectorsFile, HelpProbeNeedsNoDaemon) {
  if (auto why = need_root()) GTEST_SKIP() << *why;
  ProcessSpec spec;
  spec.argv = {our_bwrap(), "--help"};
  spec.env = {"PATH=/usr/bin:/bin", "NSBROKER_SOCKET=/nonexistent/nsbroker.sock"};
  ProcessResult r = run_process(spec);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  for (const char* option : {"--as-pid-1", "--perms", "--argv0", "--ro-bind-fd"}) {
    EXPECT_THAT(r.out, HasSubstr(option)) << r.describe();
  }
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace nsbroker::itest
