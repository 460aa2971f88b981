#include "dbus/spawn_args.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>

#include "wire/record_io.h"

namespace nsbroker::dbus {
namespace {

Failure invalid(const std::string& message) { return fail(wire::ERROR_INVALID_ARGUMENT, message); }

std::string to_string(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

struct MountKindName {
  const char* name;
  wire::MountKind kind;
};
constexpr MountKindName kMountKinds[] = {
    {"bind", wire::MOUNT_BIND},       {"ro-bind", wire::MOUNT_RO_BIND},
    {"dev-bind", wire::MOUNT_DEV_BIND}, {"tmpfs", wire::MOUNT_TMPFS},
    {"proc", wire::MOUNT_PROC},       {"dev", wire::MOUNT_DEV},
    {"dir", wire::MOUNT_DIR},         {"symlink", wire::MOUNT_SYMLINK},
    {"remount-ro", wire::MOUNT_REMOUNT_RO},
};

using Setter = std::function<std::optional<Failure>(const sdbus::Variant&, wire::Spawn&)>;

template <typename T>
std::optional<Failure> check_type(const std::string& name, const sdbus::Variant& value,
                                  const char* signature) {
  if (value.containsValueOfType<T>()) return std::nullopt;
  return invalid("option '" + name + "' must have type '" + signature + "', not '" +
                 value.peekValueType() + "'");
}

Setter flag(const std::string& name, void (*apply)(wire::Spawn&, bool)) {
  return [name, apply](const sdbus::Variant& value, wire::Spawn& spawn) -> std::optional<Failure> {
    if (auto failure = check_type<bool>(name, value, "b")) return failure;
    apply(spawn, value.get<bool>());
    return std::nullopt;
  };
}

std::optional<Failure> add_mounts(const sdbus::Variant& value, wire::Spawn& spawn) {
  if (auto failure = check_type<std::vector<MountTuple>>("mounts", value, "a(sayayit)")) {
    return failure;
  }
  std::size_t index = 0;
  for (const MountTuple& tuple : value.get<std::vector<MountTuple>>()) {
    const std::string& kind_name = std::get<0>(tuple);
    auto kind = std::find_if(std::begin(kMountKinds), std::end(kMountKinds),
                             [&](const MountKindName& k) { return kind_name == k.name; });
    if (kind == std::end(kMountKinds)) {
      return invalid("mounts[" + std::to_string(index) + "]: unknown kind '" + kind_name +
                     "' (bind, ro-bind, dev-bind, tmpfs, proc, dev, dir, symlink, remount-ro)");
    }
    wire::MountOp& op = *spawn.add_mounts();
    op.set_kind(kind->kind);
    op.set_source(to_string(std::get<1>(tuple)));
    op.set_dest(to_string(std::get<2>(tuple)));
    std::int32_t perms = std::get<3>(tuple);
    if (perms < -1 || perms > 07777) {
      return invalid("mounts[" + std::to_string(index) + "]: perms must be -1 (the default) or " +
                     "a mode from 0 to 07777");
    }
    if (perms >= 0) {
      op.set_has_perms(true);
      op.set_perms(static_cast<std::uint32_t>(perms));
    }
    op.set_size_bytes(std::get<4>(tuple));
    ++index;
  }
  return std::nullopt;
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> table = {
      {"unshare-user", flag("unshare-user", [](wire::Spawn& s, bool v) { s.mutable_unshare()->set_user(v); })},
      {"unshare-pid", flag("unshare-pid", [](wire::Spawn& s, bool v) { s.mutable_unshare()->set_pid(v); })},
      {"unshare-net", flag("unshare-net", [](wire::Spawn& s, bool v) { s.mutable_unshare()->set_net(v); })},
      {"unshare-ipc", flag("unshare-ipc", [](wire::Spawn& s, bool v) { s.mutable_unshare()->set_ipc(v); })},
      {"unshare-uts", flag("unshare-uts", [](wire::Spawn& s, bool v) { s.mutable_unshare()->set_uts(v); })},
      {"unshare-cgroup", flag("unshare-cgroup", [](wire::Spawn& s, bool v) { s.mutable_unshare()->set_cgroup(v); })},
      {"new-session", flag("new-session", [](wire::Spawn& s, bool v) { s.set_new_session(v); })},
      {"as-pid-1", flag("as-pid-1", [](wire::Spawn& s, bool v) { s.set_as_pid_1(v); })},
      {"die-with-parent", flag("die-with-parent", [](wire::Spawn& s, bool v) { s.set_die_with_parent(v); })},
      {"mounts", add_mounts},
      {"chdir",
       [](const sdbus::Variant& value, wire::Spawn& spawn) -> std::optional<Failure> {
         if (auto failure = check_type<Bytes>("chdir", value, "ay")) return failure;
         spawn.set_chdir(to_string(value.get<Bytes>()));
         return std::nullopt;
       }},
      {"hostname",
       [](const sdbus::Variant& value, wire::Spawn& spawn) -> std::optional<Failure> {
         if (auto failure = check_type<std::string>("hostname", value, "s")) return failure;
         spawn.set_hostname(value.get<std::string>());
         return std::nullopt;
       }},
  };
  return table;
}

// unshare-all and share-net combine with the single flags whatever the order in the dict.
std::optional<Failure> apply_namespace_shorthands(const std::map<std::string, sdbus::Variant>& options,
                                                  wire::Spawn& spawn) {
  auto get_flag = [&](const char* name, bool& out) -> std::optional<Failure> {
    auto it = options.find(name);
    if (it == options.end()) return std::nullopt;
    if (auto failure = check_type<bool>(name, it->second, "b")) return failure;
    out = it->second.get<bool>();
    return std::nullopt;
  };
  bool all = false;
  bool share_net = false;
  if (auto failure = get_flag("unshare-all", all)) return failure;
  if (auto failure = get_flag("share-net", share_net)) return failure;
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

Result<UniqueFd> take_fd(std::map<std::string, sdbus::UnixFd>& fds, const std::string& name,
                         const char* what) {
  auto it = fds.find(name);
  if (it == fds.end() || !it->second.isValid()) {
    return invalid("fds: '" + name + "' is required (" + what + ")");
  }
  // Ours, close-on-exec, above the standard fds; the message keeps its own copy.
  UniqueFd fd(::fcntl(it->second.get(), F_DUPFD_CLOEXEC, 3));
  if (!fd) return fail(wire::ERROR_INTERNAL, "fds: cannot duplicate '" + name + "': " + std::strerror(errno));
  return fd;
}

}  // namespace

sandbox::RequestFds SpawnInput::fds() const {
  sandbox::RequestFds fds;
  for (int i = 0; i < 3; ++i) fds.stdio[i] = stdio[i].get();
  fds.cwd = cwd.get();
  return fds;
}

void SpawnInput::close_fds() {
  for (UniqueFd& fd : stdio) fd.reset();
  cwd.reset();
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
      if (auto failure = setter->second(value, spawn)) return *failure;
    }
    if (auto failure = apply_namespace_shorthands(args.options, spawn)) return *failure;
  } catch (const sdbus::Error& error) {
    return invalid("cannot read the options: " + error.getMessage());
  }
  for (const auto& [name, fd] : args.fds) {
    if (name != "stdin" && name != "stdout" && name != "stderr" && name != "cwd") {
      return invalid("fds: unknown name '" + name +
                     "' (stdin, stdout, stderr and cwd; other data fds are not supported yet)");
    }
  }
  const char* names[3] = {"stdin", "stdout", "stderr"};
  for (int i = 0; i < 3; ++i) {
    auto fd = take_fd(args.fds, names[i], "the command's standard stream; pass /dev/null for none");
    if (!fd) return fd.failure();
    input.stdio[i] = std::move(fd.value());
  }
  auto cwd = take_fd(args.fds, "cwd", "a directory fd of the working directory, O_PATH is enough; "
                                      "relative paths are resolved from it");
  if (!cwd) return cwd.failure();
  input.cwd = std::move(cwd.value());
  // The same bound as a socket record: no request is bigger on one transport than the other.
  if (spawn.ByteSizeLong() > wire::kMaxRecordBytes - 64) {
    return invalid("the request is too large (" + std::to_string(spawn.ByteSizeLong()) +
                   " bytes; at most " + std::to_string(wire::kMaxRecordBytes - 64) +
                   "): shorten the command line or the environment");
  }
  return input;
}

}  // namespace nsbroker::dbus
