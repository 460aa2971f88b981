// The JSON bubblewrap writes to --info-fd and --json-status-fd, as text. Only what the client
// knows for certain is written: the sandbox's pid (bubblewrap's "child-pid") and the exit
// status; bubblewrap's "*-namespace" inode fields are left out.
#pragma once

#include <string>

namespace nsbroker::client {

// --info-fd, once the sandbox runs: "{\n    \"child-pid\": 42\n}\n".
std::string info_fd_json(int pid);

// --json-status-fd, once the sandbox runs: "{ \"child-pid\": 42 }\n".
std::string json_status_started(int pid);

// --json-status-fd, when the command has ended: "{ \"exit-code\": 143 }\n" (code or 128+signal).
std::string json_status_exited(int exit_status);

}  // namespace nsbroker::client
