// The names of nsbroker's D-Bus interface (systemd/org.nsbroker.Broker1.xml is the reference;
// tests/service checks the exported object against it).
#pragma once

namespace nsbroker::dbus {

inline constexpr const char* kBusName = "org.nsbroker.Broker1";
inline constexpr const char* kObjectPath = "/org/nsbroker/Broker1";
inline constexpr const char* kInterface = "org.nsbroker.Broker1";

// Named errors. Every refusal carries one of these and a message meant for a person.
inline constexpr const char* kErrorDenied = "org.nsbroker.Error.Denied";
inline constexpr const char* kErrorInvalidArgument = "org.nsbroker.Error.InvalidArgument";
inline constexpr const char* kErrorLimitExceeded = "org.nsbroker.Error.LimitExceeded";
inline constexpr const char* kErrorSetupFailed = "org.nsbroker.Error.SetupFailed";
inline constexpr const char* kErrorNotFound = "org.nsbroker.Error.NotFound";
inline constexpr const char* kErrorInternal = "org.nsbroker.Error.Internal";

}  // namespace nsbroker::dbus
