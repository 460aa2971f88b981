#include "client/dbus/broker1.h"

namespace nsbroker::client::dbus {
namespace {

Bytes bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

const char* kind_name(wire::MountKind kind) {
  switch (kind) {
    case wire::MOUNT_BIND: return "bind";
    case wire::MOUNT_RO_BIND: return "ro-bind";
    case wire::MOUNT_DEV_BIND: return "dev-bind";
    case wire::MOUNT_TMPFS: return "tmpfs";
    case wire::MOUNT_PROC: return "proc";
    case wire::MOUNT_DEV: return "dev";
    case wire::MOUNT_DIR: return "dir";
    case wire::MOUNT_SYMLINK: return "symlink";
    case wire::MOUNT_REMOUNT_RO: return "remount-ro";
    case wire::MOUNT_FILE: return "file";
    case wire::MOUNT_BIND_DATA: return "bind-data";
    case wire::MOUNT_RO_BIND_DATA: return "ro-bind-data";
    case wire::MOUNT_CHMOD: return "chmod";
    case wire::MOUNT_LOCK_FILE: return "lock-file";
    default: return nullptr;
  }
}

}  // namespace

SpawnCall to_spawn_call(const wire::Spawn& spawn, const std::string& cwd_path) {
  SpawnCall call;
  // Every field taken over is cleared from `rest`; whatever is left was not carried.
  wire::Spawn rest = spawn;
  for (const std::string& word : spawn.argv()) call.argv.push_back(bytes(word));
  for (const std::string& entry : spawn.env()) call.env.push_back(bytes(entry));
  rest.clear_argv();
  rest.clear_env();
  rest.clear_cwd_path();
  call.cwd = bytes(cwd_path);
  auto flag = [&](const char* name, bool value) {
    if (value) call.options[name] = sdbus::Variant(true);
  };
  const wire::Namespaces& ns = spawn.unshare();
  flag("unshare-user", ns.user());
  flag("unshare-pid", ns.pid());
  flag("unshare-net", ns.net());
  flag("unshare-ipc", ns.ipc());
  flag("unshare-uts", ns.uts());
  flag("unshare-cgroup", ns.cgroup());
  rest.mutable_unshare()->clear_user();
  rest.mutable_unshare()->clear_pid();
  rest.mutable_unshare()->clear_net();
  rest.mutable_unshare()->clear_ipc();
  rest.mutable_unshare()->clear_uts();
  rest.mutable_unshare()->clear_cgroup();
  if (rest.unshare().ByteSizeLong() == 0) rest.clear_unshare();
  flag("new-session", spawn.new_session());
  flag("die-with-parent", spawn.die_with_parent());
  flag("as-pid-1", spawn.as_pid_1());
  rest.clear_new_session();
  rest.clear_die_with_parent();
  rest.clear_as_pid_1();
  if (!spawn.chdir().empty()) call.options["chdir"] = sdbus::Variant(bytes(spawn.chdir()));
  if (!spawn.argv0().empty()) call.options["argv0"] = sdbus::Variant(bytes(spawn.argv0()));
  if (!spawn.hostname().empty()) call.options["hostname"] = sdbus::Variant(spawn.hostname());
  rest.clear_chdir();
  rest.clear_argv0();
  rest.clear_hostname();
  if (spawn.has_uid()) call.options["uid"] = sdbus::Variant(spawn.uid());
  if (spawn.has_gid()) call.options["gid"] = sdbus::Variant(spawn.gid());
  rest.clear_has_uid();
  rest.clear_uid();
  rest.clear_has_gid();
  rest.clear_gid();
  if (spawn.cap_add_size() > 0) {
    call.options["cap-add"] = sdbus::Variant(std::vector<std::string>(spawn.cap_add().begin(), spawn.cap_add().end()));
  }
  rest.clear_cap_add();
  if (spawn.seccomp_fds_size() > 0) {
    call.options["seccomp-fds"] =
        sdbus::Variant(std::vector<std::uint32_t>(spawn.seccomp_fds().begin(), spawn.seccomp_fds().end()));
  }
  rest.clear_seccomp_fds();
  if (spawn.mounts_size() > 0) {
    std::vector<MountTuple> mounts;
    for (int i = 0; i < spawn.mounts_size(); ++i) {
      const wire::MountOp& op = spawn.mounts(i);
      const char* kind = kind_name(op.kind());
      if (kind == nullptr) {
        call.unsupported = "mount operation kind " + std::to_string(op.kind());
        return call;
      }
      std::map<std::string, sdbus::Variant> extra;
      if (op.has_perms()) extra["perms"] = sdbus::Variant(op.perms());
      if (op.size_bytes() != 0) extra["size"] = sdbus::Variant(op.size_bytes());
      if (op.source_fd() != 0) extra["fd"] = sdbus::Variant(op.source_fd());
      if (op.ignore_missing_source()) extra["ignore-missing"] = sdbus::Variant(true);
      mounts.push_back(MountTuple(std::string(kind), bytes(op.source()), bytes(op.dest()), extra));
      wire::MountOp left = op;
      left.clear_kind();
      left.clear_source();
      left.clear_dest();
      left.clear_has_perms();
      left.clear_perms();
      left.clear_size_bytes();
      left.clear_source_fd();
      left.clear_ignore_missing_source();
      if (left.ByteSizeLong() != 0) {
        call.unsupported = "a field of mount operation " + std::to_string(i + 1);
        return call;
      }
    }
    call.options["mounts"] = sdbus::Variant(mounts);
  }
  rest.clear_mounts();
  if (rest.ByteSizeLong() != 0) call.unsupported = "an option of this request";
  return call;
}

}  // namespace nsbroker::client::dbus
