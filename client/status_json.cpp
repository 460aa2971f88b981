#include "client/status_json.h"

namespace nsbroker::client {

std::string info_fd_json(int pid) {
  return "{\n    \"child-pid\": " + std::to_string(pid) + "\n}\n";
}

std::string json_status_started(int pid) {
  return "{ \"child-pid\": " + std::to_string(pid) + " }\n";
}

std::string json_status_exited(int exit_status) {
  return "{ \"exit-code\": " + std::to_string(exit_status) + " }\n";
}

}  // namespace nsbroker::client
