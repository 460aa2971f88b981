#include "auth/cgroup_mounts.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace nsbroker::auth {
namespace {

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// mountinfo escapes blanks in paths as \040 (octal); cgroup mount points rarely have any.
std::string unescape_mountinfo(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (std::size_t k = 1; k <= 3; ++k) {
        char c = field[i + k];
        octal = octal && c >= '0' && c <= '7';
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

// One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER".
std::optional<CgroupMount> parse_line(std::string_view line) {
  std::vector<std::string> fields = split(line, ' ');
  auto dash = std::find(fields.begin(), fields.end(), "-");
  if (fields.size() < 7 || dash == fields.end() || fields.end() - dash < 4) return std::nullopt;
  const std::string& type = dash[1];
  if (type != "cgroup" && type != "cgroup2") return std::nullopt;
  CgroupMount mount;
  mount.unified = type == "cgroup2";
  mount.root = unescape_mountinfo(fields[3]);
  mount.mount_point = unescape_mountinfo(fields[4]);
  if (!mount.unified) {
    for (std::string& option : split(dash[3], ',')) {
      if (option != "rw" && option != "ro") mount.names.push_back(std::move(option));
    }
  }
  return mount;
}

bool has_parent_component(std::string_view path) {
  for (const std::string& part : split(path, '/')) {
    if (part == "..") return true;
  }
  return false;
}

}  // namespace

CgroupMounts CgroupMounts::parse(std::string_view mountinfo) {
  CgroupMounts result;
  for (const std::string& line : split(mountinfo, '\n')) {
    if (auto mount = parse_line(line)) result.mounts_.push_back(std::move(*mount));
  }
  return result;
}

CgroupMounts CgroupMounts::read_own() {
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

const CgroupMount* CgroupMounts::find(bool unified, const std::vector<std::string>& names) const {
  for (const CgroupMount& mount : mounts_) {
    if (mount.unified != unified) continue;
    bool all = std::all_of(names.begin(), names.end(), [&](const std::string& name) {
      return std::find(mount.names.begin(), mount.names.end(), name) != mount.names.end();
    });
    if (all) return &mount;
  }
  return nullptr;
}

Result<std::vector<std::string>> CgroupMounts::procs_files(std::string_view proc_cgroup,
                                                          std::string_view own_cgroup) const {
  std::vector<std::string> files;
  std::vector<std::string> own = split(own_cgroup, '\n');
  for (const std::string& line : split(proc_cgroup, '\n')) {
    if (line.empty() || std::find(own.begin(), own.end(), line) != own.end()) continue;
    // "HIERARCHY-ID:CONTROLLERS:PATH"; the path may itself contain ':'.
    std::size_t first = line.find(':');
    std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) {
      return fail(wire::ERROR_INTERNAL, "cannot read the caller's cgroups: bad line \"" + line + "\"");
    }
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    bool unified = line.compare(0, first, "0") == 0 && controllers.empty();
    std::vector<std::string> names = controllers.empty() ? std::vector<std::string>{}
                                                         : split(controllers, ',');
    const CgroupMount* mount = find(unified, names);
    bool limits_nothing = unified || std::all_of(names.begin(), names.end(), [](const std::string& n) {
                            return n.rfind("name=", 0) == 0;
                          });
    if (!mount && limits_nothing) continue;
    if (!mount) {
      return fail(wire::ERROR_SETUP_FAILED,
                  "the caller is in cgroup " + path + " of the " + controllers +
                      " hierarchy, which the daemon cannot see (not mounted in its namespace); "
                      "its sandbox could not be kept under that limit, so it is refused");
    }
    bool inside_root = mount->root == "/" || path == mount->root ||
                       path.rfind(mount->root + "/", 0) == 0;
    if (has_parent_component(path) || !inside_root) {
      return fail(wire::ERROR_SETUP_FAILED,
                  "the caller's cgroup " + path + " (" + (unified ? "cgroup2" : controllers) +
                      ") lies outside the daemon's cgroup namespace; refused");
    }
    std::string relative = mount->root == "/" ? path : path.substr(mount->root.size());
    if (relative == "/") relative.clear();
    files.push_back(mount->mount_point + relative + "/cgroup.procs");
  }
  return files;
}

}  // namespace nsbroker::auth
