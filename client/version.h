// The client's name and version, as printed by --version and sent in Hello.
#pragma once

#include <string_view>

namespace nsbroker::client {

// NSBROKER_VERSION is a compile definition set by the top-level CMakeLists.txt.
inline constexpr std::string_view kSoftware = "nsbroker " NSBROKER_VERSION;

}  // namespace nsbroker::client
