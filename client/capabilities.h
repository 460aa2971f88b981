// Linux capability names, for --cap-add/--cap-drop (bubblewrap takes them through libcap's
// cap_from_name(); the static client carries its own table instead of linking libcap).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nsbroker::client {

// One bit per capability (bit N = capability number N), as in the kernel's masks.
using CapabilityMask = std::uint64_t;

// Every capability this table knows (CAP_CHOWN .. CAP_CHECKPOINT_RESTORE).
CapabilityMask all_capabilities();

// "CAP_NET_ADMIN" (any case) or a number such as "12" → that capability's bit; "ALL" (any
// case) → all_capabilities(); anything else → std::nullopt.
std::optional<CapabilityMask> capability_from_name(std::string_view name);

// "CAP_NET_ADMIN" for the bit of capability 12; `bit` must be below the table's size.
std::string capability_name(unsigned bit);

}  // namespace nsbroker::client
