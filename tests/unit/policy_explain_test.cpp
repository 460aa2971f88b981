// `nsbroker policy explain`: the text names the profile and why, the mode, each deciding
// rule, what is left for the as-opened check, and the verdict.
#include "policy/explain.h"

#include <gtest/gtest.h>

#include "policy_test_support.h"

namespace nsbroker::policy {
namespace {

using testing::caller;
using testing::load_ok;
using testing::run;

constexpr const char* kPolicy = R"(default_profile: "p"
profile {
  name: "p"
  namespaces { net: REQUIRED allow_user_namespace: true }
  mounts {
    read_only: "/"
    read_write: "/home"
    deny: "/etc/shadow"
    deny_other_users_homes: true
    allow_proc: true
  }
}
)";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Explain, AnAllowedRequest) {
  auto policy = load_ok(kPolicy);
  ASSERT_TRUE(policy);
  Explanation e = explain(*policy, caller(1000, 1000), "uid 1000 (alice)",
                          run("--ro-bind / / --bind /home/alice/p /p --proc /proc -- /bin/true"),
                          SandboxMode::kUserNamespace);
  EXPECT_TRUE(e.allowed);
  EXPECT_TRUE(contains(e.text, "policy:  test.pbtxt\n")) << e.text;
  EXPECT_TRUE(contains(e.text, "caller:  uid 1000 (alice)\n")) << e.text;
  EXPECT_TRUE(contains(e.text, "profile: \"p\", selected by default_profile \"p\" (no profile matches uid 1000)\n"));
  EXPECT_TRUE(contains(e.text, "mode:    userns\n"));
  EXPECT_TRUE(contains(e.text, "  allow  namespaces.net REQUIRED: always a new net namespace (not requested) [test.pbtxt:4:16]\n"))
      << e.text;
  EXPECT_TRUE(contains(e.text, "  allow  mounts.read_only \"/\" allows --ro-bind / / [test.pbtxt:6:5]\n")) << e.text;
  EXPECT_TRUE(contains(e.text, "  - --ro-bind / /: contains mounts.deny \"/etc/shadow\" (hidden inside the sandbox)\n"));
  EXPECT_TRUE(contains(e.text, "checked again when the sandbox is built, as opened by the caller"));
  EXPECT_TRUE(contains(e.text, "limits:  64 live sandboxes, 600 spawns per minute, wall time unlimited\n"));
  EXPECT_TRUE(e.text.ends_with("verdict: ALLOWED\n")) << e.text;
}

TEST(Explain, ADeniedRequestListsWhatAllowedAndWhatRefused) {
  auto policy = load_ok(kPolicy);
  ASSERT_TRUE(policy);
  Explanation e = explain(*policy, caller(1000, 1000), "uid 1000", run("--proc /proc --dev /dev -- /bin/true"),
                          SandboxMode::kPrivileged);
  EXPECT_FALSE(e.allowed);
  EXPECT_TRUE(contains(e.text, "  allow  mounts.allow_proc: --proc /proc [test.pbtxt:10:5]\n")) << e.text;
  EXPECT_TRUE(contains(e.text, "refused by:\n  deny   mounts.allow_dev is off: --dev /dev refused [test.pbtxt:5:3]\n"))
      << e.text;
  EXPECT_TRUE(e.text.ends_with("verdict: DENIED: denied by profile \"p\": mounts.allow_dev is off: --dev /dev refused\n"))
      << e.text;
}

TEST(Explain, HomeOwnersThatAreKnownDecideTheNote) {
  auto policy = load_ok(kPolicy);
  ASSERT_TRUE(policy);
  HomeOwnerLookup owners = [](const std::string& home) -> std::optional<uid_t> {
    if (home == "/home/alice") return 1000;
    if (home == "/home/bob") return 1001;
    return std::nullopt;
  };
  Explanation own = explain(*policy, caller(1000, 1000), "alice", run("--bind /home/alice/p /p -- /bin/true"),
                            SandboxMode::kUserNamespace, owners);
  EXPECT_TRUE(own.allowed) << own.text;
  Explanation other = explain(*policy, caller(1000, 1000), "alice", run("--ro-bind /home/bob/p /p -- /bin/true"),
                              SandboxMode::kUserNamespace, owners);
  EXPECT_FALSE(other.allowed);
  EXPECT_TRUE(contains(other.text, "mounts.deny_other_users_homes: /home/bob is owned by uid 1001, not the caller, so "
                                   "/home/bob/p would be refused when the sandbox is built"))
      << other.text;
  EXPECT_TRUE(contains(other.text, "verdict: DENIED when the sandbox is built")) << other.text;
}

TEST(Explain, NoProfileForTheCaller) {
  auto policy = load_ok("profile { name: \"x\" match { uid: 5 } }\n");
  ASSERT_TRUE(policy);
  Explanation e = explain(*policy, caller(1000, 1000), "uid 1000", run("-- /bin/true"), SandboxMode::kPrivileged);
  EXPECT_FALSE(e.allowed);
  EXPECT_TRUE(contains(e.text, "profile: none: no profile matches uid 1000")) << e.text;
}

}  // namespace
}  // namespace nsbroker::policy
