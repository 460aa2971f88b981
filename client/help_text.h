// Usage texts, kept apart from the code that prints them so every front can reuse them.
#pragma once

#include <string_view>

namespace nsbroker::client {

// `nsbroker --help`: the subcommands.
std::string_view program_help();

// `nsbroker run --help`: the options understood by parse_run_options().
std::string_view run_help();

}  // namespace nsbroker::client
