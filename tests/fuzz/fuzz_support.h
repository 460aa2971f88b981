// What the fuzz targets share: the check that turns a broken invariant into a crash libFuzzer
// keeps (with the input that caused it), fixed callers, the shipped policies compiled in,
// the properties every evaluate() outcome must have, and the checks on a profile's compiled
// seccomp program (bpf_check.cpp).
//
// A target that only calls the code under test finds crashes and sanitizer reports; the
// checks here also catch a wrong answer: a plan that gives more than the profile allows, a
// seccomp program that lets through what the base filter refuses, a record that does not
// survive a re-encoding.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/caller.h"
#include "nsbroker.pb.h"
#include "policy/compiled_policy.h"
#include "policy/evaluate.h"
#include "policy/names.h"

namespace nsbroker::fuzz {

// Prints what broke and aborts: libFuzzer reports a crash and writes the input to a file.
[[noreturn]] void invariant_failed(const char* file, int line, const char* condition,
                                   const std::string& detail);

// `detail` is only evaluated when `condition` is false.
#define NSB_FUZZ_CHECK(condition, detail)                                           \
  do {                                                                              \
    if (!(condition)) {                                                             \
      ::nsbroker::fuzz::invariant_failed(__FILE__, __LINE__, #condition, (detail)); \
    }                                                                               \
  } while (0)

// Drops libprotobuf's own log lines ("String field contains invalid UTF-8 ..." for every such
// record), which would fill the fuzz log and slow the run; a parse failure is still a failure.
void quiet_protobuf_logs();

// Printable form of caller-controlled bytes for a failure message (escapes, cut at 200).
std::string printable(std::string_view bytes);

// ---- the shipped policies ---------------------------------------------------------------------

struct ShippedPolicy {
  const char* name;  // "config/policy.pbtxt"
  const char* text;
};

inline constexpr std::size_t kShippedPolicyCount = 4;

// config/policy.pbtxt and config/examples/{codex,locked-down,shared-nas}.pbtxt, in that order
// (generated from shipped_policies.cpp.in).
const std::array<ShippedPolicy, kShippedPolicyCount>& shipped_policies();

// Users alice 1000, bob 1001, carol 1002; groups users 100, staff 50, nas 2000, alice 1000.
// The fuzz targets never ask the system's name service.
const policy::NameResolver& fuzz_names();

// Each shipped policy, loaded once with fuzz_names(); aborts if one does not load.
const policy::CompiledPolicy& shipped_policy(std::size_t index);

// ---- callers ----------------------------------------------------------------------------------

inline constexpr std::size_t kFixedCallerCount = 8;

// alice, bob, root, nobody, a caller in users+nas, one with gid 0, uid (uid_t)-2, and a
// caller whose primary group is users.
auth::Caller fixed_caller(std::size_t index);

// One caller per match entry of every profile (the id as uid or as a group), then the fixed
// callers; at most `limit`.
std::vector<auth::Caller> callers_for(const policy::CompiledPolicy& policy, std::size_t limit);

// ---- invariants -------------------------------------------------------------------------------

// What every outcome of evaluate(policy, caller, request, available) must satisfy, checked
// against the profile the caller selects: the plan stays within the profile (namespaces,
// mounts, identity inside, environment, sizes, client filters) and carries the profile's
// seccomp program and path rules; a denial says why.
void check_evaluation(const policy::CompiledPolicy& policy, const auth::Caller& caller,
                      const wire::Spawn& request, policy::SandboxMode available,
                      const policy::Evaluation& result);

// A compiled policy is what the loader promises (policy_loader.h): canonical paths, unique
// names and matches, a default profile that exists, and in every profile a seccomp program
// that the kernel would accept, that refuses everything the base filter refuses, and that
// refuses exactly what the profile's rules add (bpf_check.cpp).
void check_compiled_policy(const policy::CompiledPolicy& policy);

// The seccomp part of check_compiled_policy, for one profile.
void check_seccomp_program(const policy::CompiledProfile& profile);

// ---- small helpers ----------------------------------------------------------------------------

// "/a//b/./c/../d" -> "/a/b/d", without looking at the file system (".." stops at "/").
std::string lexical_absolute(std::string_view path);

// Whether `prefix` (absolute, canonical) is `path` or one of its ancestors, by components.
bool covered_by(std::string_view path, std::string_view prefix);

// Splits `data` into the NUL-terminated words it holds; a last word without its NUL counts.
std::vector<std::string_view> split_words(std::string_view data);

}  // namespace nsbroker::fuzz
