#include "dbus/spawn_args.h"

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>

#include "wire/record_io.h"

namespace nsbroker::dbus {
namespace {

using Extra = std::map<std::string, sdbus::Variant>;
using MaybeFailure = std::optional<Failure>;

Failure invalid(const std::string& message) { return fail(wire::ERROR_INVALID_ARGUMENT, message); }

std::string to_string(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

constexpr std::size_t kFirstDataFd = 4;
constexpr std::size_t kMaxDataFds = wire::kMaxFdsPerRecord - kFirstDataFd;

struct MountKindName {
  const char* name;
  wire::MountKind kind;
};
constexpr MountKindName kMountKinds[] = {
    {"bind", wire::MOUNT_BIND},
    {"ro-bind", wire::MOUNT_RO_BIND},
    {"dev-bind", wire::MOUNT_DEV_BIND},
    {"tmpfs", wire::MOUNT_TMPFS},
    {"proc", wire::MOUNT_PROC},
    {"dev", wire::MOUNT_DEV},
    {"dir", wire::MOUNT_DIR},
    {"symlink", wire::MOUNT_SYMLINK},
    {"remount-ro", wire::MOUNT_REMOUNT_RO},
    {"file", wire::MOUNT_FILE},
    {"bind-data", wire::MOUNT_BIND_DATA},
    {"ro-bind-data", wire::MOUNT_RO_BIND_DATA},
    {"chmod", wire::MOUNT_CHMOD},
    {"lock-file", wire::MOUNT_LOCK_FILE},
};

std::string known_kinds() {
  std::string list;
  for (const MountKindName& k : kMountKinds) list += (list.empty() ? "" : ", ") + std::string(k.name);
  return list;
}

template <typename T>
MaybeFailure read_value(const std::string& what, const sdbus::Variant& value, const char* signature,
                        T& out) {
  if (!value.containsValueOfType<T>()) {
    return invalid(what + " must have type '" + signature + "', not '" + value.peekValueType() + "'");
  }
  out = value.get<T>();
  return std::nullopt;
}

// One element of `mounts`: (kind, source, dest, extra).
MaybeFailure translate_mount(const MountTuple& tuple, std::size_t index, wire::MountOp& op) {
  std::string where = "mounts[" + std::to_string(index) + "]";
  const std::string& kind_name = std::get<0>(tuple);
  auto kind = std::find_if(std::begin(kMountKinds), std::end(kMountKinds),
                           [&](const MountKindName& k) { return kind_name == k.name; });
  if (kind == std::end(kMountKinds)) {
    return invalid(where + ": unknown kind '" + kind_name + "' (" + known_kinds() + ")");
  }
  op.set_kind(kind->kind);
  op.set_source(to_string(std::get<1>(tuple)));
  op.set_dest(to_string(std::get<2>(tuple)));
  for (const auto& [name, value] : std::get<3>(tuple)) {
    std::string what = where + "." + name;
    if (name == "perms") {
      std::uint32_t perms = 0;
      if (auto failure = read_value(what, value, "u", perms)) return failure;
      if (perms > 07777) return invalid(what + ": a mode from 0 to 07777");
      op.set_has_perms(true);
      op.set_perms(perms);
    } else if (name == "size") {
      std::uint64_t size = 0;
      if (auto failure = read_value(what, value, "t", size)) return failure;
      op.set_size_bytes(size);
    } else if (name == "fd") {
      std::uint32_t fd = 0;
      if (auto failure = read_value(what, value, "u", fd)) return failure;
      op.set_source_fd(fd);
    } else if (name == "ignore-missing") {
      bool ignore = false;
      if (auto failure = read_value(what, value, "b", ignore)) return failure;
      op.set_ignore_missing_source(ignore);
    } else {
      return invalid(what + ": unknown (perms, size, fd, ignore-missing)");
    }
  }
  return std::nullopt;
}

using Setter = std::function<MaybeFailure(const std::string&, const sdbus::Variant&, wire::Spawn&)>;

Setter flag(void (*apply)(wire::Spawn&, bool)) {
  return [apply](const std::string& name, const sdbus::Variant& value, wire::Spawn& spawn) -> MaybeFailure {
    bool on = false;
    if (auto failure = read_value("option '" + name + "'", value, "b", on)) return failure;
    apply(spawn, on);
    return std::nullopt;
  };
}

Setter bytes_field(void (*apply)(wire::Spawn&, std::string)) {
  return [apply](const std::string& name, const sdbus::Variant& value, wire::Spawn& spawn) -> MaybeFailure {
    Bytes bytes;
    if (auto failure = read_value("option '" + name + "'", value, "ay", bytes)) return failure;
    apply(spawn, to_string(bytes));
    return std::nullopt;
  };
}

MaybeFailure set_hostname(const std::string& name, const sdbus::Variant& value, wire::Spawn& spawn) {
  std::string hostname;
  if (auto failure = read_value("option '" + name + "'", value, "s", hostname)) return failure;
  spawn.set_hostname(hostname);
  return std::nullopt;
}

MaybeFailure set_uid(const std::string& name, const sdbus::Variant& value, wire::Spawn& spawn) {
  std::uint32_t id = 0;
  if (auto failure = read_value("option '" + name + "'", value, "u", id)) return failure;
  if (name == "uid") {
    spawn.set_has_uid(true);
    spawn.set_uid(id);
  } else {
    spawn.set_has_gid(true);
    spawn.set_gid(id);
  }
  return std::nullopt;
}

MaybeFailure set_cap_add(const std::string& name, const sdbus::Variant& value, wire::Spawn& spawn) {
  std::vector<std::string> caps;
  if (auto failure = read_value("option '" + name + "'", value, "as", caps)) return failure;
  for (std::string& cap : caps) spawn.add_cap_add(std::move(cap));
  return std::nullopt;
}

MaybeFailure set_seccomp_fds(const std::string& name, const sdbus::Variant& value, wire::Spawn& spawn) {
  std::vector<std::uint32_t> fds;
  if (auto failure = read_value("option '" + name + "'", value, "au", fds)) return failure;
  for (std::uint32_t fd : fds) spawn.add_seccomp_fds(fd);
  return std::nullopt;
}

MaybeFailure set_mounts(const std::string& name, const sdbus::Variant& value, wire::Spawn& spawn) {
  std::vector<MountTuple> mounts;
  if (auto failure = read_value("option '" + name + "'", value, "a(sayaya{sv})", mounts)) return failure;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    if (auto failure = translate_mount(mounts[i], i, *spawn.add_mounts())) return failure;
  }
  return std::nullopt;
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> table = {
      {"unshare-user", flag([](wire::Spawn& s, bool v) { s.mutable_unshare()->set_user(v); })},
      {"unshare-pid", flag([](wire::Spawn& s, bool v) { s.mutable_unshare()->set_pid(v); })},
      {"unshare-net", flag([](wire::Spawn& s, bool v) { s.mutable_unshare()->set_net(v); })},
      {"unshare-ipc", flag([](wire::Spawn& s, bool v) { s.mutable_unshare()->set_ipc(v); })},
      {"unshare-uts", flag([](wire::Spawn& s, bool v) { s.mutable_unshare()->set_uts(v); })},
      {"unshare-cgroup", flag([](wire::Spawn& s, bool v) { s.mutable_unshare()->set_cgroup(v); })},
      {"new-session", flag([](wire::Spawn& s, bool v) { s.set_new_session(v); })},
      {"as-pid-1", flag([](wire::Spawn& s, bool v) { s.set_as_pid_1(v); })},
      {"die-with-parent", flag([](wire::Spawn& s, bool v) { s.set_die_with_parent(v); })},
      {"chdir", bytes_field([](wire::Spawn& s, std::string v) { s.set_chdir(std::move(v)); })},
      {"argv0", bytes_field([](wire::Spawn& s, std::string v) { s.set_argv0(std::move(v)); })},
      {"hostname", set_hostname},
      {"uid", set_uid},
      {"gid", set_uid},
      {"cap-add", set_cap_add},
      {"seccomp-fds", set_seccomp_fds},
      {"mounts", set_mounts},
  };
  return table;
}

// unshare-all and share-net combine with the single flags whatever the order in the dict.
MaybeFailure apply_namespace_shorthands(const std::map<std::string, sdbus::Variant>& options,
                                        wire::Spawn& spawn) {
  bool all = false;
  bool share_net = false;
  if (auto it = options.find("unshare-all"); it != options.end()) {
    if (auto failure = read_value("option 'unshare-all'", it->second, "b", all)) return failure;
  }
  if (auto it = options.find("share-net"); it != options.end()) {
    if (auto failure = read_value("option 'share-net'", it->second, "b", share_net)) return failure;
  }
  wire::Namespaces& unshare = *spawn.mutable_unshare();
  if (all) {
    unshare.set_user(true);
    unshare.set_pid(true);
    unshare.set_net(true);
    unshare.set_ipc(true);
    unshare.set_uts(true);
    unshare.set_cgroup(true);
  }
  if (share_net) unshare.set_net(false);
  return std::nullopt;
}

Result<UniqueFd> own_copy(const sdbus::UnixFd& fd, const std::string& name) {
  // Ours, close-on-exec, above the standard fds; the message keeps its own copy.
  UniqueFd copy(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
  if (!copy) return fail(wire::ERROR_INTERNAL, "fds: cannot duplicate '" + name + "': " + std::strerror(errno));
  return copy;
}

MaybeFailure take_fds(std::map<std::string, sdbus::UnixFd>& fds, SpawnInput& input) {
  std::map<std::size_t, const sdbus::UnixFd*> data;
  for (const auto& [name, fd] : fds) {
    if (name == "stdin" || name == "stdout" || name == "stderr" || name == "cwd") continue;
    char* end = nullptr;
    unsigned long number = std::strtoul(name.c_str(), &end, 10);
    if (name.empty() || *end != '\0' || !std::isdigit(static_cast<unsigned char>(name[0])) ||
        number < kFirstDataFd || number >= kFirstDataFd + kMaxDataFds) {
      return invalid("fds: unknown name '" + name + "' (stdin, stdout, stderr, cwd, and data fds " +
                     std::to_string(kFirstDataFd) + " to " + std::to_string(kFirstDataFd + kMaxDataFds - 1) + ")");
    }
    data[number] = &fd;
  }
  const char* names[4] = {"stdin", "stdout", "stderr", "cwd"};
  for (int i = 0; i < 4; ++i) {
    auto it = fds.find(names[i]);
    if (it == fds.end() || !it->second.isValid()) {
      return invalid(std::string("fds: '") + names[i] + "' is required (" +
                     (i < 3 ? "the command's standard stream; pass /dev/null for none"
                            : "a directory fd of the working directory, O_PATH is enough; relative "
                              "paths are resolved from it") +
                     ")");
    }
    auto copy = own_copy(it->second, names[i]);
    if (!copy) return copy.failure();
    (i < 3 ? input.stdio[i] : input.cwd) = std::move(copy.value());
  }
  std::size_t expected = kFirstDataFd;
  for (const auto& [number, fd] : data) {
    if (number != expected) {
      return invalid("fds: data fds are numbered from " + std::to_string(kFirstDataFd) +
                     " without gaps; " + std::to_string(expected) + " is missing");
    }
    auto copy = own_copy(*fd, std::to_string(number));
    if (!copy) return copy.failure();
    input.data.push_back(std::move(copy.value()));
    ++expected;
  }
  return std::nullopt;
}

}  // namespace

sandbox::RequestFds SpawnInput::fds() const {
  sandbox::RequestFds fds;
  for (int i = 0; i < 3; ++i) fds.stdio[i] = stdio[i].get();
  fds.cwd = cwd.get();
  for (const UniqueFd& fd : data) fds.data.push_back(fd.get());
  return fds;
}

void SpawnInput::close_fds() {
  for (UniqueFd& fd : stdio) fd.reset();
  cwd.reset();
  data.clear();
}

const std::vector<std::string>& spawn_option_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const auto& [name, setter] : setters()) list.push_back(name);
    list.push_back("unshare-all");
    list.push_back("share-net");
    std::sort(list.begin(), list.end());
    return list;
  }();
  return names;
}

Result<SpawnInput> translate_spawn(SpawnArgs& args) {
  SpawnInput input;
  wire::Spawn& spawn = input.spawn;
  try {
    for (const Bytes& word : args.argv) spawn.add_argv(to_string(word));
    for (const Bytes& entry : args.env) spawn.add_env(to_string(entry));
    spawn.set_cwd_path(to_string(args.cwd));
    for (const auto& [name, value] : args.options) {
      if (name == "unshare-all" || name == "share-net") continue;
      auto setter = setters().find(name);
      if (setter == setters().end()) {
        std::string known;
        for (const std::string& n : spawn_option_names()) known += (known.empty() ? "" : ", ") + n;
        return invalid("unknown option '" + name + "' (known: " + known + ")");
      }
      if (auto failure = setter->second(name, value, spawn)) return *failure;
    }
    if (auto failure = apply_namespace_shorthands(args.options, spawn)) return *failure;
  } catch (const sdbus::Error& error) {
    return invalid("cannot read the options: " + error.getMessage());
  }
  if (auto failure = take_fds(args.fds, input)) return *failure;
  // The same bound as a socket record: no request is bigger on one transport than the other.
  constexpr std::size_t kLimit = wire::kMaxRecordBytes - 64;
  if (spawn.ByteSizeLong() > kLimit) {
    return invalid("the request is too large (" + std::to_string(spawn.ByteSizeLong()) +
                   " bytes; at most " + std::to_string(kLimit) +
                   "): shorten the command line or the environment");
  }
  return input;
}

}  // namespace nsbroker::dbus
