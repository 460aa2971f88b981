#include "client/run_options.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace nsbroker::client {
namespace {

using Words = std::span<const std::string_view>;
using MaybeError = std::optional<std::string>;

// Which pending modifier (--perms, --size) an option consumes.
constexpr unsigned kTakesNothing = 0;
// Fds 0-3 of a Spawn record are stdin, stdout, stderr and the cwd; data fds follow.
constexpr std::uint32_t kFirstDataFdIndex = 4;
constexpr unsigned kTakesPerms = 1u << 0;
constexpr unsigned kTakesSize = 1u << 1;

// The request under construction, plus --perms/--size values waiting for the option they
// modify (bubblewrap binds them to the very next option, nothing later).
struct Builder {
  RunOptions options;
  std::vector<std::string> environment;
  std::optional<std::uint32_t> pending_perms;
  std::optional<std::uint64_t> pending_size;

  wire::Spawn& spawn() { return options.spawn; }
  wire::Namespaces& unshare() { return *options.spawn.mutable_unshare(); }
};

using Handler = MaybeError (*)(Builder&, Words operands);

struct OptionSpec {
  std::string_view name;
  std::array<std::string_view, 2> operands{};  // names for messages; the non-empty ones count
  Handler handle = nullptr;
  unsigned takes = kTakesNothing;
  bool is_modifier = false;                // --perms and --size wait for the next option
  bool last_operand_may_be_empty = false;  // --setenv VAR "" is a valid assignment
};

std::size_t arity(const OptionSpec& spec) {
  return static_cast<std::size_t>(
      std::ranges::count_if(spec.operands, [](std::string_view name) { return !name.empty(); }));
}

// ---- handlers -------------------------------------------------------------------------------

wire::MountOp& add_mount(Builder& builder, wire::MountKind kind, std::string_view dest) {
  wire::MountOp& op = *builder.spawn().add_mounts();
  op.set_kind(kind);
  op.set_dest(std::string(dest));
  if (builder.pending_perms) {
    op.set_has_perms(true);
    op.set_perms(*std::exchange(builder.pending_perms, std::nullopt));
  }
  if (builder.pending_size) op.set_size_bytes(*std::exchange(builder.pending_size, std::nullopt));
  return op;
}

template <wire::MountKind kKind>
MaybeError mount_from_source(Builder& builder, Words operands) {
  add_mount(builder, kKind, operands[1]).set_source(std::string(operands[0]));
  return std::nullopt;
}

template <wire::MountKind kKind>
MaybeError mount_at(Builder& builder, Words operands) {
  add_mount(builder, kKind, operands[0]);
  return std::nullopt;
}

template <typename Number>
std::optional<Number> parse_number(std::string_view text, int base) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

MaybeError set_pending_perms(Builder& builder, Words operands) {
  if (builder.pending_perms) {
    return "--perms given twice before the same --tmpfs or --dir: keep one";
  }
  std::optional<std::uint32_t> mode = parse_number<std::uint32_t>(operands[0], 8);
  if (!mode || *mode > 07777) {
    return "--perms needs an octal mode from 0 to 7777, got '" + std::string(operands[0]) + "'";
  }
  builder.pending_perms = mode;
  return std::nullopt;
}

MaybeError set_pending_size(Builder& builder, Words operands) {
  if (builder.pending_size) return "--size given twice before the same --tmpfs: keep one";
  std::optional<std::uint64_t> bytes = parse_number<std::uint64_t>(operands[0], 10);
  if (!bytes || *bytes == 0) {
    return "--size needs a positive number of bytes, got '" + std::string(operands[0]) + "'";
  }
  builder.pending_size = bytes;
  return std::nullopt;
}

template <void (wire::Namespaces::*kSetter)(bool)>
MaybeError unshare_one(Builder& builder, Words) {
  (builder.unshare().*kSetter)(true);
  return std::nullopt;
}

MaybeError unshare_all(Builder& builder, Words) {
  wire::Namespaces& unshare = builder.unshare();
  unshare.set_user(true);
  unshare.set_ipc(true);
  unshare.set_pid(true);
  unshare.set_net(true);
  unshare.set_uts(true);
  unshare.set_cgroup(true);
  return std::nullopt;
}

MaybeError share_net(Builder& builder, Words) {
  builder.unshare().set_net(false);
  return std::nullopt;
}

template <void (wire::Spawn::*kSetter)(bool)>
MaybeError enable(Builder& builder, Words) {
  (builder.spawn().*kSetter)(true);
  return std::nullopt;
}

MaybeError set_chdir(Builder& builder, Words operands) {
  builder.spawn().set_chdir(std::string(operands[0]));
  return std::nullopt;
}

MaybeError set_hostname(Builder& builder, Words operands) {
  builder.spawn().set_hostname(std::string(operands[0]));
  return std::nullopt;
}

MaybeError use_dbus(Builder& builder, Words) {
  builder.options.use_dbus = true;
  return std::nullopt;
}

MaybeError set_socket(Builder& builder, Words operands) {
  builder.options.socket_path = std::string(operands[0]);
  return std::nullopt;
}

std::string_view variable_name(std::string_view entry) { return entry.substr(0, entry.find('=')); }

MaybeError check_variable_name(std::string_view option, std::string_view name) {
  if (name.find('=') == std::string_view::npos) return std::nullopt;
  return std::string(option) + " got an invalid variable name '" + std::string(name) +
         "': a name must not contain '='";
}

void remove_variable(Builder& builder, std::string_view name) {
  std::erase_if(builder.environment,
                [name](const std::string& entry) { return variable_name(entry) == name; });
}

MaybeError set_variable(Builder& builder, Words operands) {
  if (MaybeError error = check_variable_name("--setenv", operands[0])) return error;
  remove_variable(builder, operands[0]);
  builder.environment.push_back(std::string(operands[0]) + "=" + std::string(operands[1]));
  return std::nullopt;
}

MaybeError unset_variable(Builder& builder, Words operands) {
  if (MaybeError error = check_variable_name("--unsetenv", operands[0])) return error;
  remove_variable(builder, operands[0]);
  return std::nullopt;
}

// The record index a client fd travels at (4, 5, ...), attaching it once.
std::uint32_t attach_data_fd(Builder& builder, int fd) {
  std::vector<int>& fds = builder.options.data_fds;
  auto found = std::ranges::find(fds, fd);
  if (found == fds.end()) found = fds.insert(fds.end(), fd);
  return static_cast<std::uint32_t>(kFirstDataFdIndex + (found - fds.begin()));
}

std::optional<int> parse_fd(std::string_view word) {
  int fd = -1;
  auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), fd);
  if (error != std::errc() || end != word.data() + word.size() || fd < 0) return std::nullopt;
  return fd;
}

// --seccomp FD / --add-seccomp-fd FD: a compiled BPF program the sandbox is held to, on top
// of the daemon's filters (which it can never replace).
MaybeError add_seccomp_fd(Builder& builder, Words operands) {
  std::optional<int> fd = parse_fd(operands[0]);
  if (!fd) return "seccomp filter fd must be a file descriptor number, not '" + std::string(operands[0]) + "'";
  builder.spawn().add_seccomp_fds(attach_data_fd(builder, *fd));
  return std::nullopt;
}

MaybeError clear_environment(Builder& builder, Words) {
  builder.environment.clear();
  return std::nullopt;
}

// ---- the option table (bubblewrap's names and arities) --------------------------------------

constexpr OptionSpec kOptions[] = {
    {.name = "--bind", .operands = {"SRC", "DEST"}, .handle = mount_from_source<wire::MOUNT_BIND>},
    {.name = "--ro-bind",
     .operands = {"SRC", "DEST"},
     .handle = mount_from_source<wire::MOUNT_RO_BIND>},
    {.name = "--dev-bind",
     .operands = {"SRC", "DEST"},
     .handle = mount_from_source<wire::MOUNT_DEV_BIND>},
    {.name = "--tmpfs",
     .operands = {"DEST"},
     .handle = mount_at<wire::MOUNT_TMPFS>,
     .takes = kTakesPerms | kTakesSize},
    {.name = "--proc", .operands = {"DEST"}, .handle = mount_at<wire::MOUNT_PROC>},
    {.name = "--dev", .operands = {"DEST"}, .handle = mount_at<wire::MOUNT_DEV>},
    {.name = "--dir",
     .operands = {"DEST"},
     .handle = mount_at<wire::MOUNT_DIR>,
     .takes = kTakesPerms},
    {.name = "--symlink",
     .operands = {"TARGET", "DEST"},
     .handle = mount_from_source<wire::MOUNT_SYMLINK>},
    {.name = "--remount-ro", .operands = {"DEST"}, .handle = mount_at<wire::MOUNT_REMOUNT_RO>},
    {.name = "--perms", .operands = {"OCTAL"}, .handle = set_pending_perms, .is_modifier = true},
    {.name = "--size", .operands = {"BYTES"}, .handle = set_pending_size, .is_modifier = true},
    {.name = "--unshare-user", .handle = unshare_one<&wire::Namespaces::set_user>},
    {.name = "--unshare-pid", .handle = unshare_one<&wire::Namespaces::set_pid>},
    {.name = "--unshare-net", .handle = unshare_one<&wire::Namespaces::set_net>},
    {.name = "--unshare-ipc", .handle = unshare_one<&wire::Namespaces::set_ipc>},
    {.name = "--unshare-uts", .handle = unshare_one<&wire::Namespaces::set_uts>},
    {.name = "--unshare-cgroup", .handle = unshare_one<&wire::Namespaces::set_cgroup>},
    {.name = "--unshare-all", .handle = unshare_all},
    {.name = "--share-net", .handle = share_net},
    {.name = "--chdir", .operands = {"DIR"}, .handle = set_chdir},
    {.name = "--hostname", .operands = {"NAME"}, .handle = set_hostname},
    {.name = "--setenv",
     .operands = {"VAR", "VALUE"},
     .handle = set_variable,
     .last_operand_may_be_empty = true},
    {.name = "--unsetenv", .operands = {"VAR"}, .handle = unset_variable},
    {.name = "--clearenv", .handle = clear_environment},
    {.name = "--new-session", .handle = enable<&wire::Spawn::set_new_session>},
    {.name = "--die-with-parent", .handle = enable<&wire::Spawn::set_die_with_parent>},
    {.name = "--as-pid-1", .handle = enable<&wire::Spawn::set_as_pid_1>},
    {.name = "--socket", .operands = {"PATH"}, .handle = set_socket},
    {.name = "--dbus", .handle = use_dbus},
    {.name = "--seccomp", .operands = {"FD"}, .handle = add_seccomp_fd},
    {.name = "--add-seccomp-fd", .operands = {"FD"}, .handle = add_seccomp_fd},
};

const OptionSpec* find_option(std::string_view name) {
  auto found = std::ranges::find(kOptions, name, &OptionSpec::name);
  return found == std::ranges::end(kOptions) ? nullptr : &*found;
}

// ---- checks ---------------------------------------------------------------------------------

std::string missing_operands_message(const OptionSpec& spec) {
  std::size_t count = arity(spec);
  std::string message = std::string(spec.name) + " needs " + std::to_string(count) +
                        (count == 1 ? " argument:" : " arguments:");
  for (std::size_t i = 0; i < count; ++i) message += " " + std::string(spec.operands[i]);
  return message;
}

MaybeError check_operands_not_empty(const OptionSpec& spec, Words operands) {
  std::size_t must_be_filled = operands.size() - (spec.last_operand_may_be_empty ? 1 : 0);
  for (std::size_t i = 0; i < must_be_filled; ++i) {
    if (operands[i].empty()) {
      return std::string(spec.name) + ": " + std::string(spec.operands[i]) + " must not be empty";
    }
  }
  return std::nullopt;
}

// A pending --perms/--size must be consumed by the very next option (or the command).
MaybeError check_pending_modifiers(const Builder& builder, std::string_view next, unsigned takes) {
  if (builder.pending_perms && !(takes & kTakesPerms)) {
    return "--perms must come right before the --tmpfs or --dir it applies to, but " +
           std::string(next) + " follows it";
  }
  if (builder.pending_size && !(takes & kTakesSize)) {
    return "--size must come right before the --tmpfs it applies to, but " + std::string(next) +
           " follows it";
  }
  return std::nullopt;
}

MaybeError apply_option(Builder& builder, const OptionSpec& spec, Words operands) {
  if (!spec.is_modifier) {
    if (MaybeError error = check_pending_modifiers(builder, spec.name, spec.takes)) return error;
  }
  if (MaybeError error = check_operands_not_empty(spec, operands)) return error;
  return spec.handle(builder, operands);
}

// ---- outcomes -------------------------------------------------------------------------------

ParseOutcome outcome(ParseKind kind) {
  ParseOutcome result;
  result.kind = kind;
  return result;
}

ParseOutcome failure(std::string message) {
  ParseOutcome result = outcome(ParseKind::kError);
  result.error = std::move(message);
  return result;
}

bool is_option(std::string_view word) { return word.starts_with('-'); }

ParseOutcome finish(Builder& builder, Words command) {
  if (MaybeError error = check_pending_modifiers(builder, "the command", kTakesNothing)) {
    return failure(std::move(*error));
  }
  if (command.empty()) {
    return failure("no command given: put the program to run and its arguments after the options");
  }
  wire::Spawn& spawn = builder.spawn();
  // bubblewrap checks this after all options, so --unshare-uts may come after --hostname.
  if (!spawn.hostname().empty() && !spawn.unshare().uts()) {
    return failure("--hostname needs a new UTS namespace: add --unshare-uts (or --unshare-all)");
  }
  for (std::string_view word : command) spawn.add_argv(std::string(word));
  for (std::string& entry : builder.environment) spawn.add_env(std::move(entry));
  ParseOutcome result = outcome(ParseKind::kRun);
  result.options = std::move(builder.options);
  return result;
}

}  // namespace

ParseOutcome parse_run_options(std::span<const std::string_view> words,
                               std::span<const std::string_view> environment) {
  Builder builder;
  builder.environment.assign(environment.begin(), environment.end());
  std::size_t next = 0;
  while (next < words.size() && is_option(words[next])) {
    std::string_view word = words[next++];
    if (word == "--") break;
    if (word == "--help") return outcome(ParseKind::kHelp);
    if (word == "--version") return outcome(ParseKind::kVersion);
    const OptionSpec* spec = find_option(word);
    if (spec == nullptr) {
      return failure("unknown option " + std::string(word) + ": see --help for the options");
    }
    if (words.size() - next < arity(*spec)) return failure(missing_operands_message(*spec));
    Words operands = words.subspan(next, arity(*spec));
    if (MaybeError error = apply_option(builder, *spec, operands))
      return failure(std::move(*error));
    next += operands.size();
  }
  return finish(builder, words.subspan(next));
}

}  // namespace nsbroker::client
