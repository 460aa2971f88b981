// The argv parser of `nsbroker run`: words → a Spawn request, as a pure function.
//
// Option names and meanings are bubblewrap's, so that a `bwrap` drop-in front can reuse this
// parser unchanged (DESIGN.md §1, §6). Nothing here touches the system: the caller passes the
// environment in, and paths are checked only for being non-empty (the daemon decides the rest).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nsbroker.pb.h"

namespace nsbroker::client {

struct RunOptions {
  // Everything the daemon needs except `cwd_path`, which is filled in at send time.
  wire::Spawn spawn;
  // --socket PATH; empty when not given (see daemon_socket_path()).
  std::string socket_path;
  // --dbus: go through org.nsbroker.Broker1 on the system bus instead of the socket
  // (the nsbroker-dbus-run helper does that; see client/dbus/).
  bool use_dbus = false;
  // The client's own fds named by options (--seccomp FD, ...), in the order they are attached
  // after stdin, stdout, stderr and the cwd; the request refers to them as 4, 5, ...
  std::vector<int> data_fds;
};

enum class ParseKind {
  kRun,      // `options` holds a complete request
  kHelp,     // --help was given: print the usage, contact nobody
  kVersion,  // --version was given: print the version, contact nobody
  kError,    // `error` says what was wrong and what to do
};

struct ParseOutcome {
  ParseKind kind = ParseKind::kError;
  std::string error;   // kError only: one line, without a program-name prefix
  RunOptions options;  // kRun only
};

// Parses the words after `run` (options, then the command and its arguments).
// `environment` holds "NAME=value" entries; --setenv/--unsetenv/--clearenv apply to it in argv
// order and the result becomes `spawn.env`.
ParseOutcome parse_run_options(std::span<const std::string_view> words,
                               std::span<const std::string_view> environment);

}  // namespace nsbroker::client
