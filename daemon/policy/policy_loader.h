// Reading the policy file: protobuf text format (proto/policy.proto) -> CompiledPolicy.
//
// Fails closed: any syntax error, unknown field or enum value, unknown user/group/syscall/
// errno name, non-canonical path, overlapping or contradictory rule refuses the whole file.
// Every error is one line "FILE:LINE:COLUMN: message" (1-based), where the message says what
// to change; all of them are reported, not only the first.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "policy/compiled_policy.h"
#include "policy/names.h"

namespace nsbroker::policy {

inline constexpr const char* kDefaultPolicyPath = "/etc/nsbroker/policy.pbtxt";
inline constexpr std::size_t kMaxPolicyBytes = 4 * 1024 * 1024;

// A path the daemon hides in every profile whatever the file says: its own listening socket,
// wherever --socket or systemd put it (DESIGN.md §2: a sandbox cannot reach the broker).
struct AlwaysDenied {
  std::string path;    // absolute and canonical, as the kernel reports opened paths
  std::string origin;  // stands for the file position in rules and messages
};

struct LoadOptions {
  // The daemon sets this: the file (and the directory holding it) must be owned by root and
  // not writable by group or others; else anyone who can write it is root. Tools leave it off.
  bool require_root_owned = false;
  const NameResolver* names = nullptr;  // null: system_names()
  // Added to each profile's mounts.deny, after the file's own entries, unless one of those
  // already covers the path: binds of it are refused and it is masked inside larger binds.
  std::vector<AlwaysDenied> always_deny;
};

using PolicyResult = Result<std::shared_ptr<const CompiledPolicy>>;

// On failure, Failure::message holds the errors, one per line, without a trailing newline;
// Failure::code is ERROR_INVALID_ARGUMENT.
PolicyResult load_policy_file(const std::string& path, const LoadOptions& options = {});

// Same, for text already read; `display_name` stands for the file in messages.
PolicyResult load_policy_text(std::string_view text, const std::string& display_name,
                              const LoadOptions& options = {});

// Splits a load failure's message into its error lines.
std::vector<std::string> error_lines(const Failure& failure);

}  // namespace nsbroker::policy
