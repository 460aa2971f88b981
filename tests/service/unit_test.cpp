// Pure parts of the service layer: daemon options, Spawn's D-Bus arguments (both
// directions), bus credentials, activity and idle exit, sd_notify.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <thread>
#include <gtest/gtest.h>

#include "auth/process_identity.h"
#include "client/dbus/broker1.h"
#include "client/dbus_helper.h"
#include "client/run_options.h"
#include "daemon_options.h"
#include "dbus/bus_caller.h"
#include "dbus/bus_errors.h"
#include "dbus/spawn_args.h"
#include "service/activity.h"
#include "service/idle_exit.h"
#include "service/notifier.h"
#include "sandbox/syscalls.h"
#include "wire/unique_fd.h"

namespace nsbroker {
namespace {

using dbus::Bytes;
using dbus::MountTuple;

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// ---- daemon options -------------------------------------------------------------------------

std::optional<DaemonOptions> parse(std::vector<std::string> args, std::string& error) {
  return parse_daemon_options(args, error);
}

TEST(DaemonOptions, ServiceDefaultsAreOff) {
  std::string error;
  auto options = parse({}, error);
  ASSERT_TRUE(options) << error;
  EXPECT_EQ(options->idle_exit_seconds, 0u);
  EXPECT_FALSE(options->dbus);
  EXPECT_TRUE(options->dbus_address.empty());
}

TEST(DaemonOptions, IdleExitAndDbus) {
  std::string error;
  auto options = parse({"--idle-exit", "60", "--dbus"}, error);
  ASSERT_TRUE(options) << error;
  EXPECT_EQ(options->idle_exit_seconds, 60u);
  EXPECT_TRUE(options->dbus);
  options = parse({"--dbus-address", "unix:path=/tmp/x"}, error);
  ASSERT_TRUE(options) << error;
  EXPECT_TRUE(options->dbus) << "--dbus-address implies --dbus";
  EXPECT_EQ(options->dbus_address, "unix:path=/tmp/x");
}

TEST(DaemonOptions, BadServiceValuesAreRefusedWithAReason) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--idle-exit"}, {"--idle-exit", "-1"}, {"--idle-exit", "abc"},
           {"--idle-exit", "86401"}, {"--dbus-address"}, {"--dbus-address", ""}}) {
    std::string error;
    EXPECT_FALSE(parse(args, error)) << args[0];
    EXPECT_NE(error.find(args[0]), std::string::npos) << error;
  }
}

TEST(DaemonOptions, UsageMentionsTheServiceOptions) {
  std::string usage = kDaemonUsage;
  for (const char* option : {"--dbus", "--dbus-address", "--idle-exit"}) {
    EXPECT_NE(usage.find(option), std::string::npos) << option;
  }
}

// ---- Spawn's arguments ----------------------------------------------------------------------

using Extra = std::map<std::string, sdbus::Variant>;

struct Fds {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ~Fds() {
    ::close(null);
    ::close(root);
  }
  std::map<std::string, sdbus::UnixFd> all() const {
    return {{"stdin", sdbus::UnixFd(null)},
            {"stdout", sdbus::UnixFd(null)},
            {"stderr", sdbus::UnixFd(null)},
            {"cwd", sdbus::UnixFd(root)}};
  }
};

dbus::SpawnArgs minimal_args(const Fds& fds) {
  dbus::SpawnArgs args;
  args.argv = {bytes("/bin/true")};
  args.env = {bytes("A=1")};
  args.cwd = bytes("/home/u");
  args.fds = fds.all();
  return args;
}

TEST(SpawnArgs, TranslatesEveryOption) {
  Fds fds;
  auto args = minimal_args(fds);
  args.options["unshare-pid"] = sdbus::Variant(true);
  args.options["unshare-uts"] = sdbus::Variant(true);
  args.options["hostname"] = sdbus::Variant(std::string("box"));
  args.options["chdir"] = sdbus::Variant(bytes("/w"));
  args.options["argv0"] = sdbus::Variant(bytes("sh-ish"));
  args.options["new-session"] = sdbus::Variant(true);
  args.options["as-pid-1"] = sdbus::Variant(true);
  args.options["die-with-parent"] = sdbus::Variant(true);
  args.options["uid"] = sdbus::Variant(std::uint32_t{0});
  args.options["gid"] = sdbus::Variant(std::uint32_t{7});
  args.options["cap-add"] = sdbus::Variant(std::vector<std::string>{"CAP_NET_ADMIN"});
  args.options["seccomp-fds"] = sdbus::Variant(std::vector<std::uint32_t>{4});
  args.options["mounts"] = sdbus::Variant(std::vector<MountTuple>{
      MountTuple("ro-bind", bytes("/usr"), bytes("/usr"), Extra{}),
      MountTuple("tmpfs", Bytes(), bytes("/tmp"),
                 Extra{{"perms", sdbus::Variant(std::uint32_t{01777})}, {"size", sdbus::Variant(std::uint64_t{1} << 20)}}),
      MountTuple("bind", bytes("/maybe"), bytes("/m"), Extra{{"ignore-missing", sdbus::Variant(true)}}),
      MountTuple("file", Bytes(), bytes("/etc/x"), Extra{{"fd", sdbus::Variant(std::uint32_t{5})}})});
  args.fds["4"] = sdbus::UnixFd(fds.null);
  args.fds["5"] = sdbus::UnixFd(fds.null);
  auto input = dbus::translate_spawn(args);
  ASSERT_TRUE(input) << input.failure().message;
  const wire::Spawn& spawn = input.value().spawn;
  ASSERT_EQ(spawn.argv_size(), 1);
  EXPECT_EQ(spawn.argv(0), "/bin/true");
  EXPECT_EQ(spawn.env(0), "A=1");
  EXPECT_EQ(spawn.cwd_path(), "/home/u");
  EXPECT_TRUE(spawn.unshare().pid());
  EXPECT_TRUE(spawn.unshare().uts());
  EXPECT_FALSE(spawn.unshare().net());
  EXPECT_EQ(spawn.hostname(), "box");
  EXPECT_EQ(spawn.chdir(), "/w");
  EXPECT_EQ(spawn.argv0(), "sh-ish");
  EXPECT_TRUE(spawn.new_session());
  EXPECT_TRUE(spawn.as_pid_1());
  EXPECT_TRUE(spawn.die_with_parent());
  EXPECT_TRUE(spawn.has_uid());
  EXPECT_EQ(spawn.uid(), 0u);
  EXPECT_TRUE(spawn.has_gid());
  EXPECT_EQ(spawn.gid(), 7u);
  ASSERT_EQ(spawn.cap_add_size(), 1);
  EXPECT_EQ(spawn.cap_add(0), "CAP_NET_ADMIN");
  ASSERT_EQ(spawn.seccomp_fds_size(), 1);
  EXPECT_EQ(spawn.seccomp_fds(0), 4u);
  ASSERT_EQ(spawn.mounts_size(), 4);
  EXPECT_EQ(spawn.mounts(0).kind(), wire::MOUNT_RO_BIND);
  EXPECT_FALSE(spawn.mounts(0).has_perms());
  EXPECT_EQ(spawn.mounts(1).kind(), wire::MOUNT_TMPFS);
  EXPECT_TRUE(spawn.mounts(1).has_perms());
  EXPECT_EQ(spawn.mounts(1).perms(), 01777u);
  EXPECT_EQ(spawn.mounts(1).size_bytes(), 1u << 20);
  EXPECT_TRUE(spawn.mounts(2).ignore_missing_source());
  EXPECT_EQ(spawn.mounts(3).kind(), wire::MOUNT_FILE);
  EXPECT_EQ(spawn.mounts(3).source_fd(), 5u);
  // Our own close-on-exec copies, above the standard fds, data fds in order.
  for (const UniqueFd& fd : input.value().stdio) {
    EXPECT_GE(fd.get(), 3);
    EXPECT_TRUE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC);
  }
  EXPECT_GE(input.value().cwd.get(), 3);
  EXPECT_EQ(input.value().data.size(), 2u);
  EXPECT_EQ(input.value().fds().data.size(), 2u);
}

TEST(SpawnArgs, UnshareAllAndShareNetCombineWhateverTheOrder) {
  Fds fds;
  auto args = minimal_args(fds);
  args.options["share-net"] = sdbus::Variant(true);
  args.options["unshare-all"] = sdbus::Variant(true);
  auto input = dbus::translate_spawn(args);
  ASSERT_TRUE(input) << input.failure().message;
  const wire::Namespaces& ns = input.value().spawn.unshare();
  EXPECT_TRUE(ns.user() && ns.pid() && ns.ipc() && ns.uts() && ns.cgroup());
  EXPECT_FALSE(ns.net());
}

TEST(SpawnArgs, RefusesWhatItDoesNotKnowWithInvalidArgument) {
  struct Case {
    const char* what;
    std::function<void(dbus::SpawnArgs&, const Fds&)> change;
    const char* in_message;
  };
  auto one_mount = [](MountTuple tuple) { return sdbus::Variant(std::vector<MountTuple>{std::move(tuple)}); };
  std::vector<Case> cases = {
      {"unknown option", [](dbus::SpawnArgs& a, const Fds&) { a.options["bogus"] = sdbus::Variant(true); }, "bogus"},
      {"wrong type", [](dbus::SpawnArgs& a, const Fds&) { a.options["unshare-net"] = sdbus::Variant(std::string("yes")); }, "unshare-net"},
      {"wrong type of shorthand", [](dbus::SpawnArgs& a, const Fds&) { a.options["unshare-all"] = sdbus::Variant(1u); }, "unshare-all"},
      {"mounts of the wrong type", [](dbus::SpawnArgs& a, const Fds&) { a.options["mounts"] = sdbus::Variant(std::string("x")); }, "a(sayaya{sv})"},
      {"unknown mount kind", [&](dbus::SpawnArgs& a, const Fds&) {
         a.options["mounts"] = one_mount(MountTuple("overlay", Bytes(), bytes("/x"), Extra{}));
       }, "overlay"},
      {"perms out of range", [&](dbus::SpawnArgs& a, const Fds&) {
         a.options["mounts"] = one_mount(MountTuple("dir", Bytes(), bytes("/x"), Extra{{"perms", sdbus::Variant(std::uint32_t{010000})}}));
       }, "perms"},
      {"unknown mount extra", [&](dbus::SpawnArgs& a, const Fds&) {
         a.options["mounts"] = one_mount(MountTuple("dir", Bytes(), bytes("/x"), Extra{{"owner", sdbus::Variant(true)}}));
       }, "owner"},
      {"missing cwd", [](dbus::SpawnArgs& a, const Fds&) { a.fds.erase("cwd"); }, "cwd"},
      {"missing stdout", [](dbus::SpawnArgs& a, const Fds&) { a.fds.erase("stdout"); }, "stdout"},
      {"unknown fd", [](dbus::SpawnArgs& a, const Fds& f) { a.fds["data"] = sdbus::UnixFd(f.null); }, "data"},
      {"fd number out of range", [](dbus::SpawnArgs& a, const Fds& f) { a.fds["16"] = sdbus::UnixFd(f.null); }, "16"},
      {"gap in data fds", [](dbus::SpawnArgs& a, const Fds& f) { a.fds["5"] = sdbus::UnixFd(f.null); }, "4 is missing"},
      {"too large", [](dbus::SpawnArgs& a, const Fds&) { a.env.push_back(Bytes(70000, 'x')); }, "too large"},
  };
  for (const Case& c : cases) {
    Fds fds;
    auto args = minimal_args(fds);
    c.change(args, fds);
    auto input = dbus::translate_spawn(args);
    ASSERT_FALSE(input) << c.what;
    EXPECT_EQ(input.failure().code, wire::ERROR_INVALID_ARGUMENT) << c.what;
    EXPECT_NE(input.failure().message.find(c.in_message), std::string::npos)
        << c.what << ": " << input.failure().message;
    EXPECT_STREQ(dbus::error_name(input.failure().code), "org.nsbroker.Error.InvalidArgument");
  }
}

// What `nsbroker run --dbus` sends is what the daemon reads back: the same wire::Spawn the
// socket would have carried, every field of it.
TEST(SpawnArgs, ClientAndDaemonTranslationsRoundTrip) {
  wire::Spawn spawn;
  spawn.add_argv("/bin/sh");
  spawn.add_argv("-c");
  spawn.add_argv("true");
  spawn.add_env("X=y");
  spawn.mutable_unshare()->set_user(true);
  spawn.mutable_unshare()->set_net(true);
  spawn.mutable_unshare()->set_ipc(true);
  spawn.mutable_unshare()->set_uts(true);
  spawn.set_hostname("h");
  spawn.set_chdir("/tmp");
  spawn.set_argv0("zero");
  spawn.set_new_session(true);
  spawn.set_die_with_parent(true);
  spawn.set_as_pid_1(true);
  spawn.set_has_uid(true);
  spawn.set_uid(0);
  spawn.set_has_gid(true);
  spawn.set_gid(0);
  spawn.add_cap_add("CAP_SYS_TIME");
  spawn.add_seccomp_fds(4);
  for (int kind = wire::MOUNT_BIND; kind <= wire::MOUNT_LOCK_FILE; ++kind) {
    ASSERT_TRUE(wire::MountKind_IsValid(kind));
    wire::MountOp& op = *spawn.add_mounts();
    op.set_kind(static_cast<wire::MountKind>(kind));
    op.set_source("/src" + std::to_string(kind));
    op.set_dest("/dst" + std::to_string(kind));
  }
  spawn.mutable_mounts(3)->set_has_perms(true);
  spawn.mutable_mounts(3)->set_perms(0700);
  spawn.mutable_mounts(3)->set_size_bytes(4096);
  spawn.mutable_mounts(0)->set_ignore_missing_source(true);
  spawn.mutable_mounts(9)->set_source_fd(5);

  client::dbus::SpawnCall call = client::dbus::to_spawn_call(spawn, "/home/u");
  ASSERT_EQ(call.unsupported, "");
  Fds fds;
  dbus::SpawnArgs args;
  args.argv = call.argv;
  args.env = call.env;
  args.cwd = call.cwd;
  args.options = call.options;
  args.fds = fds.all();
  auto input = dbus::translate_spawn(args);
  ASSERT_TRUE(input) << input.failure().message;
  wire::Spawn expected = spawn;
  expected.set_cwd_path("/home/u");
  EXPECT_EQ(input.value().spawn.SerializeAsString(), expected.SerializeAsString());
}

// A field Spawn cannot carry is refused by the client instead of silently left out.
TEST(SpawnArgs, TheClientRefusesWhatItCannotCarry) {
  wire::Spawn spawn;
  spawn.add_argv("true");
  wire::MountOp& op = *spawn.add_mounts();
  op.set_kind(static_cast<wire::MountKind>(999));
  op.set_dest("/x");
  EXPECT_NE(client::dbus::to_spawn_call(spawn, "/").unsupported, "");
}

// ---- bus credentials ------------------------------------------------------------------------

std::map<std::string, sdbus::Variant> credentials(std::uint32_t uid, std::vector<std::uint32_t> gids,
                                                  std::uint32_t pid) {
  std::map<std::string, sdbus::Variant> answer;
  answer["UnixUserID"] = sdbus::Variant(uid);
  answer["UnixGroupIDs"] = sdbus::Variant(gids);
  answer["ProcessID"] = sdbus::Variant(pid);
  return answer;
}

TEST(BusCaller, NeedsUidGroupsAndPid) {
  auto ok = dbus::parse_credentials(credentials(1500, {1500, 27}, 42));
  ASSERT_TRUE(ok) << ok.failure().message;
  EXPECT_EQ(ok.value().uid, 1500u);
  EXPECT_EQ(ok.value().groups, (std::vector<gid_t>{1500, 27}));
  EXPECT_EQ(ok.value().pid, 42);
  for (const char* field : {"UnixUserID", "UnixGroupIDs", "ProcessID"}) {
    auto answer = credentials(1500, {1500}, 42);
    answer.erase(field);
    auto parsed = dbus::parse_credentials(answer);
    ASSERT_FALSE(parsed) << field;
    EXPECT_NE(parsed.failure().message.find(field), std::string::npos);
  }
  auto wrong_type = credentials(1500, {1500}, 42);
  wrong_type["UnixUserID"] = sdbus::Variant(std::string("1500"));
  EXPECT_FALSE(dbus::parse_credentials(wrong_type));
}

TEST(BusCaller, ConfirmsTheProcessAndTakesItsGid) {
  auto parsed = dbus::parse_credentials(
      credentials(::geteuid(), {::getegid(), 12345}, static_cast<std::uint32_t>(::getpid())));
  ASSERT_TRUE(parsed);
  auto caller = dbus::make_caller(std::move(parsed.value()), auth::boottime_ns());
  ASSERT_TRUE(caller) << caller.failure().message;
  EXPECT_EQ(caller.value().uid, ::geteuid());
  EXPECT_EQ(caller.value().gid, ::getegid());
  EXPECT_EQ(caller.value().groups, (std::vector<gid_t>{12345}));
  EXPECT_EQ(caller.value().pid, ::getpid());
  ASSERT_TRUE(caller.value().pidfd && caller.value().pidfd->valid());
  EXPECT_STREQ(caller.value().transport, "dbus");
}

TEST(BusCaller, RefusesAProcessThatIsNotWhatTheBusSaid) {
  // The bus says uid 4242, but the process (us) runs as another uid.
  auto other_uid = dbus::parse_credentials(
      credentials(4242, {::getegid()}, static_cast<std::uint32_t>(::getpid())));
  ASSERT_TRUE(other_uid);
  auto refused = dbus::make_caller(std::move(other_uid.value()), auth::boottime_ns());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.failure().code, wire::ERROR_DENIED);
  // Our gid is not among the groups the bus reported.
  auto other_gid = dbus::parse_credentials(
      credentials(::geteuid(), {54321}, static_cast<std::uint32_t>(::getpid())));
  ASSERT_TRUE(other_gid);
  EXPECT_FALSE(dbus::make_caller(std::move(other_gid.value()), auth::boottime_ns()));
  // A process that is gone.
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  auto gone = dbus::parse_credentials(credentials(::geteuid(), {::getegid()}, static_cast<std::uint32_t>(child)));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(dbus::make_caller(std::move(gone.value()), auth::boottime_ns()));
}

// Without ProcessFD (dbus-daemon before 1.15.8, Debian 12's included) the pidfd is opened by
// ProcessID: a process that started after the call came in cannot have sent it.
TEST(BusCaller, RefusesAProcessStartedAfterTheCallWasReceived) {
  std::uint64_t received = auth::boottime_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // start times count in 10 ms ticks
  int hold[2];
  ASSERT_EQ(::pipe2(hold, O_CLOEXEC), 0);
  pid_t later = ::fork();
  if (later == 0) {
    char byte;
    ::close(hold[1]);
    while (::read(hold[0], &byte, 1) < 0 && errno == EINTR) {}
    ::_exit(0);
  }
  ::close(hold[0]);
  auto answer = credentials(::geteuid(), {::getegid()}, static_cast<std::uint32_t>(later));
  auto refused = dbus::make_caller(std::move(dbus::parse_credentials(answer).value()), received);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.failure().code, wire::ERROR_DENIED);
  EXPECT_NE(refused.failure().message.find("started after the request was made"), std::string::npos)
      << refused.failure().message;
  // The same process, for a call received after it started, is the caller.
  auto accepted = dbus::make_caller(std::move(dbus::parse_credentials(answer).value()), auth::boottime_ns());
  EXPECT_TRUE(accepted) << accepted.failure().message;
  ::close(hold[1]);
  ::waitpid(later, nullptr, 0);
}

// ProcessFD, when the bus has it, is the pidfd: no pid to recycle, no start time to compare.
TEST(BusCaller, UsesProcessFdWhenTheBusGivesOne) {
  int own = nsbroker::sys::pidfd_open(::getpid());
  ASSERT_GE(own, 0);
  auto answer = credentials(::geteuid(), {::getegid()}, static_cast<std::uint32_t>(::getpid()));
  answer["ProcessFD"] = sdbus::Variant(sdbus::UnixFd(own));
  ::close(own);
  auto parsed = dbus::parse_credentials(answer);
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(parsed.value().pidfd.valid());
  auto caller = dbus::make_caller(std::move(parsed.value()), 1);  // any bound: not consulted
  ASSERT_TRUE(caller) << caller.failure().message;
  EXPECT_EQ(caller.value().pid, ::getpid());
}

TEST(BusCaller, TheConnectionMustStillReportTheSameProcessAfterThePidfdWasOpened) {
  int own = nsbroker::sys::pidfd_open(::getpid());
  ASSERT_GE(own, 0);
  UniqueFd own_fd(own);
  auto same = dbus::parse_credentials(credentials(1500, {1500}, static_cast<std::uint32_t>(::getpid())));
  ASSERT_TRUE(same);
  EXPECT_EQ(dbus::confirm_same_connection(::getpid(), 1500, same.value(), own), std::nullopt);
  auto other_pid = dbus::parse_credentials(credentials(1500, {1500}, 4242));
  auto refused = dbus::confirm_same_connection(::getpid(), 1500, other_pid.value(), own);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, wire::ERROR_DENIED);
  EXPECT_NE(refused->message.find("now reports process 4242"), std::string::npos) << refused->message;
  EXPECT_TRUE(dbus::confirm_same_connection(::getpid(), 1501, same.value(), own));
  // The pidfd's process died meanwhile.
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  UniqueFd child_fd(nsbroker::sys::pidfd_open(child));
  ASSERT_TRUE(child_fd.valid());
  ::waitpid(child, nullptr, 0);
  auto child_answer = dbus::parse_credentials(credentials(1500, {1500}, static_cast<std::uint32_t>(child)));
  auto died = dbus::confirm_same_connection(child, 1500, child_answer.value(), child_fd.get());
  ASSERT_TRUE(died);
  EXPECT_NE(died->message.find("exited while it was being identified"), std::string::npos) << died->message;
}

TEST(BusErrors, NamesForEveryCode) {
  EXPECT_STREQ(dbus::error_name(wire::ERROR_DENIED), "org.nsbroker.Error.Denied");
  EXPECT_STREQ(dbus::error_name(wire::ERROR_LIMIT_EXCEEDED), "org.nsbroker.Error.LimitExceeded");
  EXPECT_STREQ(dbus::error_name(wire::ERROR_SETUP_FAILED), "org.nsbroker.Error.SetupFailed");
  EXPECT_STREQ(dbus::error_name(wire::ERROR_PROTOCOL), "org.nsbroker.Error.InvalidArgument");
  EXPECT_STREQ(dbus::error_name(wire::ERROR_INTERNAL), "org.nsbroker.Error.Internal");
  EXPECT_EQ(dbus::exit_reason_name(wire::EXIT_REASON_CLIENT_GONE), "client-gone");
}

// ---- activity and idle exit -----------------------------------------------------------------

TEST(Activity, HoldsCountAndMayOutliveTheCounter) {
  std::optional<service::ActivityHold> late;
  {
    service::Activity activity;
    std::vector<std::size_t> seen;
    activity.set_listener([&](std::size_t n) { seen.push_back(n); });
    {
      service::ActivityHold a(&activity);
      service::ActivityHold b(&activity);
      service::ActivityHold moved(std::move(a));
      EXPECT_EQ(activity.active(), 2u);
    }
    EXPECT_EQ(activity.active(), 0u);
    EXPECT_EQ(seen, (std::vector<std::size_t>{1, 2, 1, 0}));
    activity.set_listener(nullptr);
    late.emplace(&activity);
  }
  late.reset();  // the Activity is gone; releasing must be harmless
  service::ActivityHold none(nullptr);
}

TEST(IdleExit, FiresOnlyAfterAnIdlePeriod) {
  boost::asio::io_context io;
  service::Activity activity;
  int fired = 0;
  service::IdleExit idle(io, std::chrono::seconds(1), [&] {
    ++fired;
    io.stop();
  });
  activity.set_listener([&](std::size_t n) { idle.update(n); });
  idle.update(0);
  auto start = std::chrono::steady_clock::now();
  std::optional<service::ActivityHold> hold;
  boost::asio::steady_timer busy(io), done(io);
  // Busy from 0.5 s to 1.2 s: the first countdown is cancelled, the next one ends at ~2.2 s.
  busy.expires_after(std::chrono::milliseconds(500));
  busy.async_wait([&](auto) { hold.emplace(&activity); });
  done.expires_after(std::chrono::milliseconds(1200));
  done.async_wait([&](auto) { hold.reset(); });
  io.run_for(std::chrono::seconds(5));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(fired, 1);
  EXPECT_GE(elapsed, std::chrono::milliseconds(2100));
  EXPECT_LT(elapsed, std::chrono::milliseconds(4000));
}

// ---- sd_notify ------------------------------------------------------------------------------

TEST(Notifier, SendsReadyStatusStoppingToNotifySocket) {
  std::string path = "/tmp/nsb-notify-" + std::to_string(::getpid());
  ::unlink(path.c_str());
  int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  {
    service::Notifier notifier;
    EXPECT_TRUE(notifier.enabled());
    notifier.ready("Idle");
    notifier.status("Serving: 1");
    notifier.status("Serving: 1");  // unchanged: not sent again
    notifier.stopping("bye");
  }
  ::unsetenv("NOTIFY_SOCKET");
  std::vector<std::string> messages;
  while (true) {
    pollfd fd{sock, POLLIN, 0};
    if (::poll(&fd, 1, 200) != 1) break;
    char buffer[512];
    ssize_t n = ::recv(sock, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    messages.emplace_back(buffer, static_cast<std::size_t>(n));
  }
  ::close(sock);
  ::unlink(path.c_str());
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0], "READY=1\nSTATUS=Idle");
  EXPECT_EQ(messages[1], "STATUS=Serving: 1");
  EXPECT_EQ(messages[2], "STOPPING=1\nSTATUS=bye");
  service::Notifier off;
  EXPECT_FALSE(off.enabled());
}

}  // namespace
}  // namespace nsbroker
