// Networking inside a new network namespace: only loopback, up, with 127.0.0.1/8 and ::1
// (the kernel assigns both when lo comes up).
#pragma once

namespace nsbroker::sandbox {

// Returns false with errno set.
bool bring_up_loopback();

}  // namespace nsbroker::sandbox
