// Spawn's D-Bus arguments -> the same wire::Spawn request and fds the socket transport builds
// (DESIGN.md §1: the transports only translate). Pure apart from duplicating the fds.
//
//   Spawn(aay argv, aay env, ay cwd, a{sv} options, a{sh} fds) -> (h pidfd, s id)
//
// options (all optional; names and meanings are those of `nsbroker run`):
//   unshare-user, unshare-pid, unshare-net, unshare-ipc, unshare-uts, unshare-cgroup  b
//   unshare-all b (every namespace above), share-net b (keep the network; wins over both)
//   mounts a(sayayit): (kind, source, dest, perms or -1, tmpfs size in bytes or 0) in order;
//         kind is bind, ro-bind, dev-bind, tmpfs, proc, dev, dir, symlink or remount-ro
//   chdir ay, hostname s, new-session b, as-pid-1 b,
//   die-with-parent b (accepted; a D-Bus caller's sandboxes always end when it leaves the bus)
// fds: stdin, stdout, stderr (any fds) and cwd (a directory fd, O_PATH is enough), all four
// required. `cwd` (the argument) is the caller's getcwd(), tried inside the sandbox.
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
using MountTuple = sdbus::Struct<std::string, Bytes, Bytes, std::int32_t, std::uint64_t>;

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

  sandbox::RequestFds fds() const;
  void close_fds();
};

// Checks and translates. Unknown option or fd names, wrong value types, a missing fd and a
// request larger than the socket transport allows (64 KiB) are InvalidArgument: fail closed.
Result<SpawnInput> translate_spawn(SpawnArgs& args);

// The option names translate_spawn() accepts, for messages and the documentation.
const std::vector<std::string>& spawn_option_names();

}  // namespace nsbroker::dbus
