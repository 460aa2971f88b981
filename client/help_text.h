// Usage texts, kept apart from the code that prints them so every front can reuse them.
#pragma once

#include <string_view>

namespace nsbroker::client {

// `nsbroker --help`: the subcommands.
std::string_view program_help();

// `nsbroker run --help`: the options understood by parse_run_options(Front::kRun).
std::string_view run_help();

// `bwrap --help` (the bubblewrap front): bubblewrap's usage layout, listing exactly the
// options parse_run_options(Front::kBwrap) accepts. Codex reads it: it must name --as-pid-1
// and --perms (or Codex falls back to its bundled bwrap), and --argv0 and --ro-bind-fd.
std::string_view bwrap_help();

// `bwrap --version`: bubblewrap's "bubblewrap VERSION" line, naming nsbroker as well.
std::string_view bwrap_version();

}  // namespace nsbroker::client
