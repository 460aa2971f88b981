// The caller's working directory, sent along with the request (DESIGN.md §2: the daemon
// resolves it in the caller's view, through this fd, not through a path string).
#pragma once

#include <string>

#include "wire/unique_fd.h"

namespace nsbroker::client {

struct WorkingDirectory {
  UniqueFd fd;       // O_PATH|O_DIRECTORY
  std::string path;  // getcwd(); empty when unknown (e.g. the directory was removed)
};

WorkingDirectory capture_working_directory();

}  // namespace nsbroker::client
