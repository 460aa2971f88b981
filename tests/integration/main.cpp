// nsbroker_integration_tests: GoogleTest main, plus the in-sandbox probe mode (helper_mode.h)
// and the shared-root check (test_main.h).
#include "test_main.h"

int main(int argc, char** argv) { return nsbroker::itest::test_main(argc, argv); }
