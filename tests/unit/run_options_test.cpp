// Table tests for parse_run_options(): bubblewrap's options → a Spawn request.
#include "client/run_options.h"

#include "run_options_summary.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace nsbroker::client {
namespace {

using testing_support::case_name;
using testing_support::summarize;
using Words = testing_support::Words;

std::string join(const Words& words, std::string_view separator) {
  return testing_support::join_words(words, separator);
}

ParseOutcome parse(const Words& words, const Words& environment = {}) {
  return parse_run_options(words, environment);
}

// ---- accepted command lines -----------------------------------------------------------------

struct RunCase {
  std::string name;
  Words words;
  Words environment;
  std::string expected;

  friend void PrintTo(const RunCase& c, std::ostream* out) { *out << join(c.words, " "); }
};

const RunCase kRunCases[] = {
    // The command and where it starts.
    {"PlainCommand", {"true"}, {}, "argv=[true]"},
    {"OptionLikeWordsAfterCommandBelongToIt",
     {"/bin/echo", "a", "-b", "--bind", "--"},
     {},
     "argv=[/bin/echo a -b --bind --]"},
    {"DoubleDashEndsOptions", {"--unshare-pid", "--", "true"}, {}, "argv=[true] unshare=[pid]"},
    {"DoubleDashAllowsDashedCommand", {"--", "--weird", "x"}, {}, "argv=[--weird x]"},
    {"DoubleDashAfterCommandIsAnArgument", {"true", "--", "x"}, {}, "argv=[true -- x]"},
    {"HelpAfterDoubleDashIsTheCommand", {"--", "--help"}, {}, "argv=[--help]"},
    {"HelpAfterCommandIsAnArgument", {"ls", "--help"}, {}, "argv=[ls --help]"},

    // Every mount option.
    {"Bind", {"--bind", "/src", "/dst", "true"}, {}, "argv=[true] mounts=[bind /src /dst]"},
    {"RoBind", {"--ro-bind", "/usr", "/usr", "true"}, {}, "argv=[true] mounts=[ro-bind /usr /usr]"},
    {"DevBind",
     {"--dev-bind", "/dev", "/dev", "true"},
     {},
     "argv=[true] mounts=[dev-bind /dev /dev]"},
    {"Tmpfs", {"--tmpfs", "/tmp", "true"}, {}, "argv=[true] mounts=[tmpfs /tmp]"},
    {"Proc", {"--proc", "/proc", "true"}, {}, "argv=[true] mounts=[proc /proc]"},
    {"Dev", {"--dev", "/dev", "true"}, {}, "argv=[true] mounts=[dev /dev]"},
    {"Dir", {"--dir", "/work", "true"}, {}, "argv=[true] mounts=[dir /work]"},
    {"SymlinkTargetGoesToSource",
     {"--symlink", "usr/lib", "/lib", "true"},
     {},
     "argv=[true] mounts=[symlink usr/lib /lib]"},
    {"RemountRo", {"--remount-ro", "/", "true"}, {}, "argv=[true] mounts=[remount-ro /]"},
    {"MountsKeepArgvOrderAndStack",
     {"--ro-bind", "/", "/", "--tmpfs", "/tmp", "--bind", "/home/u", "/home/u", "--remount-ro",
      "/home/u", "--ro-bind", "/etc", "/etc", "true"},
     {},
     "argv=[true] mounts=[ro-bind / /; tmpfs /tmp; bind /home/u /home/u; remount-ro /home/u; "
     "ro-bind /etc /etc]"},
    {"SameDestinationTwiceIsKept",
     {"--tmpfs", "/a", "--tmpfs", "/a", "true"},
     {},
     "argv=[true] mounts=[tmpfs /a; tmpfs /a]"},

    // --perms and --size bind to the very next operation only.
    {"PermsOnTmpfs",
     {"--perms", "0700", "--tmpfs", "/t", "true"},
     {},
     "argv=[true] mounts=[tmpfs /t perms=0700]"},
    {"PermsOnDir",
     {"--perms", "755", "--dir", "/d", "true"},
     {},
     "argv=[true] mounts=[dir /d perms=0755]"},
    {"PermsZeroIsStillGiven",
     {"--perms", "0", "--dir", "/d", "true"},
     {},
     "argv=[true] mounts=[dir /d perms=0000]"},
    {"PermsHighestMode",
     {"--perms", "07777", "--tmpfs", "/t", "true"},
     {},
     "argv=[true] mounts=[tmpfs /t perms=7777]"},
    {"PermsApplyToNextOperationOnly",
     {"--perms", "0700", "--tmpfs", "/a", "--tmpfs", "/b", "--dir", "/c", "true"},
     {},
     "argv=[true] mounts=[tmpfs /a perms=0700; tmpfs /b; dir /c]"},
    {"SizeOnTmpfs",
     {"--size", "1048576", "--tmpfs", "/t", "true"},
     {},
     "argv=[true] mounts=[tmpfs /t size=1048576]"},
    {"SizeAppliesToNextTmpfsOnly",
     {"--size", "4096", "--tmpfs", "/a", "--tmpfs", "/b", "true"},
     {},
     "argv=[true] mounts=[tmpfs /a size=4096; tmpfs /b]"},
    {"PermsThenSize",
     {"--perms", "1777", "--size", "4096", "--tmpfs", "/t", "true"},
     {},
     "argv=[true] mounts=[tmpfs /t perms=1777 size=4096]"},
    {"SizeThenPerms",
     {"--size", "4096", "--perms", "1777", "--tmpfs", "/t", "true"},
     {},
     "argv=[true] mounts=[tmpfs /t perms=1777 size=4096]"},
    {"SizeLargest",
     {"--size", "18446744073709551615", "--tmpfs", "/t", "true"},
     {},
     "argv=[true] mounts=[tmpfs /t size=18446744073709551615]"},

    // Namespaces.
    {"UnshareUser", {"--unshare-user", "true"}, {}, "argv=[true] unshare=[user]"},
    {"UnsharePid", {"--unshare-pid", "true"}, {}, "argv=[true] unshare=[pid]"},
    {"UnshareNet", {"--unshare-net", "true"}, {}, "argv=[true] unshare=[net]"},
    {"UnshareIpc", {"--unshare-ipc", "true"}, {}, "argv=[true] unshare=[ipc]"},
    {"UnshareUts", {"--unshare-uts", "true"}, {}, "argv=[true] unshare=[uts]"},
    {"UnshareCgroup", {"--unshare-cgroup", "true"}, {}, "argv=[true] unshare=[cgroup]"},
    {"UnshareSeveral",
     {"--unshare-pid", "--unshare-ipc", "true"},
     {},
     "argv=[true] unshare=[pid ipc]"},
    {"UnshareAll",
     {"--unshare-all", "true"},
     {},
     "argv=[true] unshare=[user pid net ipc uts cgroup]"},
    {"UnshareAllThenShareNet",
     {"--unshare-all", "--share-net", "true"},
     {},
     "argv=[true] unshare=[user pid ipc uts cgroup]"},
    {"ShareNetThenUnshareAllUnsharesNet",
     {"--share-net", "--unshare-all", "true"},
     {},
     "argv=[true] unshare=[user pid net ipc uts cgroup]"},
    {"UnshareNetThenShareNet", {"--unshare-net", "--share-net", "true"}, {}, "argv=[true]"},

    // Hostname, working directory, flags, socket.
    {"HostnameWithUts",
     {"--unshare-uts", "--hostname", "box", "true"},
     {},
     "argv=[true] unshare=[uts] hostname=box"},
    {"HostnameBeforeUts",
     {"--hostname", "box", "--unshare-uts", "true"},
     {},
     "argv=[true] unshare=[uts] hostname=box"},
    {"HostnameWithUnshareAll",
     {"--unshare-all", "--share-net", "--hostname", "box", "true"},
     {},
     "argv=[true] unshare=[user pid ipc uts cgroup] hostname=box"},
    {"Chdir", {"--chdir", "/work", "true"}, {}, "argv=[true] chdir=/work"},
    {"LastChdirWins", {"--chdir", "/a", "--chdir", "/b", "true"}, {}, "argv=[true] chdir=/b"},
    {"NewSession", {"--new-session", "true"}, {}, "argv=[true] new-session"},
    {"DieWithParent", {"--die-with-parent", "true"}, {}, "argv=[true] die-with-parent"},
    {"AsPid1", {"--unshare-pid", "--as-pid-1", "true"}, {}, "argv=[true] unshare=[pid] as-pid-1"},
    {"Socket", {"--socket", "/tmp/nsb.sock", "true"}, {}, "argv=[true] socket=/tmp/nsb.sock"},

    // Environment: the given one, then --setenv/--unsetenv/--clearenv in argv order.
    {"InheritsEnvironment", {"true"}, {"A=1", "B=2"}, "argv=[true] env=[A=1 B=2]"},
    {"SetenvAdds", {"--setenv", "C", "3", "true"}, {"A=1"}, "argv=[true] env=[A=1 C=3]"},
    {"SetenvReplacesEveryCopy",
     {"--setenv", "A", "9", "true"},
     {"A=1", "B=2", "A=3"},
     "argv=[true] env=[B=2 A=9]"},
    {"SetenvEmptyValue", {"--setenv", "A", "", "true"}, {}, "argv=[true] env=[A=]"},
    {"SetenvValueMayContainEquals",
     {"--setenv", "A", "b=c", "true"},
     {},
     "argv=[true] env=[A=b=c]"},
    {"Unsetenv", {"--unsetenv", "A", "true"}, {"A=1", "B=2"}, "argv=[true] env=[B=2]"},
    {"UnsetenvMatchesWholeName",
     {"--unsetenv", "A", "true"},
     {"AB=1", "A=2"},
     "argv=[true] env=[AB=1]"},
    {"UnsetenvOfMissingIsNoOp", {"--unsetenv", "Z", "true"}, {"A=1"}, "argv=[true] env=[A=1]"},
    {"Clearenv", {"--clearenv", "true"}, {"A=1", "B=2"}, "argv=[true]"},
    {"ClearenvThenSetenv",
     {"--clearenv", "--setenv", "PATH", "/bin", "true"},
     {"A=1"},
     "argv=[true] env=[PATH=/bin]"},
    {"SetenvThenClearenv",
     {"--setenv", "X", "1", "--clearenv", "--setenv", "Y", "2", "true"},
     {"A=1"},
     "argv=[true] env=[Y=2]"},
    {"SetUnsetSet",
     {"--setenv", "X", "1", "--unsetenv", "X", "--setenv", "X", "2", "true"},
     {},
     "argv=[true] env=[X=2]"},

    // A codex-like command line, everything at once.
    {"CodexLike",
     {"--new-session", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--bind", "/w",
      "/w", "--unshare-user", "--unshare-pid", "--unshare-net", "--proc", "/proc", "--", "bash",
      "-lc", "make"},
     {"HOME=/h"},
     "argv=[bash -lc make] env=[HOME=/h] unshare=[user pid net] mounts=[ro-bind / /; dev /dev; "
     "bind /w /w; proc /proc] new-session die-with-parent"},
};

class ParsesToRequest : public testing::TestWithParam<RunCase> {};

TEST_P(ParsesToRequest, FillsSpawn) {
  const RunCase& c = GetParam();
  ParseOutcome outcome = parse(c.words, c.environment);
  ASSERT_EQ(outcome.kind, ParseKind::kRun) << outcome.error;
  EXPECT_EQ(outcome.error, "");
  EXPECT_EQ(summarize(outcome.options), c.expected);
}

INSTANTIATE_TEST_SUITE_P(RunOptions, ParsesToRequest, testing::ValuesIn(kRunCases),
                         case_name<RunCase>);

// ---- --help and --version --------------------------------------------------------------------

struct InfoCase {
  std::string name;
  Words words;
  ParseKind expected;

  friend void PrintTo(const InfoCase& c, std::ostream* out) { *out << join(c.words, " "); }
};

const InfoCase kInfoCases[] = {
    {"Help", {"--help"}, ParseKind::kHelp},
    {"HelpAmongOptions", {"--unshare-pid", "--help", "true"}, ParseKind::kHelp},
    {"HelpBeforeBadOption", {"--help", "--bogus"}, ParseKind::kHelp},
    {"HelpWithoutCommand", {"--ro-bind", "/", "/", "--help"}, ParseKind::kHelp},
    {"Version", {"--version"}, ParseKind::kVersion},
    {"VersionAmongOptions", {"--unshare-all", "--version", "true"}, ParseKind::kVersion},
    {"BadOptionBeforeHelpWins", {"--bogus", "--help"}, ParseKind::kError},
};

class AnswersWithoutRequest : public testing::TestWithParam<InfoCase> {};

TEST_P(AnswersWithoutRequest, Kind) {
  const InfoCase& c = GetParam();
  EXPECT_EQ(parse(c.words).kind, c.expected);
}

INSTANTIATE_TEST_SUITE_P(RunOptions, AnswersWithoutRequest, testing::ValuesIn(kInfoCases),
                         case_name<InfoCase>);

// ---- refused command lines, with their messages -------------------------------------------

struct ErrorCase {
  std::string name;
  Words words;
  std::string expected;

  friend void PrintTo(const ErrorCase& c, std::ostream* out) { *out << join(c.words, " "); }
};

const std::string kNoCommand =
    "no command given: put the program to run and its arguments after the options";

const std::string kPermsBefore =
    "--perms must come right before the --tmpfs, --dir, --file, --bind-data or --ro-bind-data "
    "it applies to, but ";

const ErrorCase kErrorCases[] = {
    // No command.
    {"Nothing", {}, kNoCommand},
    {"OnlyOptions", {"--unshare-pid", "--ro-bind", "/", "/"}, kNoCommand},
    {"OnlyDoubleDash", {"--"}, kNoCommand},
    {"OptionsThenDoubleDash", {"--unshare-pid", "--"}, kNoCommand},
    {"LastArgumentTakenAsDest", {"--bind", "/a", "true"}, kNoCommand},

    // Missing option arguments: every option that takes some.
    {"BindMissing", {"--bind", "/a"}, "--bind needs 2 arguments: SRC DEST"},
    {"BindMissingBoth", {"--bind"}, "--bind needs 2 arguments: SRC DEST"},
    {"RoBindMissing", {"--ro-bind", "/"}, "--ro-bind needs 2 arguments: SRC DEST"},
    {"DevBindMissing", {"--dev-bind"}, "--dev-bind needs 2 arguments: SRC DEST"},
    {"SymlinkMissing", {"--symlink", "t"}, "--symlink needs 2 arguments: TARGET DEST"},
    {"TmpfsMissing", {"--tmpfs"}, "--tmpfs needs 1 argument: DEST"},
    {"ProcMissing", {"--proc"}, "--proc needs 1 argument: DEST"},
    {"DevMissing", {"--dev"}, "--dev needs 1 argument: DEST"},
    {"DirMissing", {"--dir"}, "--dir needs 1 argument: DEST"},
    {"RemountRoMissing", {"--remount-ro"}, "--remount-ro needs 1 argument: DEST"},
    {"PermsMissing", {"--perms"}, "--perms needs 1 argument: OCTAL"},
    {"SizeMissing", {"--size"}, "--size needs 1 argument: BYTES"},
    {"ChdirMissing", {"--chdir"}, "--chdir needs 1 argument: DIR"},
    {"HostnameMissing", {"--hostname"}, "--hostname needs 1 argument: NAME"},
    {"SetenvMissing", {"--setenv", "A"}, "--setenv needs 2 arguments: VAR VALUE"},
    {"UnsetenvMissing", {"--unsetenv"}, "--unsetenv needs 1 argument: VAR"},
    {"SocketMissing", {"--socket"}, "--socket needs 1 argument: PATH"},

    // Unknown options.
    {"UnknownLongOption",
     {"--bogus", "true"},
     "unknown option --bogus: see --help for the options"},
    {"UnknownShortOption", {"-x", "true"}, "unknown option -x: see --help for the options"},
    {"LoneDash", {"-", "true"}, "unknown option -: see --help for the options"},
    {"NoEqualsSyntax",
     {"--chdir=/x", "true"},
     "unknown option --chdir=/x: see --help for the options"},
    {"BwrapOptionNotSupported",
     {"--overlay-src", "/a", "--tmp-overlay", "/b", "true"},
     "--overlay-src is not supported: nsbrokerd does not mount overlay file systems"},
    {"BwrapOnlyOption", {"--args", "3", "true"}, "unknown option --args: see --help for the options"},
    {"BwrapOnlyLevelPrefix",
     {"--level-prefix", "true"},
     "unknown option --level-prefix: see --help for the options"},

    // --perms values.
    {"PermsNotOctal",
     {"--perms", "0789", "--dir", "/d", "true"},
     "--perms needs an octal mode from 0 to 7777, got '0789'"},
    {"PermsTooLarge",
     {"--perms", "10000", "--dir", "/d", "true"},
     "--perms needs an octal mode from 0 to 7777, got '10000'"},
    {"PermsNegative",
     {"--perms", "-1", "--dir", "/d", "true"},
     "--perms needs an octal mode from 0 to 7777, got '-1'"},
    {"PermsHex",
     {"--perms", "0x1ff", "--dir", "/d", "true"},
     "--perms needs an octal mode from 0 to 7777, got '0x1ff'"},
    {"PermsTrailingJunk",
     {"--perms", "755 ", "--dir", "/d", "true"},
     "--perms needs an octal mode from 0 to 7777, got '755 '"},
    {"PermsEmpty", {"--perms", "", "--dir", "/d", "true"}, "--perms: OCTAL must not be empty"},
    {"PermsTwice",
     {"--perms", "0700", "--perms", "0755", "--dir", "/d", "true"},
     "--perms given twice before the same --tmpfs, --dir, --file, --bind-data or --ro-bind-data: "
     "keep one"},

    // --size values.
    {"SizeZero",
     {"--size", "0", "--tmpfs", "/t", "true"},
     "--size needs a positive number of bytes, got '0'"},
    {"SizeWithSuffix",
     {"--size", "12k", "--tmpfs", "/t", "true"},
     "--size needs a positive number of bytes, got '12k'"},
    {"SizeNegative",
     {"--size", "-5", "--tmpfs", "/t", "true"},
     "--size needs a positive number of bytes, got '-5'"},
    {"SizeOverflow",
     {"--size", "18446744073709551616", "--tmpfs", "/t", "true"},
     "--size needs a positive number of bytes, got '18446744073709551616'"},
    {"SizeTwice",
     {"--size", "1", "--size", "2", "--tmpfs", "/t", "true"},
     "--size given twice before the same --tmpfs: keep one"},

    // --perms/--size not consumed by the next option.
    {"PermsBeforeBind",
     {"--perms", "0700", "--bind", "/a", "/b", "true"},
     kPermsBefore + "--bind follows it"},
    {"PermsBeforeNonMountOption",
     {"--perms", "0700", "--unshare-pid", "--dir", "/d", "true"},
     kPermsBefore + "--unshare-pid "
     "follows it"},
    {"PermsBeforeCommand",
     {"--perms", "0700", "true"},
     kPermsBefore + "the command "
     "follows it"},
    {"PermsBeforeDoubleDash",
     {"--perms", "0700", "--", "true"},
     kPermsBefore + "the command "
     "follows it"},
    {"SizeBeforeDir",
     {"--size", "4096", "--dir", "/d", "true"},
     "--size must come right before the --tmpfs it applies to, but --dir follows it"},
    {"SizeBeforeCommand",
     {"--size", "4096", "true"},
     "--size must come right before the --tmpfs it applies to, but the command follows it"},
    {"PermsAndSizeBeforeDir",
     {"--perms", "0700", "--size", "4096", "--dir", "/d", "true"},
     "--size must come right before the --tmpfs it applies to, but --dir follows it"},

    // Empty paths and names.
    {"BindEmptySource", {"--bind", "", "/b", "true"}, "--bind: SRC must not be empty"},
    {"RoBindEmptyDest", {"--ro-bind", "/a", "", "true"}, "--ro-bind: DEST must not be empty"},
    {"SymlinkEmptyTarget", {"--symlink", "", "/l", "true"}, "--symlink: TARGET must not be empty"},
    {"TmpfsEmptyDest", {"--tmpfs", "", "true"}, "--tmpfs: DEST must not be empty"},
    {"ChdirEmpty", {"--chdir", "", "true"}, "--chdir: DIR must not be empty"},
    {"SocketEmpty", {"--socket", "", "true"}, "--socket: PATH must not be empty"},
    {"HostnameEmpty",
     {"--unshare-uts", "--hostname", "", "true"},
     "--hostname: NAME must not be empty"},

    // Variable names.
    {"SetenvEmptyName", {"--setenv", "", "v", "true"}, "--setenv: VAR must not be empty"},
    {"SetenvNameWithEquals",
     {"--setenv", "A=B", "v", "true"},
     "--setenv got an invalid variable name 'A=B': a name must not contain '='"},
    {"UnsetenvEmptyName", {"--unsetenv", "", "true"}, "--unsetenv: VAR must not be empty"},
    {"UnsetenvNameWithEquals",
     {"--unsetenv", "A=", "true"},
     "--unsetenv got an invalid variable name 'A=': a name must not contain '='"},

    // --hostname needs a UTS namespace.
    {"HostnameWithoutUts",
     {"--hostname", "box", "true"},
     "--hostname needs a new UTS namespace: add --unshare-uts (or --unshare-all)"},
    {"HostnameWithOtherNamespaces",
     {"--unshare-pid", "--unshare-net", "--hostname", "box", "true"},
     "--hostname needs a new UTS namespace: add --unshare-uts (or --unshare-all)"},
};

class RefusesWithMessage : public testing::TestWithParam<ErrorCase> {};

TEST_P(RefusesWithMessage, Error) {
  const ErrorCase& c = GetParam();
  ParseOutcome outcome = parse(c.words);
  ASSERT_EQ(outcome.kind, ParseKind::kError) << summarize(outcome.options);
  EXPECT_EQ(outcome.error, c.expected);
}

INSTANTIATE_TEST_SUITE_P(RunOptions, RefusesWithMessage, testing::ValuesIn(kErrorCases),
                         case_name<ErrorCase>);

// ---- properties that are not about a single row ---------------------------------------------

TEST(RunOptions, RequestCarriesNoClientSideFields) {
  ParseOutcome outcome = parse({"true"}, {"A=1"});
  ASSERT_EQ(outcome.kind, ParseKind::kRun);
  EXPECT_TRUE(outcome.options.spawn.cwd_path().empty()) << "cwd_path is filled in at send time";
  EXPECT_TRUE(outcome.options.socket_path.empty());
}

TEST(RunOptions, BytesArePassedThroughUnchanged) {
  // Linux paths and arguments need not be UTF-8.
  const std::string_view odd = "/tmp/\xff\xfe";
  ParseOutcome outcome = parse({"--bind", odd, odd, "echo", odd}, {"X=\xff"});
  ASSERT_EQ(outcome.kind, ParseKind::kRun) << outcome.error;
  EXPECT_EQ(outcome.options.spawn.mounts(0).source(), odd);
  EXPECT_EQ(outcome.options.spawn.mounts(0).dest(), odd);
  EXPECT_EQ(outcome.options.spawn.argv(1), odd);
  EXPECT_EQ(outcome.options.spawn.env(0), "X=\xff");
}

TEST(RunOptions, EveryMountHasAKind) {
  ParseOutcome outcome = parse(
      {"--bind", "/a",        "/a", "--ro-bind", "/b",           "/b",    "--dev-bind", "/c",
       "/c",     "--tmpfs",   "/d", "--proc",    "/e",           "--dev", "/f",         "--dir",
       "/g",     "--symlink", "x",  "/h",        "--remount-ro", "/i",    "true"});
  ASSERT_EQ(outcome.kind, ParseKind::kRun) << outcome.error;
  ASSERT_EQ(outcome.options.spawn.mounts_size(), 9);
  for (const wire::MountOp& op : outcome.options.spawn.mounts()) {
    EXPECT_NE(op.kind(), wire::MOUNT_KIND_UNSPECIFIED) << op.dest();
  }
}

}  // namespace
}  // namespace nsbroker::client
