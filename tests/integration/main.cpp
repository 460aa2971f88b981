// nsbroker_integration_tests: GoogleTest main, plus the in-sandbox probe mode (helper_mode.h).
#include <gtest/gtest.h>

#include <cstring>

#include "helper_mode.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], nsbroker::itest::kHelperFlag) == 0) {
    return nsbroker::itest::run_helper(argc, argv);
  }
  if (argc > 0 && nsbroker::itest::is_codex_probe(argv[0])) nsbroker::itest::run_codex_probe(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
