// Table tests for the bubblewrap front of parse_run_options() (Front::kBwrap): every option of
// bubblewrap 0.11 the front accepts, the ones it refuses, bad forms, bubblewrap's ordering
// and stacking rules, --args (splicing, nesting, empty words, a missing final NUL), and the
// texts the front prints (--help, --version, diagnostics, --info-fd/--json-status-fd JSON).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "client/bwrap/diagnostics.h"
#include "client/capabilities.h"
#include "client/help_text.h"
#include "client/run_options.h"
#include "client/status_json.h"
#include "codex_vectors.h"
#include "run_options_summary.h"

namespace nsbroker::client {
namespace {

using testing_support::case_name;
using testing_support::summarize;
using Words = testing_support::Words;

// --args contents by fd number; an fd not in the table cannot be read.
using ArgsFiles = std::map<int, std::string>;

struct Parse {
  ParseOutcome outcome;
  std::vector<int> fds_read;  // in the order --args read them
};

Parse parse(const Words& words, const ArgsFiles& files = {}, const Words& environment = {},
            Front front = Front::kBwrap) {
  Parse result;
  ParseContext context;
  context.front = front;
  context.read_args = [&](int fd) {
    result.fds_read.push_back(fd);
    ArgsData data;
    auto found = files.find(fd);
    if (found == files.end()) data.error = "Bad file descriptor";
    else data.bytes = found->second;
    return data;
  };
  result.outcome = parse_run_options(words, environment, context);
  return result;
}

std::string text(const Words& words) { return testing_support::join_words(words, " "); }

// The content of an --args file: each word followed by a NUL.
std::string nul_separated(const std::vector<std::string>& words) {
  std::string data;
  for (const std::string& word : words) data += word + '\0';
  return data;
}

// The same without the NUL after the last word (bubblewrap takes that word all the same).
std::string unterminated(const std::vector<std::string>& words) {
  std::string data = nul_separated(words);
  data.pop_back();
  return data;
}

// ---- accepted command lines -----------------------------------------------------------------

struct RunCase {
  std::string name;
  Words words;
  std::string expected;
  ArgsFiles files = {};
  Words environment = {};

  friend void PrintTo(const RunCase& c, std::ostream* out) { *out << text(c.words); }
};

const RunCase kRunCases[] = {
    // The -try forms: a missing source skips the operation (the daemon checks).
    {"BindTry", {"--bind-try", "/a", "/b", "true"}, "argv=[true] mounts=[bind-try /a /b]"},
    {"RoBindTry", {"--ro-bind-try", "/a", "/b", "true"}, "argv=[true] mounts=[ro-bind-try /a /b]"},
    {"DevBindTry",
     {"--dev-bind-try", "/dev/dri", "/dev/dri", "true"},
     "argv=[true] mounts=[dev-bind-try /dev/dri /dev/dri]"},
    {"TryAndPlainStackInOrder",
     {"--ro-bind", "/", "/", "--bind-try", "/home/u/.cache", "/home/u/.cache", "true"},
     "argv=[true] mounts=[ro-bind / /; bind-try /home/u/.cache /home/u/.cache]"},

    // Mounts from fds: the fd travels as a data fd (record index 4, 5, ...), no source path.
    {"BindFd", {"--bind-fd", "5", "/w", "true"}, "argv=[true] mounts=[bind fd=4 /w] data_fds=[5]"},
    {"RoBindFd",
     {"--ro-bind-fd", "7", "/r", "true"},
     "argv=[true] mounts=[ro-bind fd=4 /r] data_fds=[7]"},
    {"File", {"--file", "3", "/etc/x", "true"}, "argv=[true] mounts=[file fd=4 /etc/x] data_fds=[3]"},
    {"BindData",
     {"--bind-data", "3", "/d", "true"},
     "argv=[true] mounts=[bind-data fd=4 /d] data_fds=[3]"},
    {"RoBindData",
     {"--ro-bind-data", "3", "/home/u/p/.env", "true"},
     "argv=[true] mounts=[ro-bind-data fd=4 /home/u/p/.env] data_fds=[3]"},
    {"FdZeroIsAnFd", {"--file", "0", "/in", "true"}, "argv=[true] mounts=[file fd=4 /in] data_fds=[0]"},
    {"DataFdsAttachInOrder",
     {"--ro-bind-data", "3", "/a", "--ro-bind-data", "4", "/b", "--bind-fd", "9", "/c", "true"},
     "argv=[true] mounts=[ro-bind-data fd=4 /a; ro-bind-data fd=5 /b; bind fd=6 /c] "
     "data_fds=[3 4 9]"},
    {"SameFdAttachedOnce",
     {"--file", "3", "/a", "--ro-bind-data", "3", "/b", "true"},
     "argv=[true] mounts=[file fd=4 /a; ro-bind-data fd=4 /b] data_fds=[3]"},

    // --perms applies to the next --tmpfs, --dir, --file, --bind-data or --ro-bind-data.
    {"PermsOnFile",
     {"--perms", "0600", "--file", "3", "/f", "true"},
     "argv=[true] mounts=[file fd=4 /f perms=0600] data_fds=[3]"},
    {"PermsOnBindData",
     {"--perms", "640", "--bind-data", "3", "/f", "true"},
     "argv=[true] mounts=[bind-data fd=4 /f perms=0640] data_fds=[3]"},
    {"PermsOnRoBindData",
     {"--perms", "000", "--ro-bind-data", "3", "/p/.env", "true"},
     "argv=[true] mounts=[ro-bind-data fd=4 /p/.env perms=0000] data_fds=[3]"},
    {"PermsOnceEach",
     {"--perms", "555", "--tmpfs", "/a", "--remount-ro", "/a", "--perms", "000", "--tmpfs", "/b",
      "true"},
     "argv=[true] mounts=[tmpfs /a perms=0555; remount-ro /a; tmpfs /b perms=0000]"},
    {"DataOptionsWithoutPermsLeaveTheDefault",
     {"--file", "3", "/f", "--tmpfs", "/t", "true"},
     "argv=[true] mounts=[file fd=4 /f; tmpfs /t] data_fds=[3]"},

    // --chmod carries its own mode; --lock-file is an operation in argv order too.
    {"Chmod", {"--chmod", "0640", "/f", "true"}, "argv=[true] mounts=[chmod /f perms=0640]"},
    {"ChmodSticky", {"--chmod", "1777", "/t", "true"}, "argv=[true] mounts=[chmod /t perms=1777]"},
    {"ChmodAfterDir",
     {"--dir", "/d", "--chmod", "700", "/d", "true"},
     "argv=[true] mounts=[dir /d; chmod /d perms=0700]"},
    {"LockFile", {"--lock-file", "/l", "true"}, "argv=[true] mounts=[lock-file /l]"},
    {"LockFileWithReaper",
     {"--unshare-pid", "--lock-file", "/l", "true"},
     "argv=[true] unshare=[pid] mounts=[lock-file /l]"},

    // Namespaces.
    {"UnshareUserTry", {"--unshare-user-try", "true"}, "argv=[true] unshare=[user]"},
    {"UnshareCgroupTry", {"--unshare-cgroup-try", "true"}, "argv=[true] unshare=[cgroup]"},
    {"DisableUserns",
     {"--unshare-user", "--disable-userns", "true"},
     "argv=[true] unshare=[user]"},
    {"DisableUsernsBeforeUnshareUser",
     {"--disable-userns", "--unshare-user", "true"},
     "argv=[true] unshare=[user]"},
    {"AssertUsernsDisabled", {"--assert-userns-disabled", "true"}, "argv=[true]"},
    {"UidGid",
     {"--unshare-user", "--uid", "0", "--gid", "0", "true"},
     "argv=[true] unshare=[user] uid=0 gid=0"},
    // An unprivileged caller's bubblewrap always makes a user namespace: --uid needs no flag.
    {"UidWithoutUnshareUser", {"--uid", "1000", "true"}, "argv=[true] uid=1000"},
    {"LastUidWins", {"--uid", "1", "--uid", "2", "true"}, "argv=[true] uid=2"},

    // The process.
    {"Argv0",
     {"--argv0", "codex-linux-sandbox", "--", "/opt/codex", "--flag"},
     "argv=[/opt/codex --flag] argv0=codex-linux-sandbox"},
    {"AsPid1", {"--unshare-pid", "--as-pid-1", "true"}, "argv=[true] unshare=[pid] as-pid-1"},
    {"AsPid1BeforeUnsharePid",
     {"--as-pid-1", "--unshare-pid", "true"},
     "argv=[true] unshare=[pid] as-pid-1"},
    {"LastChdirWins", {"--chdir", "/a", "--chdir", "/b", "true"}, "argv=[true] chdir=/b"},

    // Capabilities: one set edited in argv order; all are dropped unless added.
    {"CapDropAllIsANoOp", {"--cap-drop", "ALL", "true"}, "argv=[true]"},
    {"CapDropOneIsANoOp", {"--cap-drop", "CAP_SYS_ADMIN", "true"}, "argv=[true]"},
    {"CapAdd", {"--cap-add", "CAP_NET_ADMIN", "true"}, "argv=[true] caps=[CAP_NET_ADMIN]"},
    {"CapAddAnyCase", {"--cap-add", "cap_net_admin", "true"}, "argv=[true] caps=[CAP_NET_ADMIN]"},
    {"CapAddByNumber", {"--cap-add", "12", "true"}, "argv=[true] caps=[CAP_NET_ADMIN]"},
    {"CapAddAll", {"--cap-add", "ALL", "true"}, "argv=[true] caps=[ALL]"},
    {"CapAddAllLowercase", {"--cap-add", "all", "true"}, "argv=[true] caps=[ALL]"},
    {"CapAddsInBitOrder",
     {"--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_CHOWN", "true"},
     "argv=[true] caps=[CAP_CHOWN CAP_SYS_ADMIN]"},
    {"CapDropAfterAddRemovesIt",
     {"--cap-add", "CAP_NET_RAW", "--cap-add", "CAP_CHOWN", "--cap-drop", "CAP_NET_RAW", "true"},
     "argv=[true] caps=[CAP_CHOWN]"},
    {"CapDropAllAfterAdd",
     {"--cap-add", "CAP_NET_RAW", "--cap-drop", "ALL", "true"},
     "argv=[true]"},
    {"CapAddAfterDropAll",
     {"--cap-drop", "ALL", "--cap-add", "CAP_KILL", "true"},
     "argv=[true] caps=[CAP_KILL]"},
    {"CapAddLast", {"--cap-add", "CAP_CHECKPOINT_RESTORE", "true"}, "argv=[true] caps=[CAP_CHECKPOINT_RESTORE]"},

    // seccomp: --seccomp once (the last counts), --add-seccomp-fd stacking, never both.
    {"Seccomp", {"--seccomp", "7", "true"}, "argv=[true] seccomp=[4] data_fds=[7]"},
    {"LastSeccompWins",
     {"--seccomp", "7", "--seccomp", "8", "true"},
     "argv=[true] seccomp=[4] data_fds=[8]"},
    {"AddSeccompStacks",
     {"--add-seccomp-fd", "7", "--add-seccomp-fd", "8", "true"},
     "argv=[true] seccomp=[4 5] data_fds=[7 8]"},
    {"SeccompAfterDataFds",
     {"--seccomp", "7", "--ro-bind-data", "3", "/x", "true"},
     "argv=[true] mounts=[ro-bind-data fd=4 /x] seccomp=[5] data_fds=[3 7]"},

    // Fds the client serves itself; they are not data fds.
    {"InfoFd", {"--info-fd", "5", "true"}, "argv=[true] info_fd=5"},
    {"JsonStatusFd", {"--json-status-fd", "6", "true"}, "argv=[true] json_status_fd=6"},
    {"BlockFd", {"--block-fd", "7", "true"}, "argv=[true] block_fd=7"},
    {"SyncFd", {"--sync-fd", "8", "true"}, "argv=[true] sync_fd=8"},
    {"UsernsBlockFd",
     {"--unshare-user", "--info-fd", "5", "--userns-block-fd", "9", "true"},
     "argv=[true] unshare=[user] info_fd=5 userns_block_fd=9"},
    {"LastInfoFdWins", {"--info-fd", "5", "--info-fd", "6", "true"}, "argv=[true] info_fd=6"},
    {"LevelPrefix", {"--level-prefix", "true"}, "argv=[true]"},

    // --args FD: NUL-separated options spliced in place.
    {"ArgsSplicesOptions",
     {"--args", "3", "--", "true"},
     "argv=[true] unshare=[pid] chdir=/w",
     {{3, nul_separated({"--unshare-pid", "--chdir", "/w"})}}},
    {"ArgsKeepArgvOrder",
     {"--setenv", "A", "1", "--args", "3", "--setenv", "C", "3", "true"},
     "argv=[true] env=[A=2 B=2 C=3]",
     {{3, nul_separated({"--setenv", "A", "2", "--setenv", "B", "2"})}}},
    {"ArgsEmptyFile", {"--args", "3", "true"}, "argv=[true]", {{3, ""}}},
    {"ArgsEmptyWordIsAnEmptyValue",
     {"--args", "3", "true"},
     "argv=[true] env=[E=]",
     {{3, nul_separated({"--setenv", "E", ""})}}},
    {"ArgsWithoutFinalNul",
     {"--args", "3", "true"},
     "argv=[true] unshare=[pid net]",
     {{3, unterminated({"--unshare-pid", "--unshare-net"})}}},
    {"ArgsDoubleDashEndsTheFile",
     {"--args", "3", "--unshare-net", "true"},
     "argv=[true] unshare=[pid net]",
     {{3, nul_separated({"--unshare-pid", "--"})}}},
    {"ArgsTwice",
     {"--args", "3", "--args", "4", "true"},
     "argv=[true] unshare=[pid net]",
     {{3, unterminated({"--unshare-pid"})}, {4, nul_separated({"--unshare-net"})}}},
    {"ArgsConsumesOuterPerms",
     {"--perms", "0700", "--args", "3", "true"},
     "argv=[true] mounts=[tmpfs /t perms=0700]",
     {{3, nul_separated({"--tmpfs", "/t"})}}},
    {"ArgsOddBytes",
     {"--args", "3", "true"},
     "argv=[true] mounts=[bind /\xff /\xfe]",
     {{3, nul_separated({"--bind", "/\xff", "/\xfe"})}}},
    {"ArgsSpliceDataFds",
     {"--args", "3", "true"},
     "argv=[true] mounts=[ro-bind-data fd=4 /e] data_fds=[5]",
     {{3, nul_separated({"--ro-bind-data", "5", "/e"})}}},

    // Codex's main call, shortened: carve-outs, --cap-drop ALL, --argv0, the inner helper.
    {"CodexMain",
     {"--as-pid-1", "--new-session", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev",
      "--perms", "000", "--tmpfs", "/tmp/codex-daemon-0", "--remount-ro", "/tmp/codex-daemon-0",
      "--bind", "/home/a/p", "/home/a/p", "--perms", "555", "--tmpfs", "/home/a/p/.codex",
      "--remount-ro", "/home/a/p/.codex", "--perms", "000", "--ro-bind-data", "3", "/home/a/p/.env",
      "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--proc", "/proc",
      "--cap-drop", "ALL", "--argv0", "codex-linux-sandbox", "--", "/opt/codex", "--command-cwd",
      "/home/a/p", "--", "/bin/sh", "-c", "true"},
     "argv=[/opt/codex --command-cwd /home/a/p -- /bin/sh -c true] argv0=codex-linux-sandbox "
     "unshare=[user pid net ipc] mounts=[ro-bind / /; dev /dev; tmpfs /tmp/codex-daemon-0 "
     "perms=0000; remount-ro /tmp/codex-daemon-0; bind /home/a/p /home/a/p; tmpfs "
     "/home/a/p/.codex perms=0555; remount-ro /home/a/p/.codex; ro-bind-data fd=4 /home/a/p/.env "
     "perms=0000; proc /proc] new-session die-with-parent as-pid-1 data_fds=[3]"},
};

class BwrapParsesToRequest : public ::testing::TestWithParam<RunCase> {};

TEST_P(BwrapParsesToRequest, FillsSpawn) {
  const RunCase& c = GetParam();
  Parse result = parse(c.words, c.files, c.environment);
  ASSERT_EQ(result.outcome.kind, ParseKind::kRun) << result.outcome.error;
  EXPECT_EQ(summarize(result.outcome.options), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Bwrap, BwrapParsesToRequest, ::testing::ValuesIn(kRunCases),
                         case_name<RunCase>);

// ---- refused command lines ------------------------------------------------------------------

struct ErrorCase {
  std::string name;
  Words words;
  std::string expected;
  ArgsFiles files = {};
  Front front = Front::kBwrap;

  friend void PrintTo(const ErrorCase& c, std::ostream* out) { *out << text(c.words); }
};

const std::string kPermsBefore =
    "--perms must come right before the --tmpfs, --dir, --file, --bind-data or --ro-bind-data "
    "it applies to, but ";

const ErrorCase kErrorCases[] = {
    // Missing operands, for every option that takes some.
    {"BindTryMissing", {"--bind-try", "/a"}, "--bind-try needs 2 arguments: SRC DEST"},
    {"RoBindTryMissing", {"--ro-bind-try"}, "--ro-bind-try needs 2 arguments: SRC DEST"},
    {"DevBindTryMissing", {"--dev-bind-try", "/a"}, "--dev-bind-try needs 2 arguments: SRC DEST"},
    {"BindFdMissing", {"--bind-fd", "3"}, "--bind-fd needs 2 arguments: FD DEST"},
    {"RoBindFdMissing", {"--ro-bind-fd"}, "--ro-bind-fd needs 2 arguments: FD DEST"},
    {"FileMissing", {"--file", "3"}, "--file needs 2 arguments: FD DEST"},
    {"BindDataMissing", {"--bind-data"}, "--bind-data needs 2 arguments: FD DEST"},
    {"RoBindDataMissing", {"--ro-bind-data", "3"}, "--ro-bind-data needs 2 arguments: FD DEST"},
    {"ChmodMissing", {"--chmod", "0700"}, "--chmod needs 2 arguments: OCTAL PATH"},
    {"LockFileMissing", {"--lock-file"}, "--lock-file needs 1 argument: DEST"},
    {"Argv0Missing", {"--argv0"}, "--argv0 needs 1 argument: VALUE"},
    {"UidMissing", {"--uid"}, "--uid needs 1 argument: UID"},
    {"GidMissing", {"--gid"}, "--gid needs 1 argument: GID"},
    {"CapAddMissing", {"--cap-add"}, "--cap-add needs 1 argument: CAP"},
    {"CapDropMissing", {"--cap-drop"}, "--cap-drop needs 1 argument: CAP"},
    {"SeccompMissing", {"--seccomp"}, "--seccomp needs 1 argument: FD"},
    {"AddSeccompMissing", {"--add-seccomp-fd"}, "--add-seccomp-fd needs 1 argument: FD"},
    {"ArgsMissing", {"--args"}, "--args needs 1 argument: FD"},
    {"InfoFdMissing", {"--info-fd"}, "--info-fd needs 1 argument: FD"},
    {"JsonStatusFdMissing", {"--json-status-fd"}, "--json-status-fd needs 1 argument: FD"},
    {"BlockFdMissing", {"--block-fd"}, "--block-fd needs 1 argument: FD"},
    {"UsernsBlockFdMissing", {"--userns-block-fd"}, "--userns-block-fd needs 1 argument: FD"},
    {"SyncFdMissing", {"--sync-fd"}, "--sync-fd needs 1 argument: FD"},
    {"NoCommand",
     {"--unshare-pid", "--"},
     "no command given: put the program to run and its arguments after the options"},

    // Bad fd numbers.
    {"FdNotANumber", {"--file", "x", "/f", "true"}, "--file: FD must be a file descriptor number, not 'x'"},
    {"FdNegative",
     {"--bind-fd", "-1", "/f", "true"},
     "--bind-fd: FD must be a file descriptor number, not '-1'"},
    {"FdTrailingJunk",
     {"--ro-bind-data", "3x", "/f", "true"},
     "--ro-bind-data: FD must be a file descriptor number, not '3x'"},
    {"FdLeadingSpace",
     {"--info-fd", " 3", "true"},
     "--info-fd: FD must be a file descriptor number, not ' 3'"},
    {"FdTooLarge",
     {"--sync-fd", "99999999999", "true"},
     "--sync-fd: FD must be a file descriptor number, not '99999999999'"},
    {"FdEmpty", {"--block-fd", "", "true"}, "--block-fd: FD must not be empty"},
    {"SeccompFdBad",
     {"--seccomp", "fd", "true"},
     "--seccomp: FD must be a file descriptor number, not 'fd'"},
    {"ArgsFdBad", {"--args", "three", "true"}, "--args: FD must be a file descriptor number, not 'three'"},

    // Bad modes and ids.
    {"ChmodNotOctal",
     {"--chmod", "0789", "/f", "true"},
     "--chmod needs an octal mode from 0 to 7777, got '0789'"},
    {"ChmodTooLarge",
     {"--chmod", "10000", "/f", "true"},
     "--chmod needs an octal mode from 0 to 7777, got '10000'"},
    {"ChmodNegative",
     {"--chmod", "-7", "/f", "true"},
     "--chmod needs an octal mode from 0 to 7777, got '-7'"},
    {"ChmodEmptyMode", {"--chmod", "", "/f", "true"}, "--chmod: OCTAL must not be empty"},
    {"ChmodEmptyPath", {"--chmod", "700", "", "true"}, "--chmod: PATH must not be empty"},
    {"UidNotANumber", {"--uid", "root", "true"}, "--uid needs a numeric id, got 'root'"},
    {"UidNegative", {"--uid", "-1", "true"}, "--uid needs a numeric id, got '-1'"},
    {"UidMinusOne", {"--uid", "4294967295", "true"}, "--uid needs a numeric id, got '4294967295'"},
    {"GidTooLarge", {"--gid", "4294967296", "true"}, "--gid needs a numeric id, got '4294967296'"},

    // Capabilities.
    {"CapUnknown",
     {"--cap-add", "CAP_BOGUS", "true"},
     "--cap-add: unknown capability 'CAP_BOGUS' (use a name such as CAP_NET_ADMIN, or ALL)"},
    {"CapWithoutPrefix",
     {"--cap-add", "net_admin", "true"},
     "--cap-add: unknown capability 'net_admin' (use a name such as CAP_NET_ADMIN, or ALL)"},
    {"CapNumberTooLarge",
     {"--cap-drop", "41", "true"},
     "--cap-drop: unknown capability '41' (use a name such as CAP_NET_ADMIN, or ALL)"},
    {"CapEmpty", {"--cap-add", "", "true"}, "--cap-add: CAP must not be empty"},

    // --argv0.
    {"Argv0Twice",
     {"--argv0", "a", "--argv0", "b", "true"},
     "--argv0 used multiple times"},
    {"Argv0Empty", {"--argv0", "", "true"}, "--argv0: VALUE must not be empty"},

    // --perms not followed by an option that creates a file.
    {"PermsBeforeChmod", {"--perms", "700", "--chmod", "700", "/f", "true"}, kPermsBefore + "--chmod follows it"},
    {"PermsBeforeBindFd", {"--perms", "700", "--bind-fd", "3", "/f", "true"}, kPermsBefore + "--bind-fd follows it"},
    {"PermsBeforeLockFile", {"--perms", "700", "--lock-file", "/l", "true"}, kPermsBefore + "--lock-file follows it"},
    {"PermsBeforeSymlink", {"--perms", "700", "--symlink", "a", "/b", "true"}, kPermsBefore + "--symlink follows it"},
    {"PermsBeforeRemountRo", {"--perms", "700", "--remount-ro", "/", "true"}, kPermsBefore + "--remount-ro follows it"},
    {"PermsBeforeCommand", {"--perms", "700", "--", "true"}, kPermsBefore + "the command follows it"},
    {"PermsTwiceBeforeFile",
     {"--perms", "700", "--perms", "600", "--file", "3", "/f", "true"},
     "--perms given twice before the same --tmpfs, --dir, --file, --bind-data or --ro-bind-data: "
     "keep one"},
    {"SizeBeforeFile",
     {"--size", "4096", "--file", "3", "/f", "true"},
     "--size must come right before the --tmpfs it applies to, but --file follows it"},

    // seccomp: the two forms do not mix.
    {"SeccompThenAdd",
     {"--seccomp", "3", "--add-seccomp-fd", "4", "true"},
     "--add-seccomp-fd cannot be combined with --seccomp"},
    {"AddThenSeccomp",
     {"--add-seccomp-fd", "4", "--seccomp", "3", "true"},
     "--seccomp cannot be combined with --add-seccomp-fd"},

    // User namespace options need --unshare-user itself (as in bubblewrap).
    {"DisableUsernsAlone",
     {"--disable-userns", "true"},
     "--disable-userns requires --unshare-user"},
    {"DisableUsernsWithUnshareAll",
     {"--unshare-all", "--disable-userns", "true"},
     "--disable-userns requires --unshare-user"},
    {"DisableUsernsWithTry",
     {"--unshare-user-try", "--disable-userns", "true"},
     "--disable-userns requires --unshare-user"},
    {"UsernsBlockFdWithoutUnshareUser",
     {"--info-fd", "5", "--userns-block-fd", "6", "true"},
     "--userns-block-fd requires --unshare-user"},
    {"UsernsBlockFdWithoutInfoFd",
     {"--unshare-user", "--userns-block-fd", "6", "true"},
     "--userns-block-fd requires --info-fd"},
    {"DisableUsernsWithUsernsBlockFd",
     {"--unshare-user", "--info-fd", "5", "--userns-block-fd", "6", "--disable-userns", "true"},
     "--disable-userns is not compatible with --userns-block-fd"},

    // Process cross-checks.
    {"AsPid1WithoutUnsharePid", {"--as-pid-1", "true"}, "--as-pid-1 requires --unshare-pid"},
    {"AsPid1WithLockFile",
     {"--unshare-pid", "--as-pid-1", "--lock-file", "/l", "true"},
     "--as-pid-1 and --lock-file cannot be combined"},
    {"HostnameWithoutUts",
     {"--hostname", "h", "true"},
     "--hostname needs a new UTS namespace: add --unshare-uts (or --unshare-all)"},

    // Options bubblewrap 0.11 has that the broker cannot honour: refused, with the reason.
    {"Userns",
     {"--userns", "3", "true"},
     "--userns is not supported: nsbrokerd creates the sandbox's namespaces itself, it does not "
     "join one by fd"},
    {"Userns2",
     {"--userns2", "3", "true"},
     "--userns2 is not supported: nsbrokerd creates the sandbox's namespaces itself, it does not "
     "join one by fd"},
    {"Pidns",
     {"--pidns", "3", "true"},
     "--pidns is not supported: nsbrokerd creates the sandbox's namespaces itself, it does not "
     "join one by fd"},
    {"Overlay",
     {"--overlay", "/rw", "/work", "/dst", "true"},
     "--overlay is not supported: nsbrokerd does not mount overlay file systems"},
    {"TmpOverlay",
     {"--tmp-overlay", "/dst", "true"},
     "--tmp-overlay is not supported: nsbrokerd does not mount overlay file systems"},
    {"RoOverlay",
     {"--ro-overlay", "/dst", "true"},
     "--ro-overlay is not supported: nsbrokerd does not mount overlay file systems"},
    {"Mqueue",
     {"--mqueue", "/dev/mqueue", "true"},
     "--mqueue is not supported: nsbrokerd does not mount mqueue file systems"},
    {"ExecLabel",
     {"--exec-label", "x", "true"},
     "--exec-label is not supported: nsbrokerd does not set SELinux labels"},
    {"FileLabel",
     {"--file-label", "x", "true"},
     "--file-label is not supported: nsbrokerd does not set SELinux labels"},

    // Unknown options, including `nsbroker run`'s own.
    {"Unknown", {"--bogus", "true"}, "unknown option --bogus: see --help for the options"},
    {"UnknownShort", {"-x", "true"}, "unknown option -x: see --help for the options"},
    {"SocketIsNotBwraps",
     {"--socket", "/s", "true"},
     "unknown option --socket: see --help for the options"},
    {"DbusIsNotBwraps", {"--dbus", "true"}, "unknown option --dbus: see --help for the options"},
    {"NoEqualsSyntax",
     {"--argv0=x", "true"},
     "unknown option --argv0=x: see --help for the options"},

    // --args: nesting, the command, unreadable fds, and what the file holds.
    {"ArgsNested",
     {"--args", "3", "true"},
     "--args is not supported inside an --args file",
     {{3, nul_separated({"--args", "4"})}, {4, nul_separated({"--unshare-pid"})}}},
    {"ArgsCommandInFile",
     {"--args", "3"},
     "the --args data holds 'true' after its options: the command must come on the command line, "
     "after the options",
     {{3, nul_separated({"--unshare-pid", "true"})}}},
    {"ArgsWordsAfterDoubleDash",
     {"--args", "3", "true"},
     "the --args data holds 'x' after its options: the command must come on the command line, "
     "after the options",
     {{3, nul_separated({"--", "x"})}}},
    {"ArgsEmptyWordWhereAnOptionGoes",
     {"--args", "3", "true"},
     "the --args data holds '' after its options: the command must come on the command line, "
     "after the options",
     {{3, nul_separated({"--unshare-pid", ""})}}},
    {"ArgsOnlyNul",
     {"--args", "3", "true"},
     "the --args data holds '' after its options: the command must come on the command line, "
     "after the options",
     {{3, nul_separated({""})}}},
    {"ArgsUnreadable",
     {"--args", "9", "true"},
     "cannot read the --args data from fd 9: Bad file descriptor"},
    {"ArgsBadOptionInside",
     {"--args", "3", "true"},
     "unknown option --bogus: see --help for the options",
     {{3, nul_separated({"--bogus"})}}},
    {"ArgsMissingOperandInside",
     {"--args", "3", "/b", "true"},
     "--bind needs 2 arguments: SRC DEST",
     {{3, nul_separated({"--bind", "/a"})}}},
    {"ArgsLeavePermsPending",
     {"--args", "3", "--tmpfs", "/t", "true"},
     kPermsBefore + "--args follows it",
     {{3, nul_separated({"--perms", "700"})}}},
    {"ArgsNotInRun",
     {"--args", "3", "true"},
     "unknown option --args: see --help for the options",
     {},
     Front::kRun},
};

class BwrapRefusesWithMessage : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(BwrapRefusesWithMessage, Error) {
  const ErrorCase& c = GetParam();
  Parse result = parse(c.words, c.files, {}, c.front);
  ASSERT_EQ(result.outcome.kind, ParseKind::kError) << summarize(result.outcome.options);
  EXPECT_EQ(result.outcome.error, c.expected);
  EXPECT_EQ(result.outcome.error.find('\n'), std::string::npos) << "one line";
}

INSTANTIATE_TEST_SUITE_P(Bwrap, BwrapRefusesWithMessage, ::testing::ValuesIn(kErrorCases),
                         case_name<ErrorCase>);

// ---- what is not one row --------------------------------------------------------------------

TEST(BwrapOptions, AsPid1WithoutUnsharePidIsFineForNsbrokerRun) {
  // nsbrokerd always makes a PID namespace; only bubblewrap insists on the flag.
  Parse result = parse({"--as-pid-1", "true"}, {}, {}, Front::kRun);
  ASSERT_EQ(result.outcome.kind, ParseKind::kRun) << result.outcome.error;
  EXPECT_EQ(summarize(result.outcome.options), "argv=[true] as-pid-1");
}

TEST(BwrapOptions, SharedOptionsMeanTheSameInBothFronts) {
  Words words = {"--ro-bind-try", "/a", "/b", "--perms", "600", "--file", "3", "/f",
                 "--cap-add", "CAP_NET_RAW", "--argv0", "x", "--unshare-pid", "--", "true"};
  Parse bwrap = parse(words, {}, {}, Front::kBwrap);
  Parse run = parse(words, {}, {}, Front::kRun);
  ASSERT_EQ(bwrap.outcome.kind, ParseKind::kRun) << bwrap.outcome.error;
  ASSERT_EQ(run.outcome.kind, ParseKind::kRun) << run.outcome.error;
  EXPECT_EQ(summarize(bwrap.outcome.options), summarize(run.outcome.options));
}

TEST(BwrapOptions, CapAddAllThenDropOneNamesTheOthers) {
  Parse result = parse({"--cap-add", "ALL", "--cap-drop", "CAP_SYS_ADMIN", "true"});
  ASSERT_EQ(result.outcome.kind, ParseKind::kRun) << result.outcome.error;
  const auto& caps = result.outcome.options.spawn.cap_add();
  EXPECT_EQ(caps.size(), 40);
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "CAP_SYS_ADMIN"), 0);
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "CAP_CHOWN"), 1);
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "ALL"), 0);
}

TEST(BwrapOptions, RepeatedLastWinsOptionsWarnAsBubblewrapDoes) {
  Parse result = parse({"--chdir", "/a", "--chdir", "/b", "--seccomp", "3", "--seccomp", "4",
                        "--uid", "1", "--uid", "2", "--sync-fd", "5", "--sync-fd", "6", "true"});
  ASSERT_EQ(result.outcome.kind, ParseKind::kRun) << result.outcome.error;
  EXPECT_EQ(result.outcome.warnings,
            (std::vector<std::string>{"Only the last --chdir option will take effect",
                                      "Only the last --seccomp option will take effect",
                                      "Only the last --uid option will take effect",
                                      "Only the last --sync-fd option will take effect"}));
}

TEST(BwrapOptions, LevelPrefixIsReportedEvenWithAnError) {
  Parse before = parse({"--level-prefix", "--bogus", "true"});
  EXPECT_EQ(before.outcome.kind, ParseKind::kError);
  EXPECT_TRUE(before.outcome.level_prefix);
  Parse after = parse({"--bogus", "--level-prefix", "true"});
  EXPECT_FALSE(after.outcome.level_prefix) << "an error before --level-prefix is printed without";
  Parse fine = parse({"--level-prefix", "true"});
  EXPECT_TRUE(fine.outcome.level_prefix);
  EXPECT_FALSE(parse({"true"}).outcome.level_prefix);
}

TEST(BwrapOptions, HelpAndVersionMayComeFromAnArgsFile) {
  EXPECT_EQ(parse({"--args", "3", "true"}, {{3, nul_separated({"--help"})}}).outcome.kind,
            ParseKind::kHelp);
  EXPECT_EQ(parse({"--args", "3", "true"}, {{3, nul_separated({"--version"})}}).outcome.kind,
            ParseKind::kVersion);
  EXPECT_EQ(parse({"--unshare-pid", "--help", "--bogus"}).outcome.kind, ParseKind::kHelp);
  EXPECT_EQ(parse({"--bogus", "--help"}).outcome.kind, ParseKind::kError);
}

TEST(BwrapOptions, ArgsReadsEachFdOnceInOrder) {
  Parse result = parse({"--args", "4", "--args", "3", "true"},
                       {{3, std::string("--unshare-ipc")}, {4, std::string("--unshare-uts")}});
  ASSERT_EQ(result.outcome.kind, ParseKind::kRun) << result.outcome.error;
  EXPECT_EQ(result.fds_read, (std::vector<int>{4, 3}));
}

TEST(BwrapOptions, ArgsNestedIsRefusedWithoutReadingTheInnerFd) {
  Parse result = parse({"--args", "3", "true"},
                       {{3, nul_separated({"--args", "4"})}, {4, std::string("--unshare-pid")}});
  EXPECT_EQ(result.outcome.kind, ParseKind::kError);
  EXPECT_EQ(result.fds_read, (std::vector<int>{3}));
}

TEST(BwrapOptions, NoReaderMeansArgsIsRefused) {
  ParseContext context;
  context.front = Front::kBwrap;
  Words words = {"--args", "3", "true"};
  ParseOutcome outcome = parse_run_options(words, {}, context);
  ASSERT_EQ(outcome.kind, ParseKind::kError);
  EXPECT_EQ(outcome.error, "--args cannot be read here");
}

TEST(BwrapOptions, AtMost9000ArgumentsArgsIncluded) {
  std::vector<std::string> storage(kMaxBwrapArguments - 1, "x");
  Words words = {"true"};
  for (const std::string& word : storage) words.push_back(word);
  EXPECT_EQ(parse(words).outcome.kind, ParseKind::kRun) << "9000 words";
  words.push_back("x");
  EXPECT_EQ(parse(words).outcome.error,
            "too many arguments: at most 9000 are accepted, --args contents included");
  // `nsbroker run` has no such limit (the record size is its cap).
  EXPECT_EQ(parse(words, {}, {}, Front::kRun).outcome.kind, ParseKind::kRun);

  // 3 words on the command line and 8997 in the file make 9000; one more is too many.
  std::string file;
  for (std::size_t i = 0; i < kMaxBwrapArguments - 3; ++i) file += nul_separated({"--unshare-pid"});
  EXPECT_EQ(parse({"--args", "3", "true"}, {{3, file}}).outcome.kind, ParseKind::kRun);
  file += nul_separated({"--unshare-pid"});
  EXPECT_EQ(parse({"--args", "3", "true"}, {{3, file}}).outcome.kind, ParseKind::kError);
}

TEST(BwrapOptions, NulBytesOnlySeparateArgsWords) {
  // argv cannot carry a NUL; in an --args file a NUL always ends a word, so a value can hold
  // any other byte, newlines and '=' included.
  Parse result = parse({"--args", "3", "true"},
                       {{3, nul_separated({"--setenv", "V", "a\nb=c\x01"})}});
  ASSERT_EQ(result.outcome.kind, ParseKind::kRun) << result.outcome.error;
  EXPECT_EQ(result.outcome.options.spawn.env(0), "V=a\nb=c\x01");
}

TEST(BwrapOptions, SupportedOptionsDifferOnlyByFront) {
  std::vector<std::string_view> bwrap = supported_options(Front::kBwrap);
  std::vector<std::string_view> run = supported_options(Front::kRun);
  std::set<std::string_view> only_bwrap, only_run;
  for (std::string_view name : bwrap) {
    if (std::ranges::find(run, name) == run.end()) only_bwrap.insert(name);
  }
  for (std::string_view name : run) {
    if (std::ranges::find(bwrap, name) == bwrap.end()) only_run.insert(name);
  }
  EXPECT_EQ(only_bwrap, (std::set<std::string_view>{"--args", "--level-prefix"}));
  EXPECT_EQ(only_run, (std::set<std::string_view>{"--socket", "--dbus"}));
}

// ---- the help and version texts -------------------------------------------------------------

// The option names bwrap_help() lists: the first word of each "    --name ..." line.
std::set<std::string> options_in_bwrap_help() {
  std::set<std::string> names;
  std::istringstream lines{std::string(bwrap_help())};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("    --", 0) != 0) continue;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.insert(name);
  }
  return names;
}

TEST(BwrapHelp, ListsExactlyTheOptionsTheParserAccepts) {
  std::set<std::string> listed = options_in_bwrap_help();
  std::set<std::string> accepted;
  for (std::string_view name : supported_options(Front::kBwrap)) accepted.emplace(name);
  EXPECT_EQ(listed, accepted);
  // And the parser takes each listed name as an option (not "unknown", not "not supported").
  for (const std::string& name : listed) {
    Words words = {name};
    ParseOutcome outcome = parse(words).outcome;
    EXPECT_EQ(outcome.error.find("unknown option"), std::string::npos) << name;
    EXPECT_EQ(outcome.error.find("is not supported"), std::string::npos) << name;
  }
}

TEST(BwrapHelp, HasWhatCodexLooksFor) {
  std::string_view help = bwrap_help();
  EXPECT_TRUE(help.starts_with("usage: bwrap [OPTIONS...] [--] COMMAND [ARGS...]\n"));
  for (const char* option : {"--as-pid-1", "--perms", "--argv0", "--ro-bind-fd"}) {
    EXPECT_NE(help.find(std::string("    ") + option + " "), std::string_view::npos) << option;
  }
}

TEST(BwrapHelp, RunHelpNamesEveryRunOption) {
  std::string help(run_help());
  for (std::string_view name : supported_options(Front::kRun)) {
    std::regex listed("(^|[ ,|])" + std::string(name) + "([ ,\n])");
    EXPECT_TRUE(std::regex_search(help, listed)) << name << " is not in `nsbroker run --help`";
  }
}

TEST(BwrapHelp, VersionLooksLikeBubblewraps) {
  std::string_view version = bwrap_version();
  EXPECT_TRUE(version.starts_with("bubblewrap 0.11.0 (nsbroker ")) << version;
  EXPECT_TRUE(version.ends_with(")\n")) << version;
}

// ---- diagnostics and status JSON ------------------------------------------------------------

TEST(BwrapDiagnostics, OneLineWithProgramName) {
  EXPECT_EQ(bwrap_error_line("unknown option --x", false), "bwrap: unknown option --x\n");
  EXPECT_EQ(bwrap_error_line("unknown option --x", true), "<3>bwrap: unknown option --x\n");
  EXPECT_EQ(bwrap_warning_line("Only the last --chdir option will take effect", true),
            "<4>bwrap: Only the last --chdir option will take effect\n");
  EXPECT_EQ(bwrap_error_line("two\nlines", false), "bwrap: two lines\n");
}

TEST(BwrapDiagnostics, ProcFailuresAreWordedForCodexsRetry) {
  EXPECT_EQ(bwrap_error_line("proc on /proc: Operation not permitted", false),
            "bwrap: Can't mount proc on /newroot/proc: proc on /proc: Operation not permitted\n");
  EXPECT_EQ(bwrap_error_line("creating a proc instance: Operation not permitted", true),
            "<3>bwrap: Can't mount proc on /newroot/proc: creating a proc instance: Operation "
            "not permitted\n");
  std::string denial = "denied by profile \"codex\": mounts.allow_proc is off: --proc /proc refused";
  EXPECT_EQ(bwrap_error_line(denial, false),
            "bwrap: Can't mount proc on /newroot/proc: " + denial + "\n");
  // Other failures keep their own words.
  EXPECT_EQ(bwrap_error_line("tmpfs on /proc: No space left on device", false),
            "bwrap: tmpfs on /proc: No space left on device\n");
}

TEST(BwrapStatusJson, MatchesBubblewrapsShapes) {
  EXPECT_EQ(info_fd_json(42), "{\n    \"child-pid\": 42\n}\n");
  EXPECT_EQ(json_status_started(42), "{ \"child-pid\": 42 }\n");
  EXPECT_EQ(json_status_exited(143), "{ \"exit-code\": 143 }\n");
}

TEST(Capabilities, Table) {
  EXPECT_EQ(capability_from_name("CAP_CHOWN"), CapabilityMask{1});
  EXPECT_EQ(capability_from_name("Cap_Net_Admin"), CapabilityMask{1} << 12);
  EXPECT_EQ(capability_from_name("40"), CapabilityMask{1} << 40);
  EXPECT_EQ(capability_from_name("CAP_"), std::nullopt);
  EXPECT_EQ(capability_from_name("CAP_ALL"), std::nullopt);
  EXPECT_EQ(capability_from_name("all"), all_capabilities());
  EXPECT_EQ(all_capabilities(), (CapabilityMask{1} << 41) - 1);
  EXPECT_EQ(capability_name(21), "CAP_SYS_ADMIN");
  for (unsigned bit = 0; bit < 41; ++bit) {
    EXPECT_EQ(capability_from_name(capability_name(bit)), CapabilityMask{1} << bit) << bit;
  }
}

// ---- every call Codex makes parses ----------------------------------------------------------

TEST(CodexVectors, EveryCapturedArgvParses) {
  std::string path = itest::codex_vectors_path(NSBROKER_SHARED_DIR);
  itest::VectorFile file = itest::load_codex_vectors(path);
  if (!file.error.empty() && file.vectors.empty() && file.error == "cannot open " + path) {
    GTEST_SKIP() << "the Codex vectors are not here: " << file.error;
  }
  ASSERT_EQ(file.error, "");
  ASSERT_EQ(file.vectors.size(), 109u);
  for (const itest::CodexVector& v : file.vectors) {
    Words words(v.argv.begin() + 1, v.argv.end());
    ParseOutcome outcome = parse(words).outcome;
    std::string where = "vector " + std::to_string(v.index) + " (" + v.scenario + ", " + v.kind + ")";
    if (v.kind == "help-probe") {
      EXPECT_EQ(outcome.kind, ParseKind::kHelp) << where;
      continue;
    }
    ASSERT_EQ(outcome.kind, ParseKind::kRun) << where << ": " << outcome.error;
    EXPECT_TRUE(outcome.warnings.empty()) << where;
    // The data fds a vector names are exactly the ones Codex leaves open for it.
    EXPECT_EQ(outcome.options.data_fds, v.extra_fd_numbers()) << where;
    if (v.kind == "main" && v.scenario != "noargv0") {
      EXPECT_EQ(outcome.options.spawn.argv0(), "codex-linux-sandbox") << where;
    }
  }
}

}  // namespace
}  // namespace nsbroker::client
