#include "client/process_setup.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "client/client_error.h"

namespace nsbroker::client {
namespace {

bool is_closed(int fd) { return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF; }

void open_dev_null_at(int fd) {
  int opened = ::open("/dev/null", O_RDWR);
  if (opened < 0)
    throw system_error("cannot open /dev/null for closed fd " + std::to_string(fd), errno);
  // Lower fds are open by now, so `opened` is normally `fd` already.
  if (opened != fd) {
    int moved = ::dup2(opened, fd);
    int error = errno;
    ::close(opened);
    if (moved < 0) throw system_error("cannot reopen fd " + std::to_string(fd), error);
  }
}

}  // namespace

std::vector<std::string_view> inherited_environment() {
  std::vector<std::string_view> entries;
  for (char** entry = environ; entry && *entry; ++entry) entries.emplace_back(*entry);
  return entries;
}

void ignore_sigpipe() { ::signal(SIGPIPE, SIG_IGN); }

void ensure_standard_fds_open() {
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (is_closed(fd)) open_dev_null_at(fd);
  }
}

void die_with_parent() {
  pid_t parent = ::getppid();
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    throw system_error("cannot arrange to die with the parent process", errno);
  }
  // The parent may have died before prctl took effect; no signal would ever come then.
  if (::getppid() != parent) ::raise(SIGKILL);
}

}  // namespace nsbroker::client
