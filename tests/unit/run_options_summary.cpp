#include "run_options_summary.h"

#include <cctype>
#include <cstdio>

namespace nsbroker::client::testing_support {
namespace {

template <typename Range>
std::string join(const Range& items, std::string_view separator) {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

// "MOUNT_RO_BIND_DATA" -> "ro-bind-data": the option's name, from the generated enum name.
std::string mount_kind_name(wire::MountKind kind) {
  std::string name = wire::MountKind_Name(kind);
  if (name.rfind("MOUNT_", 0) == 0) name.erase(0, 6);
  for (char& c : name) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::string octal(unsigned value) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", value);
  return text;
}

std::string describe(const wire::Namespaces& unshare) {
  std::vector<std::string> names;
  if (unshare.user()) names.push_back("user");
  if (unshare.pid()) names.push_back("pid");
  if (unshare.net()) names.push_back("net");
  if (unshare.ipc()) names.push_back("ipc");
  if (unshare.uts()) names.push_back("uts");
  if (unshare.cgroup()) names.push_back("cgroup");
  return join(names, " ");
}

std::vector<std::string> numbers(const auto& values) {
  std::vector<std::string> texts;
  for (auto value : values) texts.push_back(std::to_string(value));
  return texts;
}

void add_fd(std::vector<std::string>& parts, std::string_view name, const std::optional<int>& fd) {
  if (fd) parts.push_back(std::string(name) + "=" + std::to_string(*fd));
}

}  // namespace

std::string join_words(const Words& words, std::string_view separator) {
  return join(words, separator);
}

std::string describe(const wire::MountOp& op) {
  std::string text = mount_kind_name(op.kind());
  if (op.ignore_missing_source()) text += "-try";
  if (op.source_fd() != 0) text += " fd=" + std::to_string(op.source_fd());
  if (!op.source().empty()) text += " " + op.source();
  text += " " + op.dest();
  if (op.has_perms()) text += " perms=" + octal(op.perms());
  if (op.size_bytes() != 0) text += " size=" + std::to_string(op.size_bytes());
  return text;
}

std::string summarize(const RunOptions& options) {
  const wire::Spawn& spawn = options.spawn;
  std::vector<std::string> parts{"argv=[" + join(spawn.argv(), " ") + "]"};
  if (!spawn.argv0().empty()) parts.push_back("argv0=" + spawn.argv0());
  if (spawn.env_size() > 0) parts.push_back("env=[" + join(spawn.env(), " ") + "]");
  if (std::string unshare = describe(spawn.unshare()); !unshare.empty()) {
    parts.push_back("unshare=[" + unshare + "]");
  }
  if (spawn.mounts_size() > 0) {
    std::vector<std::string> mounts;
    for (const wire::MountOp& op : spawn.mounts()) mounts.push_back(describe(op));
    parts.push_back("mounts=[" + join(mounts, "; ") + "]");
  }
  if (!spawn.chdir().empty()) parts.push_back("chdir=" + spawn.chdir());
  if (!spawn.cwd_path().empty()) parts.push_back("cwd_path=" + spawn.cwd_path());
  if (!spawn.hostname().empty()) parts.push_back("hostname=" + spawn.hostname());
  if (spawn.has_uid()) parts.push_back("uid=" + std::to_string(spawn.uid()));
  if (spawn.has_gid()) parts.push_back("gid=" + std::to_string(spawn.gid()));
  if (spawn.cap_add_size() > 0) parts.push_back("caps=[" + join(spawn.cap_add(), " ") + "]");
  if (spawn.new_session()) parts.push_back("new-session");
  if (spawn.die_with_parent()) parts.push_back("die-with-parent");
  if (spawn.as_pid_1()) parts.push_back("as-pid-1");
  if (spawn.seccomp_fds_size() > 0) {
    parts.push_back("seccomp=[" + join(numbers(spawn.seccomp_fds()), " ") + "]");
  }
  if (!options.data_fds.empty()) {
    parts.push_back("data_fds=[" + join(numbers(options.data_fds), " ") + "]");
  }
  add_fd(parts, "info_fd", options.info_fd);
  add_fd(parts, "json_status_fd", options.json_status_fd);
  add_fd(parts, "block_fd", options.block_fd);
  add_fd(parts, "userns_block_fd", options.userns_block_fd);
  add_fd(parts, "sync_fd", options.sync_fd);
  if (!options.socket_path.empty()) parts.push_back("socket=" + options.socket_path);
  if (options.use_dbus) parts.push_back("dbus");
  return join(parts, " ");
}

}  // namespace nsbroker::client::testing_support
