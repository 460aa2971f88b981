// From the core's Failure (a wire::ErrorCode and a message) to a named D-Bus error.
#pragma once

#include <string>

#include "core/result.h"

namespace nsbroker::dbus {

// org.nsbroker.Error.<Name> for a wire error code. Protocol-level faults (which on D-Bus can
// only be malformed arguments) are InvalidArgument.
const char* error_name(wire::ErrorCode code);

// The reason strings of the Exited signal: "exited", "client-gone", "killed-by-limit".
std::string exit_reason_name(wire::ExitReason reason);

}  // namespace nsbroker::dbus
