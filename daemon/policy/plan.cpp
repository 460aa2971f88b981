#include "policy/plan.h"

namespace nsbroker::policy {

const char* to_string(SandboxMode mode) {
  return mode == SandboxMode::kUserNamespace ? "userns" : "privileged";
}

}  // namespace nsbroker::policy
