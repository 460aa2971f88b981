// The main() of the suites that run a real daemon (integration, security): GoogleTest, the
// in-sandbox probe mode (helper_mode.h), and the real-host check of the "-shared-root"
// registration (DESIGN.md §3).
//
//   SUITE --nsb-expect-shared-root [gtest options]
//       The suite runs under nsbroker-test-shared-root (ctest prefix "*-shared-root."). As
//       root it first checks, with `findmnt -o TARGET,PROPAGATION /` and /proc/self/mountinfo,
//       that `/` of its mount namespace really is shared, and fails every test (exit 1, before
//       any test runs) when it is not: a wrapper that did not take must not pass as a real host.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace nsbroker::itest {

inline constexpr const char* kExpectSharedRootFlag = "--nsb-expect-shared-root";

// Why `/` of this process's mount namespace is not shared, or std::nullopt when it is.
// `report` receives findmnt's line for the log.
std::optional<std::string> root_not_shared(std::string* report = nullptr);

// Probes a suite adds to helper mode: returns the exit code when argv[2] names one of them,
// std::nullopt otherwise (then the integration probes are tried).
using ExtraProbes = std::function<std::optional<int>(int argc, char** argv)>;

int test_main(int argc, char** argv, const ExtraProbes& extra_probes = {});

}  // namespace nsbroker::itest
