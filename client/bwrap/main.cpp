// bwrap: nsbroker's bubblewrap front (DESIGN.md §6). Installed as an executable file named
// `bwrap`, it takes bubblewrap 0.11's command line, parses it with the same pure parser as
// `nsbroker run` (Front::kBwrap) and asks nsbrokerd for the sandbox; the daemon's policy
// decides. Its own errors are one "bwrap: ..." line and exit status 1, as bubblewrap's are.
//
// Codex runs `bwrap --help` before every sandboxed command, so --help and --version are
// answered first, from static text, with nothing else set up and no daemon contacted.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/bwrap/diagnostics.h"
#include "client/help_text.h"
#include "client/process_setup.h"
#include "client/run_options.h"
#include "client/run_sandboxed.h"

namespace nsbroker::client {
namespace {

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int print(std::string_view text) { return write_all(STDOUT_FILENO, text) ? 0 : 1; }

// --args FD: everything FD holds, then FD is closed (bubblewrap closes it too). The words are
// split and checked by the parser.
ArgsData read_args_fd(int fd) {
  ArgsData data;
  std::string bytes;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      data.error = std::strerror(errno);
      return data;
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  data.bytes = std::move(bytes);
  return data;
}

int fail(std::string_view message, bool level_prefix) {
  write_all(STDERR_FILENO, bwrap_error_line(message, level_prefix));
  return 1;
}

int run(std::span<const std::string_view> words) {
  ParseContext context{.front = Front::kBwrap, .read_args = read_args_fd};
  ParseOutcome parsed = parse_run_options(words, inherited_environment(), context);
  for (const std::string& warning : parsed.warnings) {
    write_all(STDERR_FILENO, bwrap_warning_line(warning, parsed.level_prefix));
  }
  switch (parsed.kind) {
    case ParseKind::kHelp: return print(bwrap_help());
    case ParseKind::kVersion: return print(bwrap_version());
    case ParseKind::kError: return fail(parsed.error, parsed.level_prefix);
    case ParseKind::kRun: break;
  }
  try {
    return run_sandboxed(parsed.options);
  } catch (const std::exception& error) {
    return fail(error.what(), parsed.level_prefix);
  }
}

}  // namespace
}  // namespace nsbroker::client

int main(int argc, char** argv) {
  using namespace nsbroker::client;
  if (argc == 2) {
    std::string_view only = argv[1];
    if (only == "--help") return print(bwrap_help());
    if (only == "--version") return print(bwrap_version());
  }
  // No arguments at all: bubblewrap prints its usage on stderr and fails.
  if (argc < 2) {
    write_all(STDERR_FILENO, bwrap_help());
    return 1;
  }
  try {
    std::vector<std::string_view> words(argv + 1, argv + argc);
    return run(words);
  } catch (const std::exception& error) {
    return fail(error.what(), false);
  }
}
