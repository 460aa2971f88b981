#include "client/capabilities.h"

#include <array>
#include <cctype>
#include <charconv>

namespace nsbroker::client {
namespace {

// Index = capability number (linux/capability.h), without the "CAP_" prefix.
constexpr std::array<std::string_view, 41> kNames = {
    "CHOWN",               //  0
    "DAC_OVERRIDE",        //  1
    "DAC_READ_SEARCH",     //  2
    "FOWNER",              //  3
    "FSETID",              //  4
    "KILL",                //  5
    "SETGID",              //  6
    "SETUID",              //  7
    "SETPCAP",             //  8
    "LINUX_IMMUTABLE",     //  9
    "NET_BIND_SERVICE",    // 10
    "NET_BROADCAST",       // 11
    "NET_ADMIN",           // 12
    "NET_RAW",             // 13
    "IPC_LOCK",            // 14
    "IPC_OWNER",           // 15
    "SYS_MODULE",          // 16
    "SYS_RAWIO",           // 17
    "SYS_CHROOT",          // 18
    "SYS_PTRACE",          // 19
    "SYS_PACCT",           // 20
    "SYS_ADMIN",           // 21
    "SYS_BOOT",            // 22
    "SYS_NICE",            // 23
    "SYS_RESOURCE",        // 24
    "SYS_TIME",            // 25
    "SYS_TTY_CONFIG",      // 26
    "MKNOD",               // 27
    "LEASE",               // 28
    "AUDIT_WRITE",         // 29
    "AUDIT_CONTROL",       // 30
    "SETFCAP",             // 31
    "MAC_OVERRIDE",        // 32
    "MAC_ADMIN",           // 33
    "SYSLOG",              // 34
    "WAKE_ALARM",          // 35
    "BLOCK_SUSPEND",       // 36
    "AUDIT_READ",          // 37
    "PERFMON",             // 38
    "BPF",                 // 39
    "CHECKPOINT_RESTORE",  // 40
};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

CapabilityMask bit(std::size_t number) { return CapabilityMask{1} << number; }

}  // namespace

CapabilityMask all_capabilities() { return bit(kNames.size()) - 1; }

std::optional<CapabilityMask> capability_from_name(std::string_view name) {
  if (equal_ignoring_case(name, "ALL")) return all_capabilities();
  // libcap also takes the capability's number.
  unsigned number = 0;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (!name.empty() && error == std::errc() && end == name.data() + name.size()) {
    if (number < kNames.size()) return bit(number);
    return std::nullopt;
  }
  constexpr std::string_view kPrefix = "CAP_";
  if (name.size() <= kPrefix.size() || !equal_ignoring_case(name.substr(0, kPrefix.size()), kPrefix)) {
    return std::nullopt;
  }
  std::string_view bare = name.substr(kPrefix.size());
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (equal_ignoring_case(bare, kNames[i])) return bit(i);
  }
  return std::nullopt;
}

std::string capability_name(unsigned number) { return "CAP_" + std::string(kNames.at(number)); }

}  // namespace nsbroker::client
