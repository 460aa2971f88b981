// The bridge between a Plan's PathRules (owning strings) and the spawner's allocation-free
// checker (sandbox/path_rules.h), which evaluate() also uses on the source strings, so that
// the string check and the as-opened check can never disagree on what a rule means.
#pragma once

#include "policy/plan.h"
#include "sandbox/path_rules.h"

namespace nsbroker::policy {

// Pointers into `rules`, which must outlive the result (and not change).
sandbox::ChildPathRules view_of(const PathRules& rules);

}  // namespace nsbroker::policy
