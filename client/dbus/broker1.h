// The client's side of org.nsbroker.Broker1 (the daemon's is daemon/dbus/; the interface is
// specified by systemd/org.nsbroker.Broker1.xml).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <sdbus-c++/Types.h>

#include "nsbroker.pb.h"

namespace nsbroker::client::dbus {

inline constexpr const char* kBusName = "org.nsbroker.Broker1";
inline constexpr const char* kObjectPath = "/org/nsbroker/Broker1";
inline constexpr const char* kInterface = "org.nsbroker.Broker1";

using Bytes = std::vector<std::uint8_t>;
using MountTuple = sdbus::Struct<std::string, Bytes, Bytes, std::map<std::string, sdbus::Variant>>;

// Spawn's arguments except the fds: (aay argv, aay env, ay cwd, a{sv} options).
struct SpawnCall {
  std::vector<Bytes> argv;
  std::vector<Bytes> env;
  Bytes cwd;
  std::map<std::string, sdbus::Variant> options;
  // Empty, or the request holds something Spawn cannot carry (a newer field of wire::Spawn):
  // then the call must not be made — the daemon would never see that part of the request.
  std::string unsupported;
};

// The request the shared parser built, in Spawn's terms. Only options that differ from the
// defaults are set. `cwd_path` is the client's getcwd().
SpawnCall to_spawn_call(const wire::Spawn& spawn, const std::string& cwd_path);

}  // namespace nsbroker::client::dbus
