// The test executable doubles as a probe that runs *inside* sandboxes (and as uid 1500 on the
// host): `nsb-helper --nsb-helper PROBE`. A probe prints `key=value` lines on stdout and
// reports what the kernel says directly, without depending on which tools the host has.
//
//   lo      interfaces (if_nameindex), flags of "lo" (SIOCGIFFLAGS) and a TCP round trip
//           over 127.0.0.1
//   fds     the open fds of the process, without the one used to list them
//   userns  whether a user namespace can be created (unshare(CLONE_NEWUSER) in a child), and
//           the errno name when not
#pragma once

namespace nsbroker::itest {

inline constexpr const char* kHelperFlag = "--nsb-helper";

// Runs the probe named by argv[2]; returns the process exit code.
int run_helper(int argc, char** argv);

}  // namespace nsbroker::itest
