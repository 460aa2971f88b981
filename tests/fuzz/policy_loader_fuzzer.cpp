// fuzz_policy_loader: the policy file, as nsbrokerd and `nsbroker policy check` read it:
// load_policy_text() parses the text format, validates every rule and compiles each profile's
// seccomp program (libseccomp, exported as BPF).
//
// Input: the policy text (the seeds are the shipped config/*.pbtxt files).
// Checks: a refusal is a list of "FILE:LINE:COLUMN: message" lines; an accepted policy is what
// the loader promises (check_compiled_policy: canonical paths, unique names and matches, and a
// seccomp program that keeps the base filter and applies the profile's rules), and evaluate()
// on it, for a caller of every profile and a few typical requests, gives answers that stay
// within the profile (check_evaluation).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/run_options.h"
#include "fuzz_support.h"
#include "policy/evaluate.h"
#include "policy/policy_loader.h"

namespace nsbroker::fuzz {
namespace {

constexpr const char* kFile = "fuzz.pbtxt";

// Requests every profile gets asked, written as `bwrap` argv.
const std::vector<wire::Spawn>& typical_requests() {
  static const std::vector<wire::Spawn> kRequests = [] {
    const std::vector<std::vector<std::string_view>> argvs = {
        // Codex's probe and a shortened main call.
        {"--unshare-user", "--unshare-net", "--ro-bind", "/", "/", "/bin/true"},
        {"--new-session", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--bind",
         "/tmp", "/tmp", "--bind", "/home/alice/project", "/home/alice/project", "--perms", "555",
         "--tmpfs", "/home/alice/project/.git", "--unshare-user", "--unshare-pid", "--unshare-ipc",
         "--unshare-net", "--proc", "/proc", "--", "/usr/bin/env"},
        // Something for every rule kind: other users' homes, devices, identity, filters, env.
        {"--unshare-all", "--hostname", "box", "--ro-bind", "/usr", "/usr", "--ro-bind",
         "/home/bob", "/b", "--dev-bind", "/dev/null", "/dev/null", "--bind", "/etc/shadow", "/s",
         "--size", "1048576", "--tmpfs", "/tmp", "--uid", "0", "--cap-add", "CAP_NET_ADMIN",
         "--add-seccomp-fd", "9", "--setenv", "LD_PRELOAD", "/x.so", "--", "sh", "-c", "true"},
    };
    const std::vector<std::string_view> environment = {"PATH=/usr/bin:/bin", "HOME=/home/alice",
                                                       "LD_LIBRARY_PATH=/opt/lib"};
    std::vector<wire::Spawn> out;
    for (const auto& argv : argvs) {
      client::ParseContext context{.front = client::Front::kBwrap, .read_args = nullptr};
      client::ParseOutcome parsed = client::parse_run_options(argv, environment, context);
      NSB_FUZZ_CHECK(parsed.kind == client::ParseKind::kRun, "a typical request does not parse: " + parsed.error);
      out.push_back(parsed.options.spawn);
    }
    return out;
  }();
  return kRequests;
}

bool digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "fuzz.pbtxt:LINE:COLUMN: message", LINE and COLUMN from 1.
void check_error_line(const std::string& line) {
  std::string_view rest = line;
  std::string detail = "error line " + printable(line);
  NSB_FUZZ_CHECK(rest.starts_with(std::string(kFile) + ":"), detail);
  rest.remove_prefix(std::string_view(kFile).size() + 1);
  std::size_t colon = rest.find(':');
  NSB_FUZZ_CHECK(colon != std::string_view::npos && digits(rest.substr(0, colon)) && rest[0] != '0', detail);
  rest.remove_prefix(colon + 1);
  colon = rest.find(':');
  NSB_FUZZ_CHECK(colon != std::string_view::npos && digits(rest.substr(0, colon)) && rest[0] != '0', detail);
  rest.remove_prefix(colon + 1);
  NSB_FUZZ_CHECK(rest.size() > 1 && rest[0] == ' ', detail);
}

}  // namespace
}  // namespace nsbroker::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nsbroker;
  using namespace nsbroker::fuzz;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  policy::LoadOptions options;
  options.names = &fuzz_names();
  policy::PolicyResult loaded = policy::load_policy_text(text, kFile, options);
  if (!loaded) {
    const Failure& failure = loaded.failure();
    NSB_FUZZ_CHECK(failure.code == wire::ERROR_INVALID_ARGUMENT, "load failure code " + std::to_string(failure.code));
    std::vector<std::string> lines = policy::error_lines(failure);
    NSB_FUZZ_CHECK(!lines.empty(), "a refused policy without an error line");
    NSB_FUZZ_CHECK(!failure.message.ends_with('\n'), "the error message ends in a newline");
    for (const std::string& line : lines) check_error_line(line);
    return 0;
  }
  NSB_FUZZ_CHECK(loaded.value() != nullptr, "an accepted policy is null");
  const policy::CompiledPolicy& compiled = *loaded.value();
  NSB_FUZZ_CHECK(compiled.source() == kFile, "the policy names its source " + compiled.source());
  check_compiled_policy(compiled);
  for (const auth::Caller& caller : callers_for(compiled, 12)) {
    for (const wire::Spawn& request : typical_requests()) {
      for (policy::SandboxMode mode : {policy::SandboxMode::kUserNamespace, policy::SandboxMode::kPrivileged}) {
        check_evaluation(compiled, caller, request, mode, policy::evaluate(compiled, caller, request, mode));
      }
    }
  }
  return 0;
}
