// fuzz_evaluate: the decision stage, policy::evaluate(policy, caller, request, mode), on the
// shipped policies (config/policy.pbtxt and the examples, compiled in) with requests a client
// can send.
//
// Input: one selector byte, then the request.
//   bits 0-1  which shipped policy (policy, codex, locked-down, shared-nas)
//   bit 2     the host lets root create user namespaces (else privileged mode only)
//   bits 3-5  which fixed caller (fuzz_support.h: alice, bob, root, nobody, ...)
//   bit 6     the request is bwrap argv words (each ended by a NUL), made into a Spawn by the
//             client's parser; else it is a serialized wire::Spawn, which a hostile client
//             can fill as it likes. The words reach requests the fuzzer would rarely build
//             byte by byte; the raw form reaches what no client parser would send.
// Checks: check_evaluation() — an allowed plan stays within the caller's profile (namespaces,
// bind sources against deny/read_only/read_write/devices, tmpfs/proc/dev, identity inside,
// environment, sizes, client filters, the profile's seccomp program and path rules); a denial
// has a reason and names the caller's profile. The same request is decided the same way twice.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/run_options.h"
#include "fuzz_support.h"
#include "policy/evaluate.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nsbroker::fuzz::quiet_protobuf_logs();
  // Load (and check) the shipped policies before the first input, not inside it.
  for (std::size_t i = 0; i < nsbroker::fuzz::kShippedPolicyCount; ++i) nsbroker::fuzz::shipped_policy(i);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nsbroker;
  using namespace nsbroker::fuzz;
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  wire::Spawn request;
  if (selector & 0x40) {
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    std::vector<std::string_view> words = split_words(text);
    const std::vector<std::string_view> environment = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/alice",
                                                       "LD_PRELOAD=/tmp/x.so"};
    client::ParseContext context{.front = client::Front::kBwrap, .read_args = nullptr};
    client::ParseOutcome parsed = client::parse_run_options(words, environment, context);
    if (parsed.kind != client::ParseKind::kRun) return 0;
    request = std::move(parsed.options.spawn);
    request.set_cwd_path("/home/alice/project");
  } else if (!request.ParseFromArray(data + 1, static_cast<int>(size - 1))) {
    return 0;
  }

  const policy::CompiledPolicy& compiled = shipped_policy(selector & 0x03);
  const policy::SandboxMode available =
      (selector & 0x04) ? policy::SandboxMode::kUserNamespace : policy::SandboxMode::kPrivileged;
  const auth::Caller caller = fixed_caller((selector >> 3) & 0x07);

  policy::Evaluation result = policy::evaluate(compiled, caller, request, available);
  check_evaluation(compiled, caller, request, available, result);

  // Pure: the same inputs give the same answer.
  policy::Evaluation again = policy::evaluate(compiled, caller, request, available);
  NSB_FUZZ_CHECK(again.allowed() == result.allowed(), "the same request was decided differently");
  if (result.allowed()) {
    NSB_FUZZ_CHECK(again.decision().rules == result.decision().rules &&
                       again.decision().plan.env == result.decision().plan.env,
                   "the same request got a different plan");
  } else {
    NSB_FUZZ_CHECK(again.denial().message == result.denial().message, "the same request got another reason");
  }
  return 0;
}
