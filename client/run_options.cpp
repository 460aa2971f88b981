#include "client/run_options.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <iterator>
#include <list>
#include <optional>
#include <utility>
#include <vector>

#include "client/capabilities.h"

namespace nsbroker::client {
namespace {

using Words = std::span<const std::string_view>;
using MaybeError = std::optional<std::string>;

// Fds 0-3 of a Spawn record are stdin, stdout, stderr and the cwd; data fds follow.
constexpr std::uint32_t kFirstDataFdIndex = 4;

// Which pending modifier (--perms, --size) an option consumes.
constexpr unsigned kTakesNothing = 0;
constexpr unsigned kTakesPerms = 1u << 0;
constexpr unsigned kTakesSize = 1u << 1;

// Which fronts know an option.
constexpr unsigned kRunFront = 1u << 0;
constexpr unsigned kBwrapFront = 1u << 1;
constexpr unsigned kBothFronts = kRunFront | kBwrapFront;

unsigned front_bit(Front front) { return front == Front::kRun ? kRunFront : kBwrapFront; }

// The request under construction, plus what bubblewrap only checks once every option is read.
struct Builder {
  explicit Builder(Front f) : front(f) {}

  Front front;
  RunOptions options;
  std::vector<std::string> environment;
  // --perms/--size values waiting for the option they modify (bubblewrap binds them to the
  // very next option, nothing later).
  std::optional<std::uint32_t> pending_perms;
  std::optional<std::uint64_t> pending_size;
  bool unshare_user_given = false;  // --unshare-user itself: not the -try form, not --unshare-all
  bool disable_userns = false;
  bool lock_file = false;
  bool argv0_given = false;
  std::optional<int> seccomp_fd;  // --seccomp FD: the last one counts
  bool seccomp_added = false;     // --add-seccomp-fd FD was given
  CapabilityMask capabilities = 0;
  std::vector<std::string> warnings;
  bool level_prefix = false;
  // The contents of --args fds; the words parsed from them point into these strings.
  std::list<std::string> args_contents;
  std::size_t argument_count = 0;  // bwrap front: every word, --args contents included

  wire::Spawn& spawn() { return options.spawn; }
  wire::Namespaces& unshare() { return *options.spawn.mutable_unshare(); }
  void warn_only_last(bool repeated, std::string_view option) {
    if (repeated) warnings.push_back("Only the last " + std::string(option) + " option will take effect");
  }
};

using Handler = MaybeError (*)(Builder&, std::string_view option, Words operands);

struct OptionSpec {
  std::string_view name;
  std::array<std::string_view, 2> operands{};  // names for messages; the non-empty ones count
  Handler handle = nullptr;                    // null only for --args (the parse loop splices it)
  unsigned takes = kTakesNothing;
  unsigned fronts = kBothFronts;
  bool is_modifier = false;                // --perms and --size wait for the next option
  bool last_operand_may_be_empty = false;  // --setenv VAR "" is a valid assignment
};

std::size_t arity(const OptionSpec& spec) {
  return static_cast<std::size_t>(
      std::ranges::count_if(spec.operands, [](std::string_view name) { return !name.empty(); }));
}

// ---- operand parsing ------------------------------------------------------------------------

template <typename Number>
std::optional<Number> parse_number(std::string_view text, int base) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint32_t> parse_mode(std::string_view text) {
  std::optional<std::uint32_t> mode = parse_number<std::uint32_t>(text, 8);
  if (!mode || *mode > 07777) return std::nullopt;
  return mode;
}

MaybeError parse_fd(std::string_view option, std::string_view word, int& fd) {
  std::optional<int> number = parse_number<int>(word, 10);
  if (!number || *number < 0) {
    return std::string(option) + ": FD must be a file descriptor number, not '" +
           std::string(word) + "'";
  }
  fd = *number;
  return std::nullopt;
}

MaybeError parse_id(std::string_view option, std::string_view word, std::uint32_t& id) {
  // (uid_t)-1 means "no change" to the kernel: it names nobody.
  std::optional<std::uint32_t> number = parse_number<std::uint32_t>(word, 10);
  if (!number || *number == UINT32_MAX) {
    return std::string(option) + " needs a numeric id, got '" + std::string(word) + "'";
  }
  id = *number;
  return std::nullopt;
}

// The record index a client fd travels at (4, 5, ...), attaching it once.
std::uint32_t attach_data_fd(Builder& builder, int fd) {
  std::vector<int>& fds = builder.options.data_fds;
  auto found = std::ranges::find(fds, fd);
  if (found == fds.end()) found = fds.insert(fds.end(), fd);
  return static_cast<std::uint32_t>(kFirstDataFdIndex + (found - fds.begin()));
}

// ---- mounts ---------------------------------------------------------------------------------

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

// --bind SRC DEST and friends; the -try forms skip a SRC that does not exist.
template <wire::MountKind kKind, bool kTry = false>
MaybeError mount_from_source(Builder& builder, std::string_view, Words operands) {
  wire::MountOp& op = add_mount(builder, kKind, operands[1]);
  op.set_source(std::string(operands[0]));
  op.set_ignore_missing_source(kTry);
  return std::nullopt;
}

// --bind-fd FD DEST (the source is the fd, opened by the caller) and the data options
// --file/--bind-data/--ro-bind-data FD DEST (the content is read from the fd).
template <wire::MountKind kKind>
MaybeError mount_from_fd(Builder& builder, std::string_view option, Words operands) {
  int fd = -1;
  if (MaybeError error = parse_fd(option, operands[0], fd)) return error;
  add_mount(builder, kKind, operands[1]).set_source_fd(attach_data_fd(builder, fd));
  return std::nullopt;
}

template <wire::MountKind kKind>
MaybeError mount_at(Builder& builder, std::string_view, Words operands) {
  add_mount(builder, kKind, operands[0]);
  return std::nullopt;
}

MaybeError change_mode(Builder& builder, std::string_view, Words operands) {
  std::optional<std::uint32_t> mode = parse_mode(operands[0]);
  if (!mode) {
    return "--chmod needs an octal mode from 0 to 7777, got '" + std::string(operands[0]) + "'";
  }
  wire::MountOp& op = add_mount(builder, wire::MOUNT_CHMOD, operands[1]);
  op.set_has_perms(true);
  op.set_perms(*mode);
  return std::nullopt;
}

MaybeError lock_file(Builder& builder, std::string_view option, Words operands) {
  builder.lock_file = true;
  return mount_at<wire::MOUNT_LOCK_FILE>(builder, option, operands);
}

MaybeError set_pending_perms(Builder& builder, std::string_view, Words operands) {
  if (builder.pending_perms) {
    return "--perms given twice before the same --tmpfs, --dir, --file, --bind-data or "
           "--ro-bind-data: keep one";
  }
  builder.pending_perms = parse_mode(operands[0]);
  if (!builder.pending_perms) {
    return "--perms needs an octal mode from 0 to 7777, got '" + std::string(operands[0]) + "'";
  }
  return std::nullopt;
}

MaybeError set_pending_size(Builder& builder, std::string_view, Words operands) {
  if (builder.pending_size) return "--size given twice before the same --tmpfs: keep one";
  std::optional<std::uint64_t> bytes = parse_number<std::uint64_t>(operands[0], 10);
  if (!bytes || *bytes == 0) {
    return "--size needs a positive number of bytes, got '" + std::string(operands[0]) + "'";
  }
  builder.pending_size = bytes;
  return std::nullopt;
}

// ---- namespaces -----------------------------------------------------------------------------

template <void (wire::Namespaces::*kSetter)(bool)>
MaybeError unshare_one(Builder& builder, std::string_view, Words) {
  (builder.unshare().*kSetter)(true);
  return std::nullopt;
}

MaybeError unshare_user(Builder& builder, std::string_view, Words) {
  builder.unshare_user_given = true;
  builder.unshare().set_user(true);
  return std::nullopt;
}

MaybeError unshare_all(Builder& builder, std::string_view, Words) {
  wire::Namespaces& unshare = builder.unshare();
  unshare.set_user(true);
  unshare.set_ipc(true);
  unshare.set_pid(true);
  unshare.set_net(true);
  unshare.set_uts(true);
  unshare.set_cgroup(true);
  return std::nullopt;
}

MaybeError share_net(Builder& builder, std::string_view, Words) {
  builder.unshare().set_net(false);
  return std::nullopt;
}

// --disable-userns and --assert-userns-disabled: nsbrokerd's base seccomp filter refuses
// nested user namespaces in every sandbox (DESIGN.md §2), so both hold by construction.
MaybeError disable_userns(Builder& builder, std::string_view, Words) {
  builder.disable_userns = true;
  return std::nullopt;
}

MaybeError accept_as_is(Builder&, std::string_view, Words) { return std::nullopt; }

// ---- the process ----------------------------------------------------------------------------

template <void (wire::Spawn::*kSetter)(bool)>
MaybeError enable(Builder& builder, std::string_view, Words) {
  (builder.spawn().*kSetter)(true);
  return std::nullopt;
}

MaybeError set_chdir(Builder& builder, std::string_view option, Words operands) {
  builder.warn_only_last(!builder.spawn().chdir().empty(), option);
  builder.spawn().set_chdir(std::string(operands[0]));
  return std::nullopt;
}

MaybeError set_hostname(Builder& builder, std::string_view option, Words operands) {
  builder.warn_only_last(!builder.spawn().hostname().empty(), option);
  builder.spawn().set_hostname(std::string(operands[0]));
  return std::nullopt;
}

MaybeError set_argv0(Builder& builder, std::string_view, Words operands) {
  if (std::exchange(builder.argv0_given, true)) return std::string("--argv0 used multiple times");
  builder.spawn().set_argv0(std::string(operands[0]));
  return std::nullopt;
}

// --uid UID / --gid GID; the last of each counts.
template <bool (wire::Spawn::*kGiven)() const, void (wire::Spawn::*kSetGiven)(bool),
          void (wire::Spawn::*kSetId)(std::uint32_t)>
MaybeError set_id(Builder& builder, std::string_view option, Words operands) {
  std::uint32_t id = 0;
  if (MaybeError error = parse_id(option, operands[0], id)) return error;
  wire::Spawn& spawn = builder.spawn();
  builder.warn_only_last((spawn.*kGiven)(), option);
  (spawn.*kSetGiven)(true);
  (spawn.*kSetId)(id);
  return std::nullopt;
}

// --cap-add/--cap-drop edit one set in argv order, as bubblewrap's do: "--cap-add ALL
// --cap-drop CAP_SYS_ADMIN" asks for all but one. The daemon starts from an empty set and
// grants what is left only inside a user namespace, where the profile allows it.
template <bool kAdd>
MaybeError edit_capabilities(Builder& builder, std::string_view option, Words operands) {
  std::optional<CapabilityMask> mask = capability_from_name(operands[0]);
  if (!mask) {
    return std::string(option) + ": unknown capability '" + std::string(operands[0]) +
           "' (use a name such as CAP_NET_ADMIN, or ALL)";
  }
  if (kAdd) builder.capabilities |= *mask;
  else builder.capabilities &= ~*mask;
  return std::nullopt;
}

MaybeError use_dbus(Builder& builder, std::string_view, Words) {
  builder.options.use_dbus = true;
  return std::nullopt;
}

MaybeError set_socket(Builder& builder, std::string_view, Words operands) {
  builder.options.socket_path = std::string(operands[0]);
  return std::nullopt;
}

MaybeError set_level_prefix(Builder& builder, std::string_view, Words) {
  builder.level_prefix = true;
  return std::nullopt;
}

// --info-fd, --json-status-fd, --block-fd, --userns-block-fd, --sync-fd: fds the client
// serves itself; the last of each counts.
template <std::optional<int> RunOptions::*kField>
MaybeError set_client_fd(Builder& builder, std::string_view option, Words operands) {
  int fd = -1;
  if (MaybeError error = parse_fd(option, operands[0], fd)) return error;
  std::optional<int>& field = builder.options.*kField;
  builder.warn_only_last(field.has_value(), option);
  field = fd;
  return std::nullopt;
}

// ---- the environment ------------------------------------------------------------------------

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

MaybeError set_variable(Builder& builder, std::string_view option, Words operands) {
  if (MaybeError error = check_variable_name(option, operands[0])) return error;
  remove_variable(builder, operands[0]);
  builder.environment.push_back(std::string(operands[0]) + "=" + std::string(operands[1]));
  return std::nullopt;
}

MaybeError unset_variable(Builder& builder, std::string_view option, Words operands) {
  if (MaybeError error = check_variable_name(option, operands[0])) return error;
  remove_variable(builder, operands[0]);
  return std::nullopt;
}

MaybeError clear_environment(Builder& builder, std::string_view, Words) {
  builder.environment.clear();
  return std::nullopt;
}

// ---- seccomp --------------------------------------------------------------------------------

// --seccomp FD / --add-seccomp-fd FD: compiled BPF programs the sandbox is held to, on top of
// the daemon's filters (which they can never replace). As in bubblewrap, the two options do
// not mix, and of several --seccomp the last counts.
MaybeError set_seccomp_fd(Builder& builder, std::string_view option, Words operands) {
  if (builder.seccomp_added) return std::string("--seccomp cannot be combined with --add-seccomp-fd");
  int fd = -1;
  if (MaybeError error = parse_fd(option, operands[0], fd)) return error;
  builder.warn_only_last(builder.seccomp_fd.has_value(), option);
  builder.seccomp_fd = fd;
  return std::nullopt;
}

MaybeError add_seccomp_fd(Builder& builder, std::string_view option, Words operands) {
  if (builder.seccomp_fd) return std::string("--add-seccomp-fd cannot be combined with --seccomp");
  int fd = -1;
  if (MaybeError error = parse_fd(option, operands[0], fd)) return error;
  builder.seccomp_added = true;
  builder.spawn().add_seccomp_fds(attach_data_fd(builder, fd));
  return std::nullopt;
}

// ---- the option table (bubblewrap's names and arities) --------------------------------------

constexpr unsigned kCreatesFile = kTakesPerms;  // what --perms may come right before

constexpr OptionSpec kOptions[] = {
    // Filesystem, applied in argv order.
    {.name = "--bind", .operands = {"SRC", "DEST"}, .handle = mount_from_source<wire::MOUNT_BIND>},
    {.name = "--bind-try",
     .operands = {"SRC", "DEST"},
     .handle = mount_from_source<wire::MOUNT_BIND, true>},
    {.name = "--ro-bind",
     .operands = {"SRC", "DEST"},
     .handle = mount_from_source<wire::MOUNT_RO_BIND>},
    {.name = "--ro-bind-try",
     .operands = {"SRC", "DEST"},
     .handle = mount_from_source<wire::MOUNT_RO_BIND, true>},
    {.name = "--dev-bind",
     .operands = {"SRC", "DEST"},
     .handle = mount_from_source<wire::MOUNT_DEV_BIND>},
    {.name = "--dev-bind-try",
     .operands = {"SRC", "DEST"},
     .handle = mount_from_source<wire::MOUNT_DEV_BIND, true>},
    {.name = "--bind-fd", .operands = {"FD", "DEST"}, .handle = mount_from_fd<wire::MOUNT_BIND>},
    {.name = "--ro-bind-fd",
     .operands = {"FD", "DEST"},
     .handle = mount_from_fd<wire::MOUNT_RO_BIND>},
    {.name = "--remount-ro", .operands = {"DEST"}, .handle = mount_at<wire::MOUNT_REMOUNT_RO>},
    {.name = "--proc", .operands = {"DEST"}, .handle = mount_at<wire::MOUNT_PROC>},
    {.name = "--dev", .operands = {"DEST"}, .handle = mount_at<wire::MOUNT_DEV>},
    {.name = "--tmpfs",
     .operands = {"DEST"},
     .handle = mount_at<wire::MOUNT_TMPFS>,
     .takes = kCreatesFile | kTakesSize},
    {.name = "--dir",
     .operands = {"DEST"},
     .handle = mount_at<wire::MOUNT_DIR>,
     .takes = kCreatesFile},
    {.name = "--file",
     .operands = {"FD", "DEST"},
     .handle = mount_from_fd<wire::MOUNT_FILE>,
     .takes = kCreatesFile},
    {.name = "--bind-data",
     .operands = {"FD", "DEST"},
     .handle = mount_from_fd<wire::MOUNT_BIND_DATA>,
     .takes = kCreatesFile},
    {.name = "--ro-bind-data",
     .operands = {"FD", "DEST"},
     .handle = mount_from_fd<wire::MOUNT_RO_BIND_DATA>,
     .takes = kCreatesFile},
    {.name = "--symlink",
     .operands = {"TARGET", "DEST"},
     .handle = mount_from_source<wire::MOUNT_SYMLINK>},
    {.name = "--chmod", .operands = {"OCTAL", "PATH"}, .handle = change_mode},
    {.name = "--lock-file", .operands = {"DEST"}, .handle = lock_file},
    {.name = "--perms", .operands = {"OCTAL"}, .handle = set_pending_perms, .is_modifier = true},
    {.name = "--size", .operands = {"BYTES"}, .handle = set_pending_size, .is_modifier = true},

    // Namespaces.
    {.name = "--unshare-all", .handle = unshare_all},
    {.name = "--share-net", .handle = share_net},
    {.name = "--unshare-user", .handle = unshare_user},
    // "If possible": nsbrokerd satisfies a user namespace request either way (DESIGN.md §3).
    {.name = "--unshare-user-try", .handle = unshare_one<&wire::Namespaces::set_user>},
    {.name = "--unshare-ipc", .handle = unshare_one<&wire::Namespaces::set_ipc>},
    {.name = "--unshare-pid", .handle = unshare_one<&wire::Namespaces::set_pid>},
    {.name = "--unshare-net", .handle = unshare_one<&wire::Namespaces::set_net>},
    {.name = "--unshare-uts", .handle = unshare_one<&wire::Namespaces::set_uts>},
    {.name = "--unshare-cgroup", .handle = unshare_one<&wire::Namespaces::set_cgroup>},
    {.name = "--unshare-cgroup-try", .handle = unshare_one<&wire::Namespaces::set_cgroup>},
    {.name = "--disable-userns", .handle = disable_userns},
    {.name = "--assert-userns-disabled", .handle = accept_as_is},
    {.name = "--uid",
     .operands = {"UID"},
     .handle = set_id<&wire::Spawn::has_uid, &wire::Spawn::set_has_uid, &wire::Spawn::set_uid>},
    {.name = "--gid",
     .operands = {"GID"},
     .handle = set_id<&wire::Spawn::has_gid, &wire::Spawn::set_has_gid, &wire::Spawn::set_gid>},
    {.name = "--hostname", .operands = {"NAME"}, .handle = set_hostname},

    // The process.
    {.name = "--args", .operands = {"FD"}, .fronts = kBwrapFront},
    {.name = "--argv0", .operands = {"VALUE"}, .handle = set_argv0},
    {.name = "--chdir", .operands = {"DIR"}, .handle = set_chdir},
    {.name = "--clearenv", .handle = clear_environment},
    {.name = "--setenv",
     .operands = {"VAR", "VALUE"},
     .handle = set_variable,
     .last_operand_may_be_empty = true},
    {.name = "--unsetenv", .operands = {"VAR"}, .handle = unset_variable},
    {.name = "--new-session", .handle = enable<&wire::Spawn::set_new_session>},
    {.name = "--die-with-parent", .handle = enable<&wire::Spawn::set_die_with_parent>},
    {.name = "--as-pid-1", .handle = enable<&wire::Spawn::set_as_pid_1>},
    {.name = "--cap-add", .operands = {"CAP"}, .handle = edit_capabilities<true>},
    {.name = "--cap-drop", .operands = {"CAP"}, .handle = edit_capabilities<false>},
    {.name = "--seccomp", .operands = {"FD"}, .handle = set_seccomp_fd},
    {.name = "--add-seccomp-fd", .operands = {"FD"}, .handle = add_seccomp_fd},

    // Fds the client serves.
    {.name = "--sync-fd", .operands = {"FD"}, .handle = set_client_fd<&RunOptions::sync_fd>},
    {.name = "--block-fd", .operands = {"FD"}, .handle = set_client_fd<&RunOptions::block_fd>},
    {.name = "--userns-block-fd",
     .operands = {"FD"},
     .handle = set_client_fd<&RunOptions::userns_block_fd>},
    {.name = "--info-fd", .operands = {"FD"}, .handle = set_client_fd<&RunOptions::info_fd>},
    {.name = "--json-status-fd",
     .operands = {"FD"},
     .handle = set_client_fd<&RunOptions::json_status_fd>},
    {.name = "--level-prefix", .handle = set_level_prefix, .fronts = kBwrapFront},

    // nsbroker run only.
    {.name = "--socket", .operands = {"PATH"}, .handle = set_socket, .fronts = kRunFront},
    {.name = "--dbus", .handle = use_dbus, .fronts = kRunFront},
};

// bubblewrap 0.11 options this broker cannot honour, and why: refused, never dropped.
struct Unsupported {
  std::string_view name;
  std::string_view reason;
};

constexpr Unsupported kUnsupported[] = {
    {"--userns", "nsbrokerd creates the sandbox's namespaces itself, it does not join one by fd"},
    {"--userns2", "nsbrokerd creates the sandbox's namespaces itself, it does not join one by fd"},
    {"--pidns", "nsbrokerd creates the sandbox's namespaces itself, it does not join one by fd"},
    {"--overlay-src", "nsbrokerd does not mount overlay file systems"},
    {"--overlay", "nsbrokerd does not mount overlay file systems"},
    {"--tmp-overlay", "nsbrokerd does not mount overlay file systems"},
    {"--ro-overlay", "nsbrokerd does not mount overlay file systems"},
    {"--mqueue", "nsbrokerd does not mount mqueue file systems"},
    {"--exec-label", "nsbrokerd does not set SELinux labels"},
    {"--file-label", "nsbrokerd does not set SELinux labels"},
};

const OptionSpec* find_option(std::string_view name, Front front) {
  auto found = std::ranges::find(kOptions, name, &OptionSpec::name);
  if (found == std::ranges::end(kOptions) || !(found->fronts & front_bit(front))) return nullptr;
  return &*found;
}

std::string unknown_option_message(std::string_view word) {
  auto unsupported = std::ranges::find(kUnsupported, word, &Unsupported::name);
  if (unsupported != std::ranges::end(kUnsupported)) {
    return std::string(word) + " is not supported: " + std::string(unsupported->reason);
  }
  return "unknown option " + std::string(word) + ": see --help for the options";
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
    return "--perms must come right before the --tmpfs, --dir, --file, --bind-data or "
           "--ro-bind-data it applies to, but " + std::string(next) + " follows it";
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
  return spec.handle(builder, spec.name, operands);
}

MaybeError count_arguments(Builder& builder, std::size_t more) {
  if (builder.front != Front::kBwrap) return std::nullopt;
  builder.argument_count += more;
  if (builder.argument_count <= kMaxBwrapArguments) return std::nullopt;
  return "too many arguments: at most " + std::to_string(kMaxBwrapArguments) +
         " are accepted, --args contents included";
}

// The words of an --args file: NUL-terminated strings; a last one without its NUL counts too.
std::vector<std::string_view> split_args_data(std::string_view data) {
  std::vector<std::string_view> words;
  for (std::size_t start = 0; start < data.size();) {
    std::size_t nul = std::min(data.find('\0', start), data.size());
    words.push_back(data.substr(start, nul - start));
    start = nul + 1;
  }
  return words;
}

// ---- the parse loop -------------------------------------------------------------------------

// How a run of options ended: at the command (`next` indexes it, or is past a "--"), or with
// help, version or an error.
struct Scan {
  ParseKind kind = ParseKind::kRun;
  std::string error;
  std::size_t next = 0;
};

Scan stop(ParseKind kind, std::string error = {}) { return Scan{kind, std::move(error), 0}; }

Scan command_at(std::size_t next) { return Scan{ParseKind::kRun, {}, next}; }

bool is_option(std::string_view word) { return word.starts_with('-'); }

Scan scan_options(Builder& builder, Words words, const ParseContext& context, bool in_args_file);

// --args FD: the NUL-separated words read from FD are parsed in place, as options only.
// bubblewrap refuses --args inside such a file.
Scan splice_args(Builder& builder, std::string_view fd_word, const ParseContext& context,
                 bool in_args_file) {
  if (in_args_file) return stop(ParseKind::kError, "--args is not supported inside an --args file");
  int fd = -1;
  if (MaybeError error = parse_fd("--args", fd_word, fd)) return stop(ParseKind::kError, *error);
  if (!context.read_args) return stop(ParseKind::kError, "--args cannot be read here");
  ArgsData data = context.read_args(fd);
  if (!data.bytes) {
    return stop(ParseKind::kError, "cannot read the --args data from fd " + std::to_string(fd) +
                                       ": " + data.error);
  }
  const std::string& contents = builder.args_contents.emplace_back(std::move(*data.bytes));
  std::vector<std::string_view> file_words = split_args_data(contents);
  if (MaybeError error = count_arguments(builder, file_words.size())) {
    return stop(ParseKind::kError, *error);
  }
  Scan inner = scan_options(builder, file_words, context, true);
  if (inner.kind != ParseKind::kRun) return inner;
  // Like any option that is no modifier, --args ends a pending --perms/--size unless the file
  // consumed it.
  if (MaybeError error = check_pending_modifiers(builder, "--args", kTakesNothing)) {
    return stop(ParseKind::kError, *error);
  }
  return inner;
}

// The words that follow the options of an --args file are the command in bubblewrap's
// syntax, but bubblewrap takes the command from the command line only and would drop them.
Scan end_of_args_file(Words words, std::size_t next) {
  if (next >= words.size()) return command_at(next);
  return stop(ParseKind::kError, "the --args data holds '" + std::string(words[next]) +
                                     "' after its options: the command must come on the "
                                     "command line, after the options");
}

Scan scan_options(Builder& builder, Words words, const ParseContext& context, bool in_args_file) {
  std::size_t next = 0;
  while (next < words.size() && is_option(words[next])) {
    std::string_view word = words[next++];
    if (word == "--") return in_args_file ? end_of_args_file(words, next) : command_at(next);
    if (word == "--help") return stop(ParseKind::kHelp);
    if (word == "--version") return stop(ParseKind::kVersion);
    const OptionSpec* spec = find_option(word, context.front);
    if (spec == nullptr) return stop(ParseKind::kError, unknown_option_message(word));
    if (words.size() - next < arity(*spec)) {
      return stop(ParseKind::kError, missing_operands_message(*spec));
    }
    Words operands = words.subspan(next, arity(*spec));
    next += operands.size();
    if (spec->handle == nullptr) {
      Scan spliced = splice_args(builder, operands[0], context, in_args_file);
      if (spliced.kind != ParseKind::kRun) return spliced;
      continue;
    }
    if (MaybeError error = apply_option(builder, *spec, operands)) {
      return stop(ParseKind::kError, std::move(*error));
    }
  }
  return in_args_file ? end_of_args_file(words, next) : command_at(next);
}

// ---- the end: cross-checks bubblewrap makes once every option is read -----------------------

MaybeError check_user_namespace_options(const Builder& builder) {
  const RunOptions& options = builder.options;
  if (options.userns_block_fd && !builder.unshare_user_given) {
    return std::string("--userns-block-fd requires --unshare-user");
  }
  if (options.userns_block_fd && !options.info_fd) {
    return std::string("--userns-block-fd requires --info-fd");
  }
  if (builder.disable_userns && !builder.unshare_user_given) {
    return std::string("--disable-userns requires --unshare-user");
  }
  if (builder.disable_userns && options.userns_block_fd) {
    return std::string("--disable-userns is not compatible with --userns-block-fd");
  }
  return std::nullopt;
}

MaybeError check_process_options(const Builder& builder) {
  const wire::Spawn& spawn = builder.options.spawn;
  // bubblewrap checks this after all options, so --unshare-uts may come after --hostname.
  if (!spawn.hostname().empty() && !spawn.unshare().uts()) {
    return std::string("--hostname needs a new UTS namespace: add --unshare-uts (or --unshare-all)");
  }
  // nsbrokerd always creates a PID namespace; bubblewrap insists on being asked for it.
  if (builder.front == Front::kBwrap && spawn.as_pid_1() && !spawn.unshare().pid()) {
    return std::string("--as-pid-1 requires --unshare-pid");
  }
  // The lock is held by the sandbox's init, which --as-pid-1 leaves out.
  if (spawn.as_pid_1() && builder.lock_file) {
    return std::string("--as-pid-1 and --lock-file cannot be combined");
  }
  return std::nullopt;
}

void add_capabilities(Builder& builder) {
  if (builder.capabilities == all_capabilities()) {
    builder.spawn().add_cap_add("ALL");
    return;
  }
  for (unsigned bit = 0; bit < 64; ++bit) {
    if (builder.capabilities & (CapabilityMask{1} << bit)) {
      builder.spawn().add_cap_add(capability_name(bit));
    }
  }
}

ParseOutcome outcome(const Builder& builder, ParseKind kind) {
  ParseOutcome result;
  result.kind = kind;
  result.warnings = builder.warnings;
  result.level_prefix = builder.level_prefix;
  return result;
}

ParseOutcome failure(const Builder& builder, std::string message) {
  ParseOutcome result = outcome(builder, ParseKind::kError);
  result.error = std::move(message);
  return result;
}

ParseOutcome finish(Builder& builder, Words command) {
  if (MaybeError error = check_pending_modifiers(builder, "the command", kTakesNothing)) {
    return failure(builder, std::move(*error));
  }
  if (MaybeError error = check_user_namespace_options(builder)) {
    return failure(builder, std::move(*error));
  }
  if (command.empty()) {
    return failure(builder,
                   "no command given: put the program to run and its arguments after the options");
  }
  if (MaybeError error = check_process_options(builder)) return failure(builder, std::move(*error));
  wire::Spawn& spawn = builder.spawn();
  if (builder.seccomp_fd) spawn.add_seccomp_fds(attach_data_fd(builder, *builder.seccomp_fd));
  add_capabilities(builder);
  for (std::string_view word : command) spawn.add_argv(std::string(word));
  for (std::string& entry : builder.environment) spawn.add_env(std::move(entry));
  ParseOutcome result = outcome(builder, ParseKind::kRun);
  result.options = std::move(builder.options);
  return result;
}

}  // namespace

ParseOutcome parse_run_options(std::span<const std::string_view> words,
                               std::span<const std::string_view> environment,
                               const ParseContext& context) {
  Builder builder(context.front);
  if (MaybeError error = count_arguments(builder, words.size())) {
    return failure(builder, std::move(*error));
  }
  builder.environment.assign(environment.begin(), environment.end());
  Scan scan = scan_options(builder, words, context, false);
  switch (scan.kind) {
    case ParseKind::kRun: return finish(builder, words.subspan(scan.next));
    case ParseKind::kError: return failure(builder, std::move(scan.error));
    case ParseKind::kHelp:
    case ParseKind::kVersion: return outcome(builder, scan.kind);
  }
  return failure(builder, "unhandled parse outcome");
}

ParseOutcome parse_run_options(std::span<const std::string_view> words,
                               std::span<const std::string_view> environment) {
  return parse_run_options(words, environment, ParseContext{});
}

std::vector<std::string_view> supported_options(Front front) {
  std::vector<std::string_view> names = {"--help", "--version"};
  for (const OptionSpec& spec : kOptions) {
    if (spec.fronts & front_bit(front)) names.push_back(spec.name);
  }
  return names;
}

}  // namespace nsbroker::client
