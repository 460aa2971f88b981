// `nsbroker run --dbus`: the static client cannot speak D-Bus (it links protobuf-lite only,
// DESIGN.md §5), so it hands the whole command line to nsbroker-dbus-run (client/dbus/), a
// small dynamically linked helper that parses it with the same parser and talks to
// org.nsbroker.Broker1.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace nsbroker::client {

// Where the helper is: $NSBROKER_DBUS_RUN if set, else next to this executable (a build
// tree), else the installed NSBROKER_DBUS_RUN_PATH.
std::string dbus_helper_path();

// Replaces this process with `nsbroker-dbus-run run WORDS...`; throws ClientError if it cannot.
[[noreturn]] void exec_dbus_helper(std::span<const std::string_view> run_words);

}  // namespace nsbroker::client
