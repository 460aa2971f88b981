// errno names a seccomp rule of the policy may return ("EPERM" -> 1), and back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nsbroker::policy {

std::optional<int> errno_from_name(std::string_view name);

// "EPERM" for 1; "errno N" for numbers without a name in the table.
std::string errno_name(int number);

// The accepted names, comma-separated, for error messages.
std::string known_errno_names();

}  // namespace nsbroker::policy
