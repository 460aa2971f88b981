#include "client/served_fds.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <string_view>

#include "client/client_error.h"
#include "client/status_json.h"

namespace nsbroker::client {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

void require_open(const std::optional<int>& fd, std::string_view option) {
  if (fd && !is_open(*fd)) {
    throw ClientError(std::string(option) + " " + std::to_string(*fd) +
                      ": that file descriptor is not open");
  }
}

// Blocks until `fd` has something to read or is at its end, then takes one byte.
void wait_and_close(int fd, std::string_view option) {
  char byte = 0;
  ssize_t n;
  do n = ::read(fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  // A non-blocking fd: wait for it to become readable, then take the byte.
  if (n < 0 && errno == EAGAIN) {
    pollfd watched = {fd, POLLIN, 0};
    while (::poll(&watched, 1, -1) < 0 && errno == EINTR) {}
    do n = ::read(fd, &byte, 1);
    while (n < 0 && errno == EINTR);
  }
  if (n < 0 && errno != EAGAIN) {
    throw system_error("cannot read " + std::string(option) + " " + std::to_string(fd), errno);
  }
  ::close(fd);
}

void write_all(int fd, std::string_view text, std::string_view option) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw system_error("cannot write to " + std::string(option) + " " + std::to_string(fd), errno);
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The sandbox's pid as this process sees it: the "Pid:" line of the pidfd's fdinfo is in the
// reader's pid namespace, which may not be the daemon's (a client in a container).
int pid_in_own_namespace(int pidfd, int daemon_pid) {
  if (pidfd < 0) return daemon_pid;
  std::string path = "/proc/self/fdinfo/" + std::to_string(pidfd);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return daemon_pid;
  char buffer[512];
  ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
  ::close(fd);
  if (n <= 0) return daemon_pid;
  std::string_view text(buffer, static_cast<std::size_t>(n));
  std::size_t at = text.find("\nPid:");
  if (at == std::string_view::npos) return daemon_pid;
  int pid = std::atoi(std::string(text.substr(at + 5, 16)).c_str());
  return pid > 0 ? pid : daemon_pid;
}

}  // namespace

void check_named_fds_open(const RunOptions& options) {
  for (int fd : options.data_fds) {
    if (!is_open(fd)) {
      throw ClientError("file descriptor " + std::to_string(fd) +
                        " named on the command line is not open");
    }
  }
  require_open(options.info_fd, "--info-fd");
  require_open(options.json_status_fd, "--json-status-fd");
  require_open(options.block_fd, "--block-fd");
  require_open(options.userns_block_fd, "--userns-block-fd");
  require_open(options.sync_fd, "--sync-fd");
}

void wait_for_block_fds(const RunOptions& options) {
  if (options.userns_block_fd) wait_and_close(*options.userns_block_fd, "--userns-block-fd");
  if (options.block_fd) wait_and_close(*options.block_fd, "--block-fd");
}

void StatusFds::started(int pidfd, int daemon_pid) {
  int pid = pid_in_own_namespace(pidfd, daemon_pid);
  if (info_fd_) {
    write_all(*info_fd_, info_fd_json(pid), "--info-fd");
    ::close(*info_fd_);
    info_fd_.reset();
  }
  if (json_status_fd_) write_all(*json_status_fd_, json_status_started(pid), "--json-status-fd");
}

void StatusFds::exited(int exit_status) {
  if (!json_status_fd_) return;
  // As bubblewrap: the exit line is best effort, the exit status is what counts.
  try {
    write_all(*json_status_fd_, json_status_exited(exit_status), "--json-status-fd");
  } catch (const ClientError&) {
  }
  ::close(*json_status_fd_);
  json_status_fd_.reset();
}

}  // namespace nsbroker::client
