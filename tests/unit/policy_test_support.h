// Helpers for the policy tests: policies from text with a fixed user/group table, callers,
// and Spawn requests written as `nsbroker run` words.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/caller.h"
#include "nsbroker.pb.h"
#include "policy/compiled_policy.h"
#include "policy/names.h"

namespace nsbroker::policy::testing {

// The file name policies from text get in messages.
inline constexpr const char* kFile = "test.pbtxt";

// Users alice 1000, bob 1001, carol 1002, dave 1003; groups users 100, staff 50, nas 2000,
// alice 1000.
const NameResolver& test_names();

// Loads `text` as kFile; a failure is reported as a test failure and gives null.
std::shared_ptr<const CompiledPolicy> load_ok(std::string_view text);

// The error lines of loading `text` as kFile (empty when it loaded).
std::vector<std::string> load_errors(std::string_view text);

auth::Caller caller(uid_t uid, gid_t gid, std::vector<gid_t> groups = {});

// The Spawn `nsbroker run WORDS` sends with an empty client environment plus `env`.
wire::Spawn run(std::string_view words, const std::vector<std::string>& env = {"PATH=/usr/bin"});

// True if some element of `lines` contains `part`.
bool any_contains(const std::vector<std::string>& lines, std::string_view part);

}  // namespace nsbroker::policy::testing
