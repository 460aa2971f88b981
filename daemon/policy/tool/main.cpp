// nsbroker-policy: `nsbroker policy check|explain`, without running anything.
//
// A separate, dynamically linked executable: the policy schema needs the full protobuf
// runtime, and the `nsbroker` client must stay small, static and protobuf-lite only. The
// client execs this program for `nsbroker policy ...`:
//   argv[0] = the name to show in messages (the client passes "nsbroker policy"),
//   argv[1..] = the words after `policy`; the environment is passed on unchanged (explain
//   applies --setenv/--unsetenv/--clearenv to it, as `nsbroker run` would).
// Exit status: check 0 valid / 2 invalid or usage; explain 0 allowed / 1 denied / 2 usage or
// invalid policy.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/run_options.h"
#include "policy/explain.h"
#include "policy/policy_loader.h"

namespace {

using nsbroker::policy::SandboxMode;

constexpr int kAllowed = 0;
constexpr int kDenied = 1;
constexpr int kUsage = 2;

std::string g_program = "nsbroker-policy";

const char* const kUsageText =
    "usage: %s check [FILE]\n"
    "       %s explain [--policy FILE] [--user NAME | --uid N [--gid N]] [--group G]...\n"
    "                  [--mode userns|privileged] [--] RUN-OPTIONS... [--] COMMAND [ARG]...\n"
    "\n"
    "check    validates a policy file (default %s): prints \"FILE: OK (N profiles)\" or\n"
    "         each error as FILE:LINE:COLUMN: message. Exit 0 valid, 2 invalid.\n"
    "explain  shows which profile and rules would allow or deny `nsbroker run RUN-OPTIONS...`\n"
    "         for a caller (default: you), without running anything. Exit 0 allowed, 1 denied,\n"
    "         2 usage error or invalid policy.\n"
    "  --policy FILE  the policy to read (default %s)\n"
    "  --user NAME    explain for this user (its uid, primary group and groups)\n"
    "  --uid N        explain for this uid (groups from its passwd entry, if any)\n"
    "  --gid N        the primary gid to assume with --uid\n"
    "  --group G      add a supplementary group (name or number); may repeat\n"
    "  --mode M       what the host allows: userns (default) or privileged (no user namespaces)\n";

int usage(FILE* out) {
  const char* p = g_program.c_str();
  const char* def = nsbroker::policy::kDefaultPolicyPath;
  std::fprintf(out, kUsageText, p, p, def, def);
  return out == stdout ? 0 : kUsage;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "%s: %s (see --help)\n", g_program.c_str(), message.c_str());
  return kUsage;
}

template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// ---- check ----------------------------------------------------------------------------------

int check(std::span<const std::string_view> words) {
  if (words.size() > 1) return usage_error("check takes one FILE");
  std::string path = words.empty() ? nsbroker::policy::kDefaultPolicyPath : std::string(words[0]);
  auto policy = nsbroker::policy::load_policy_file(path);
  if (!policy) {
    for (const std::string& line : nsbroker::policy::error_lines(policy.failure())) {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    return kUsage;
  }
  std::size_t count = policy.value()->profiles().size();
  std::printf("%s: OK (%zu profile%s)\n", path.c_str(), count, count == 1 ? "" : "s");
  return 0;
}

// ---- explain --------------------------------------------------------------------------------

struct CallerChoice {
  std::optional<std::string> user;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::vector<std::string> groups;
};

std::vector<gid_t> groups_of(const std::string& name, gid_t primary) {
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  while (::getgrouplist(name.c_str(), primary, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count) + 64);
    count = static_cast<int>(groups.size());
  }
  groups.resize(static_cast<std::size_t>(count));
  return groups;
}

std::optional<gid_t> group_id(const std::string& text) {
  if (auto number = parse_number<gid_t>(text)) return number;
  if (const group* entry = ::getgrnam(text.c_str())) return entry->gr_gid;
  return std::nullopt;
}

// The caller to explain for, and a label naming it. Errors go to `error`.
std::optional<nsbroker::auth::Caller> make_caller(const CallerChoice& choice, std::string& label,
                                                  std::string& error) {
  nsbroker::auth::Caller caller;
  std::string name;
  if (choice.user) {
    const passwd* entry = ::getpwnam(choice.user->c_str());
    if (!entry) {
      error = "unknown user '" + *choice.user + "'";
      return std::nullopt;
    }
    caller.uid = entry->pw_uid;
    caller.gid = entry->pw_gid;
    name = entry->pw_name;
  } else if (choice.uid) {
    caller.uid = *choice.uid;
    caller.gid = choice.gid.value_or(*choice.uid);
    if (const passwd* entry = ::getpwuid(*choice.uid)) {
      name = entry->pw_name;
      if (!choice.gid) caller.gid = entry->pw_gid;
    }
  } else {
    caller.uid = ::getuid();
    caller.gid = ::getgid();
    int count = ::getgroups(0, nullptr);
    if (count > 0) {
      caller.groups.resize(static_cast<std::size_t>(count));
      count = ::getgroups(count, caller.groups.data());
      caller.groups.resize(count > 0 ? static_cast<std::size_t>(count) : 0);
    }
    if (const passwd* entry = ::getpwuid(caller.uid)) name = entry->pw_name;
  }
  if ((choice.user || choice.uid) && !name.empty()) caller.groups = groups_of(name, caller.gid);
  for (const std::string& text : choice.groups) {
    auto gid = group_id(text);
    if (!gid) {
      error = "unknown group '" + text + "'";
      return std::nullopt;
    }
    caller.groups.push_back(*gid);
  }
  label = "uid " + std::to_string(caller.uid) + (name.empty() ? "" : " (" + name + ")") + ", gid " +
          std::to_string(caller.gid);
  if (!caller.groups.empty()) {
    label += ", groups";
    for (gid_t gid : caller.groups) label += " " + std::to_string(gid);
  }
  return caller;
}

std::vector<std::string_view> environment_entries() {
  std::vector<std::string_view> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    entries.emplace_back(*entry);
  }
  return entries;
}

std::optional<uid_t> owner_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_uid;
}

int explain(std::span<const std::string_view> words) {
  std::string policy_path = nsbroker::policy::kDefaultPolicyPath;
  CallerChoice choice;
  SandboxMode mode = SandboxMode::kUserNamespace;
  std::size_t next = 0;
  auto operand = [&]() -> std::optional<std::string> {
    if (next >= words.size()) return std::nullopt;
    return std::string(words[next++]);
  };
  while (next < words.size()) {
    std::string_view word = words[next];
    if (word == "--") {
      ++next;
      break;
    }
    if (word != "--policy" && word != "--user" && word != "--uid" && word != "--gid" &&
        word != "--group" && word != "--mode") {
      break;  // the run options start here
    }
    ++next;
    auto value = operand();
    if (!value) return usage_error(std::string(word) + " needs a value");
    if (word == "--policy") {
      policy_path = *value;
    } else if (word == "--user") {
      choice.user = *value;
    } else if (word == "--uid") {
      auto uid = parse_number<uid_t>(*value);
      if (!uid) return usage_error("--uid needs a number, got '" + *value + "'");
      choice.uid = uid;
    } else if (word == "--gid") {
      auto gid = parse_number<gid_t>(*value);
      if (!gid) return usage_error("--gid needs a number, got '" + *value + "'");
      choice.gid = gid;
    } else if (word == "--group") {
      choice.groups.push_back(*value);
    } else if (*value == "userns") {
      mode = SandboxMode::kUserNamespace;
    } else if (*value == "privileged") {
      mode = SandboxMode::kPrivileged;
    } else {
      return usage_error("--mode is userns or privileged, got '" + *value + "'");
    }
  }
  if (choice.user && (choice.uid || choice.gid)) return usage_error("give --user or --uid, not both");
  if (choice.gid && !choice.uid) return usage_error("--gid goes with --uid");

  std::vector<std::string_view> environment = environment_entries();
  auto parsed = nsbroker::client::parse_run_options(words.subspan(next), environment);
  switch (parsed.kind) {
    case nsbroker::client::ParseKind::kRun: break;
    case nsbroker::client::ParseKind::kError: return usage_error("run options: " + parsed.error);
    default: return usage_error("explain needs run options and a command, e.g. -- /bin/true");
  }
  // As the client would send it (the policy does not look at it).
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) != nullptr) parsed.options.spawn.set_cwd_path(cwd);

  std::string label;
  std::string error;
  auto caller = make_caller(choice, label, error);
  if (!caller) return usage_error(error);

  auto policy = nsbroker::policy::load_policy_file(policy_path);
  if (!policy) {
    for (const std::string& line : nsbroker::policy::error_lines(policy.failure())) {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fprintf(stderr, "%s: the policy is invalid; nothing explained\n", g_program.c_str());
    return kUsage;
  }
  auto explanation = nsbroker::policy::explain(*policy.value(), *caller, label,
                                               parsed.options.spawn, mode, owner_of);
  std::fputs(explanation.text.c_str(), stdout);
  return explanation.allowed ? kAllowed : kDenied;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 0 && argv[0] != nullptr && argv[0][0] != '\0') g_program = argv[0];
  std::vector<std::string_view> words(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (words.empty()) return usage(stderr);
  std::string_view command = words.front();
  std::span<const std::string_view> rest = std::span(words).subspan(1);
  if (command == "--help" || command == "-h" || command == "help") return usage(stdout);
  if (command == "check") return check(rest);
  if (command == "explain") return explain(rest);
  return usage_error("unknown command '" + std::string(command) + "': use check or explain");
}
