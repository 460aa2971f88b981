#include "client/forwarded_signals.h"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "client/client_error.h"

namespace nsbroker::client {
namespace {

bool ignored(int signal) {
  struct sigaction current {};
  return ::sigaction(signal, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

// A signal our caller set to be ignored (nohup, a background job of a script) stays ignored:
// forwarding it would kill a command that was meant to survive it.
sigset_t forwarded_set() {
  sigset_t set;
  ::sigemptyset(&set);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    if (!ignored(signal)) ::sigaddset(&set, signal);
  }
  return set;
}

}  // namespace

ForwardedSignals::ForwardedSignals() {
  sigset_t set = forwarded_set();
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) throw system_error("sigprocmask", errno);
  fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_) throw system_error("signalfd", errno);
}

std::vector<int> ForwardedSignals::drain() {
  std::vector<int> received;
  signalfd_siginfo info;
  while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    received.push_back(static_cast<int>(info.ssi_signo));
  }
  return received;
}

}  // namespace nsbroker::client
