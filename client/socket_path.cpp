#include "client/socket_path.h"

namespace nsbroker::client {

std::string daemon_socket_path(std::string_view option_value, const char* environment_value) {
  if (!option_value.empty()) return std::string(option_value);
  if (environment_value != nullptr && *environment_value != '\0') return environment_value;
  return std::string(kDefaultSocketPath);
}

}  // namespace nsbroker::client
