// The argv parser of `nsbroker run` and of the `bwrap` front: words → a Spawn request, as a
// pure function.
//
// Option names and meanings are bubblewrap's (0.11), so that the `bwrap` drop-in front
// (client/bwrap/) reuses this parser: the option semantics live here and nowhere else
// (DESIGN.md §1, §6). Nothing here touches the system: the caller passes the environment in,
// the one option that reads a file descriptor (--args FD) reads it through an injected reader,
// and paths are checked only for being non-empty (the daemon decides the rest).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nsbroker.pb.h"

namespace nsbroker::client {

// Which command line is being parsed. The option semantics are the same; a few options exist
// in one front only (--socket and --dbus in `nsbroker run`; --args and --level-prefix in
// `bwrap`), and the bwrap front adds bubblewrap's own cross-checks (--as-pid-1 requires
// --unshare-pid, at most 9000 arguments).
enum class Front {
  kRun,    // nsbroker run [OPTIONS...] [--] COMMAND
  kBwrap,  // bwrap [OPTIONS...] [--] COMMAND
};

struct RunOptions {
  // Everything the daemon needs except `cwd_path`, which is filled in at send time.
  wire::Spawn spawn;
  // --socket PATH; empty when not given (see daemon_socket_path()).
  std::string socket_path;
  // --dbus: go through org.nsbroker.Broker1 on the system bus instead of the socket
  // (the nsbroker-dbus-run helper does that; see client/dbus/).
  bool use_dbus = false;
  // The client's own fds named by options (--seccomp FD, --file FD DEST, --bind-fd FD DEST,
  // ...), in the order they are attached after stdin, stdout, stderr and the cwd; the request
  // refers to them as 4, 5, ...
  std::vector<int> data_fds;
  // Fds the client itself serves, as bubblewrap does (they never reach the daemon):
  std::optional<int> info_fd;          // --info-fd: {"child-pid": N} once the sandbox runs
  std::optional<int> json_status_fd;   // --json-status-fd: that, then {"exit-code": N}
  std::optional<int> block_fd;         // --block-fd: wait for data/EOF before the request
  std::optional<int> userns_block_fd;  // --userns-block-fd: the same (needs --unshare-user)
  std::optional<int> sync_fd;          // --sync-fd: held open until the sandbox has ended
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
  // Harmless oddities bubblewrap warns about ("Only the last --chdir option will take
  // effect"), one line each, without a prefix; the front prints them.
  std::vector<std::string> warnings;
  // --level-prefix was seen (before the error, if any): the front prefixes its own
  // diagnostics with a syslog level, "<3>" for errors and "<4>" for warnings.
  bool level_prefix = false;
};

// What --args FD found in FD: its bytes up to end of file, or why they could not be read.
struct ArgsData {
  std::optional<std::string> bytes;
  std::string error;  // when `bytes` is empty: e.g. "Bad file descriptor"
};

// Reads (and closes) the fd named by --args. I/O, so the front injects it; tests pass a table.
using ArgsReader = std::function<ArgsData(int fd)>;

struct ParseContext {
  Front front = Front::kRun;
  ArgsReader read_args;  // the bwrap front's --args; without one, --args is refused
};

// Parses the words after `run` (or after `bwrap`): options, then the command and its
// arguments. `environment` holds "NAME=value" entries; --setenv/--unsetenv/--clearenv apply
// to it in argv order and the result becomes `spawn.env`.
ParseOutcome parse_run_options(std::span<const std::string_view> words,
                               std::span<const std::string_view> environment,
                               const ParseContext& context);
// The same for `nsbroker run` (Front::kRun).
ParseOutcome parse_run_options(std::span<const std::string_view> words,
                               std::span<const std::string_view> environment);

// Every option `front` accepts, in table order (for the help-text tests).
std::vector<std::string_view> supported_options(Front front);

// bubblewrap's largest number of arguments, --args contents included.
inline constexpr std::size_t kMaxBwrapArguments = 9000;

}  // namespace nsbroker::client
