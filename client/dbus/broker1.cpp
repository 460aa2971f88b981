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
    default: return "unspecified";
  }
}

}  // namespace

SpawnCall to_spawn_call(const wire::Spawn& spawn, const std::string& cwd_path) {
  SpawnCall call;
  for (const std::string& word : spawn.argv()) call.argv.push_back(bytes(word));
  for (const std::string& entry : spawn.env()) call.env.push_back(bytes(entry));
  call.cwd = bytes(cwd_path);
  auto flag = [&](const char* name, bool value) {
    if (value) call.options[name] = sdbus::Variant(true);
  };
  flag("unshare-user", spawn.unshare().user());
  flag("unshare-pid", spawn.unshare().pid());
  flag("unshare-net", spawn.unshare().net());
  flag("unshare-ipc", spawn.unshare().ipc());
  flag("unshare-uts", spawn.unshare().uts());
  flag("unshare-cgroup", spawn.unshare().cgroup());
  flag("new-session", spawn.new_session());
  flag("die-with-parent", spawn.die_with_parent());
  flag("as-pid-1", spawn.as_pid_1());
  if (!spawn.chdir().empty()) call.options["chdir"] = sdbus::Variant(bytes(spawn.chdir()));
  if (!spawn.hostname().empty()) call.options["hostname"] = sdbus::Variant(spawn.hostname());
  if (spawn.mounts_size() > 0) {
    std::vector<MountTuple> mounts;
    for (const wire::MountOp& op : spawn.mounts()) {
      std::int32_t perms = op.has_perms() ? static_cast<std::int32_t>(op.perms()) : -1;
      mounts.push_back(MountTuple(std::string(kind_name(op.kind())), bytes(op.source()),
                                  bytes(op.dest()), perms, op.size_bytes()));
    }
    call.options["mounts"] = sdbus::Variant(mounts);
  }
  return call;
}

}  // namespace nsbroker::client::dbus
