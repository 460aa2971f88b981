// Preparing the client process itself before it talks to the daemon.
#pragma once

#include <string_view>
#include <vector>

namespace nsbroker::client {

// This process's environment ("NAME=value" entries of environ), for the parser.
std::vector<std::string_view> inherited_environment();

// A closed pipe shows up as EPIPE from send, never as a fatal signal.
void ignore_sigpipe();

// Opens /dev/null on any of fds 0, 1, 2 the caller left closed: the request always carries
// three stdio fds, and no socket or directory fd of ours can take their numbers.
void ensure_standard_fds_open();

// --die-with-parent: the client gets SIGKILL when its parent dies; the daemon then kills the
// sandbox because the connection closes.
void die_with_parent();

}  // namespace nsbroker::client
