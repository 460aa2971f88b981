// Spawn's D-Bus arguments -> the same wire::Spawn request and fds the socket transport builds
// (DESIGN.md §1: the transports only translate). Pure apart from duplicating the fds.
//
//   Spawn(aay argv, aay env, ay cwd, a{sv} options, a{sh} fds) -> (h pidfd, s id)
//
// options (all optional; names and meanings are those of `nsbroker run`):
//   unshare-user, unshare-pid, unshare-net, unshare-ipc, unshare-uts, unshare-cgroup  b
//   unshare-all b (every namespace above), share-net b (keep the network; wins over both)
//   new-session b, as-pid-1 b,
//   die-with-parent b (accepted; a D-Bus caller's sandboxes always end when it leaves the bus)
//   chdir ay, hostname s, argv0 ay, uid u, gid u, cap-add as, seccomp-fds au (data fd numbers)
//   mounts a(sayaya{sv}): in order, (kind, source, dest, extra); kind is bind, ro-bind,
//         dev-bind, tmpfs, proc, dev, dir, symlink, remount-ro, file, bind-data, ro-bind-data,
//         chmod or lock-file; extra: perms u, size t (tmpfs bytes), fd u (a data fd number:
//         the source of bind/ro-bind/dev-bind, or the data of file/bind-data/ro-bind-data),
//         ignore-missing b (the -try forms)
// fds: stdin, stdout, stderr (any fds) and cwd (a directory fd, O_PATH is enough), all four
// required; data fds "4", "5", ... numbered without gaps, as on the socket (at most 12).
// `cwd` (the argument) is the caller's getcwd(), tried inside the sandbox.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <sdbus-c++/Types.h>

#include "core/result.h"
#include "nsbroker.pb.h"
#include "sandbox/child_plan.h"
#include "wire/unique_fd.h"

namespace nsbroker::dbus {

using Bytes = std::vector<std::uint8_t>;
using MountTuple = sdbus::Struct<std::string, Bytes, Bytes, std::map<std::string, sdbus::Variant>>;

struct SpawnArgs {
  std::vector<Bytes> argv;
  std::vector<Bytes> env;
  Bytes cwd;
  std::map<std::string, sdbus::Variant> options;
  std::map<std::string, sdbus::UnixFd> fds;
};

struct SpawnInput {
  wire::Spawn spawn;
  UniqueFd stdio[3];
  UniqueFd cwd;
  std::vector<UniqueFd> data;  // fds "4", "5", ...

  sandbox::RequestFds fds() const;
  void close_fds();
};

// Checks and translates. Unknown option, mount-extra or fd names, wrong value types, a
// missing fd and a request larger than the socket transport allows (64 KiB) are
// InvalidArgument: fail closed.
Result<SpawnInput> translate_spawn(SpawnArgs& args);

// The option names translate_spawn() accepts, for messages and the documentation.
const std::vector<std::string>& spawn_option_names();

}  // namespace nsbroker::dbus
