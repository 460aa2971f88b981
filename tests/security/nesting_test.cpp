// Issue 8, finding 4: a sandbox cannot leave its PID namespace, and a request from any
// process descended from a live sandbox is refused (PID-namespace ancestry, not equality).
// The D-Bus route is in tests/service/dbus_test.cpp (where the private bus lives).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "security_fixture.h"

namespace nsbroker::sectest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::map<std::string, std::string> parse_probe(const std::string& text) {
  std::map<std::string, std::string> fields;
  for (const std::string& line : lines_of(text)) {
    std::size_t eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return fields;
}

class NestingTest : public SecurityTest {};

// The escape: from inside a sandbox, setns into a user namespace (and its network
// namespace) that the same user holds outside, then unshare a new PID namespace, ... The base
// filter must refuse setns and every namespace-creating unshare, whatever capabilities the
// process has in its user namespace; unshare(CLONE_FS) and (CLONE_FILES) create nothing and
// keep working.
TEST_P(NestingTest, SetnsAndNamespaceUnshareAreRefusedInsideASandbox) {
  ProcessSpec holder_spec;
  holder_spec.argv = {binaries().helper, "--nsb-helper", "hold-userns"};
  ChildProcess holder(holder_spec);
  std::string ns = "/proc/" + std::to_string(holder.pid()) + "/ns/";
  // The holder is in its own user namespace once its ns/user differs from ours.
  struct stat own {}, held {};
  ASSERT_EQ(::stat("/proc/self/ns/user", &own), 0);
  bool ready = poll_until(5s, [&] { return ::stat((ns + "user").c_str(), &held) == 0 && held.st_ino != own.st_ino; });
  if (!ready) {
    ProcessResult h = holder.wait(1s);
    if (h.out.find("held=") != std::string::npos && h.out.find("held=ok") == std::string::npos) {
      GTEST_SKIP() << "uid 1500 cannot create a user namespace on this host, so the outside namespace of the "
                      "attack cannot be made: " << h.out;
    }
    FAIL() << "the uid-1500 holder of a user namespace did not come up: " << h.describe();
  }

  ProcessResult r = run({"--ro-bind", "/", "/", "--ro-bind", "/proc", "/proc", "--", binaries().helper, "--nsb-helper",
                         "ns-escape", ns + "user", ns + "net"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto probe = parse_probe(r.out);
  // Its own namespaces can always be named: setns itself must refuse (the kernel says EINVAL
  // for the own user namespace).
  for (const char* key : {"setns_own_user", "setns_own_net"}) {
    EXPECT_EQ(probe[key], "EPERM") << key << "\n" << r.out;
  }
  // The outside ones: refused by setns, or (userns mode: another user namespace's files)
  // already by their open.
  for (const char* key : {"setns_user", "setns_net"}) {
    EXPECT_TRUE(probe[key] == "EPERM" || probe[key].rfind("open:", 0) == 0) << key << "=" << probe[key] << "\n" << r.out;
  }
  for (const char* kind : {"mnt", "pid", "net", "ipc", "uts", "cgroup", "time", "user"}) {
    EXPECT_EQ(probe[std::string("unshare_") + kind], "EPERM") << "unshare of a new " << kind << " namespace\n" << r.out;
  }
  EXPECT_EQ(probe["unshare_fs"], "ok") << r.out;
  EXPECT_EQ(probe["unshare_files"], "ok") << r.out;
}

// A process in a PID namespace *below* a live sandbox's (made from outside, as root: join the
// sandbox's pid namespace, unshare a new one, fork) asks for a sandbox as uid 1500.
TEST_P(NestingTest, RequestFromADescendantPidNamespaceOfASandboxIsRefused) {
  std::string token = random_token();
  ChildProcess sandbox(spec(with_base({"--setenv", "NSB_MARK", token, "--", "sleep", "30"})));
  std::vector<pid_t> pids = sandbox_pids("NSB_MARK=" + token, sandbox.pid());
  ASSERT_FALSE(pids.empty()) << "the sandbox did not start: " << sandbox.wait(1s).describe();
  std::string pidns = "/proc/" + std::to_string(pids.front()) + "/ns/pid";
  struct stat sandbox_ns {};
  ASSERT_EQ(::stat(pidns.c_str(), &sandbox_ns), 0);

  ProcessSpec s;
  s.uid = std::nullopt;  // the probe drops to uid 1500 itself, in the descendant namespace
  s.argv = {binaries().helper, "--nsb-helper", "pidns-descendant-run", pidns, std::to_string(kCallerUid), "--",
            binaries().client, "run", "--socket", daemon_->socket_path()};
  for (const std::string& option : with_base({"--", "echo", "nested-sandbox-ran"})) s.argv.push_back(option);
  ProcessResult r = run_process(s);
  sandbox.signal(SIGTERM);
  sandbox.wait(10s);

  auto probe = parse_probe(r.out);
  ASSERT_FALSE(probe["descendant_pidns"].empty()) << "the probe did not reach the descendant namespace\n"
                                                  << r.describe();
  EXPECT_NE(probe["descendant_pidns"], std::to_string(sandbox_ns.st_ino)) << r.describe();
  EXPECT_THAT(r.out, Not(HasSubstr("nested-sandbox-ran"))) << "a sandbox was created from below a sandbox\n"
                                                            << r.describe();
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("inside an nsbroker sandbox")) << r.describe();
}

// Inside a sandbox with the host's /proc, the daemon's socket is reachable through the root of
// any process of the same user outside: /proc/PID/root/<socket path>. The request is still one
// from inside a sandbox.
TEST_P(NestingTest, RequestThroughProcPidRootIsRefused) {
  ProcessSpec outside;
  outside.argv = {"sleep", "30"};
  ChildProcess outsider(outside);
  std::string via_root = "/proc/" + std::to_string(outsider.pid()) + "/root" + daemon_->socket_path();
  ASSERT_TRUE(poll_until(5s, [&] { return socket_accepts(via_root); })) << via_root;

  // The outer sandbox says it ran, then execs the inner client.
  std::vector<std::string> args = {"--ro-bind", "/", "/", "--ro-bind", "/proc", "/proc", "--", "sh", "-c",
                                   "echo outer-sandbox-ran; exec \"$@\"", "sh", binaries().client, "run",
                                   "--socket", via_root};
  for (const std::string& option : with_base({"--", "echo", "nested-sandbox-ran"})) args.push_back(option);
  ProcessResult r = run(args);
  ASSERT_THAT(r.out, HasSubstr("outer-sandbox-ran\n")) << "the outer sandbox did not run\n" << r.describe();
  EXPECT_THAT(r.out, Not(HasSubstr("nested-sandbox-ran"))) << "a sandbox was created from inside a sandbox\n"
                                                            << r.describe();
  EXPECT_EQ(r.exit_code, 1) << "the inner client should be refused\n" << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Configs, NestingTest, ::testing::ValuesIn(kAllConfigs), ConfigName());

}  // namespace
}  // namespace nsbroker::sectest
