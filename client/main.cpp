// nsbroker: the thin client of nsbrokerd (DESIGN.md §1, §5).
// --help and --version are answered here, without contacting the daemon.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/client_error.h"
#include "client/dbus_helper.h"
#include "client/help_text.h"
#include "client/run_options.h"
#include "client/run_sandboxed.h"
#include "client/version.h"

namespace nsbroker::client {
namespace {

int print(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int print_version() { return print(std::string(kSoftware) + "\n"); }

std::vector<std::string_view> environment_entries() {
  std::vector<std::string_view> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    entries.emplace_back(*entry);
  }
  return entries;
}

int run_subcommand(std::span<const std::string_view> words) {
  ParseOutcome parsed = parse_run_options(words, environment_entries());
  switch (parsed.kind) {
    case ParseKind::kHelp: return print(run_help());
    case ParseKind::kVersion: return print_version();
    case ParseKind::kError: throw ClientError(parsed.error);
    case ParseKind::kRun:
      if (parsed.options.use_dbus) exec_dbus_helper(words);
      return run_sandboxed(parsed.options);
  }
  throw ClientError("unhandled parse outcome");
}

int dispatch(std::span<const std::string_view> words) {
  if (words.empty()) throw ClientError("no subcommand given: try 'nsbroker --help'");
  std::string_view subcommand = words.front();
  if (subcommand == "--help") return print(program_help());
  if (subcommand == "--version") return print_version();
  if (subcommand == "run") return run_subcommand(words.subspan(1));
  throw ClientError("unknown subcommand '" + std::string(subcommand) + "': try 'nsbroker --help'");
}

}  // namespace
}  // namespace nsbroker::client

int main(int argc, char** argv) {
  std::vector<std::string_view> words(argv + 1, argv + argc);
  try {
    return nsbroker::client::dispatch(words);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "nsbroker: %s\n", error.what());
    return 1;
  }
}
