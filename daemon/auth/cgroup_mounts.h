// The cgroup hierarchies the daemon can see (its own /proc/self/mountinfo), and where in them
// a process's cgroups are: pure cgroup v2, v1, and the v1/v2 hybrids many hosts still run.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace nsbroker::auth {

struct CgroupMount {
  bool unified = false;             // cgroup2
  std::vector<std::string> names;   // v1: its controllers and "name=..." options
  std::string mount_point;          // where it is mounted in the daemon's view
  std::string root;                 // the hierarchy path mounted there (mountinfo field 4)
};

class CgroupMounts {
 public:
  // Parses mountinfo text (the daemon's own, read once at start).
  static CgroupMounts parse(std::string_view mountinfo);
  static CgroupMounts read_own();

  // The cgroup.procs files, in the daemon's view, of the cgroups listed in `proc_cgroup` (a
  // process's /proc/PID/cgroup) that differ from the daemon's own (`own_cgroup`, its
  // /proc/self/cgroup): the setup processes start in the daemon's cgroups, and a migration costs
  // about a millisecond per hierarchy. A hierarchy the daemon does not see is skipped when nothing
  // can be limited through it (cgroup v2 not mounted, a named v1 hierarchy without
  // controllers); a v1 controller hierarchy it does not see, or a cgroup outside its cgroup
  // namespace, is a failure: the sandbox would escape a limit its caller has.
  Result<std::vector<std::string>> procs_files(std::string_view proc_cgroup,
                                               std::string_view own_cgroup = {}) const;

  const std::vector<CgroupMount>& mounts() const { return mounts_; }

 private:
  const CgroupMount* find(bool unified, const std::vector<std::string>& names) const;
  std::vector<CgroupMount> mounts_;
};

}  // namespace nsbroker::auth
