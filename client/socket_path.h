// Where the client looks for nsbrokerd.
#pragma once

#include <string>
#include <string_view>

namespace nsbroker::client {

inline constexpr std::string_view kDefaultSocketPath = "/run/nsbroker/nsbroker.sock";

// --socket wins, then $NSBROKER_SOCKET when set and non-empty, then kDefaultSocketPath.
// `environment_value` is getenv("NSBROKER_SOCKET") (may be null).
std::string daemon_socket_path(std::string_view option_value, const char* environment_value);

}  // namespace nsbroker::client
