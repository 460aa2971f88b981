// `nsbroker run` once the options are parsed: the whole trip through nsbrokerd.
#pragma once

#include "client/run_options.h"

namespace nsbroker::client {

// Runs the command in a sandbox and returns the exit status the client should exit with.
// Throws ClientError for anything that keeps the command from running or reporting back.
int run_sandboxed(RunOptions& options);

}  // namespace nsbroker::client
