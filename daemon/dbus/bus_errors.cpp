#include "dbus/bus_errors.h"

#include "dbus/bus_names.h"

namespace nsbroker::dbus {

const char* error_name(wire::ErrorCode code) {
  switch (code) {
    case wire::ERROR_DENIED: return kErrorDenied;
    case wire::ERROR_PROTOCOL:
    case wire::ERROR_INVALID_ARGUMENT: return kErrorInvalidArgument;
    case wire::ERROR_LIMIT_EXCEEDED: return kErrorLimitExceeded;
    case wire::ERROR_SETUP_FAILED: return kErrorSetupFailed;
    default: return kErrorInternal;
  }
}

std::string exit_reason_name(wire::ExitReason reason) {
  switch (reason) {
    case wire::EXIT_REASON_EXITED: return "exited";
    case wire::EXIT_REASON_CLIENT_GONE: return "client-gone";
    case wire::EXIT_REASON_KILLED_BY_LIMIT: return "killed-by-limit";
    default: return "unspecified";
  }
}

}  // namespace nsbroker::dbus
