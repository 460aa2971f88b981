// The decision stage: (Policy, Caller, Request) -> Plan | Denial, with the rules that decided.
//
// Pure: no I/O, no clock, no global state; the same inputs always give the same answer, so a
// denied request has created no namespace and touched nothing on the host. What cannot be
// decided from strings is decided later, as the caller, on what was actually opened: bind
// sources are re-checked against Plan::path_rules when the sandbox is built (relative
// sources, symlinks, and the owner of a home directory are only known then).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "auth/caller.h"
#include "core/result.h"
#include "nsbroker.pb.h"
#include "policy/compiled_policy.h"
#include "policy/plan.h"

namespace nsbroker::policy {

struct Decision {
  Plan plan;                       // seccomp and path_rules filled in from the profile
  std::string profile;             // the profile's name
  std::string selected_by;         // why that profile (CompiledPolicy::Selection::reason)
  std::vector<std::string> rules;  // every rule that allowed or shaped the request, in order
  std::vector<std::string> notes;  // checks left for the point of use (as opened), in order
  Limits limits;                   // the profile's per-uid limits, for the daemon to enforce
};

struct Denial {
  // ERROR_INVALID_ARGUMENT: the request is malformed (no profile consulted);
  // ERROR_DENIED: the policy refuses it.
  wire::ErrorCode code = wire::ERROR_DENIED;
  // For the client, one line naming the profile and the first deciding rule, e.g.
  // `denied by profile "codex": mounts.deny "/etc/shadow" covers --ro-bind /etc/shadow /s`.
  std::string message;
  std::string profile;             // empty when none was selected
  std::string selected_by;
  std::vector<std::string> rules;  // every rule that refused the request (with positions)
  std::vector<std::string> allowed_rules;  // the rules that allowed the other parts (explain)
};

class Evaluation {
 public:
  Evaluation(Decision decision) : outcome_(std::move(decision)) {}  // NOLINT: implicit
  Evaluation(Denial denial) : outcome_(std::move(denial)) {}        // NOLINT: implicit

  bool allowed() const { return std::holds_alternative<Decision>(outcome_); }
  Decision& decision() { return std::get<Decision>(outcome_); }
  const Decision& decision() const { return std::get<Decision>(outcome_); }
  const Denial& denial() const { return std::get<Denial>(outcome_); }
  // The denial as the core's error type, for the transport.
  Failure failure() const { return fail(denial().code, denial().message); }

 private:
  std::variant<Decision, Denial> outcome_;
};

// `available_mode` is what the host allows (kUserNamespace where root can create user
// namespaces); the plan uses userns mode only if the profile allows it as well.
Evaluation evaluate(const CompiledPolicy& policy, const auth::Caller& caller,
                    const wire::Spawn& request, SandboxMode available_mode);

}  // namespace nsbroker::policy
