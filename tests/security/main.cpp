// nsbroker_security_tests: the hostile-caller suite of issue 8. GoogleTest main, the in-sandbox
// probes (the integration ones and probes.h) and the shared-root check (test_main.h).
#include "probes.h"
#include "test_main.h"

int main(int argc, char** argv) {
  return nsbroker::itest::test_main(argc, argv, nsbroker::sectest::run_security_probe);
}
