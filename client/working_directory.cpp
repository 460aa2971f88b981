#include "client/working_directory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "client/client_error.h"

namespace nsbroker::client {
namespace {

std::string current_path() {
  // glibc allocates a buffer of the right size when given none.
  std::unique_ptr<char, decltype(&std::free)> path(::getcwd(nullptr, 0), &std::free);
  return path ? std::string(path.get()) : std::string();
}

}  // namespace

WorkingDirectory capture_working_directory() {
  UniqueFd fd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw system_error("cannot open the current directory", errno);
  return WorkingDirectory{.fd = std::move(fd), .path = current_path()};
}

}  // namespace nsbroker::client
