#include "test_main.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "harness.h"
#include "helper_mode.h"

namespace nsbroker::itest {

std::optional<std::string> root_not_shared(std::string* report) {
  // What an administrator would run.
  ProcessSpec findmnt;
  findmnt.argv = {"findmnt", "-n", "-o", "TARGET,PROPAGATION", "/"};
  findmnt.uid = std::nullopt;
  findmnt.timeout = 10s;
  ProcessResult r = run_process(findmnt);
  if (report) *report = r.out;
  std::istringstream words(r.out);
  std::string target, propagation;
  words >> target >> propagation;
  if (r.exit_code != 0 || target != "/") return "findmnt -o TARGET,PROPAGATION / failed: " + r.describe();
  if (propagation != "shared") return "findmnt says / is \"" + propagation + "\", not shared";
  // And what the kernel says: the optional fields of the "/" line carry "shared:N".
  for (const std::string& line : lines_of(read_own_proc("mountinfo").value_or(""))) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point, options, field;
    if (!(fields >> id >> parent >> devno >> root >> point >> options) || point != "/") continue;
    bool shared = false;
    while (fields >> field && field != "-") shared = shared || field.rfind("shared:", 0) == 0;
    if (!shared) return "/proc/self/mountinfo: / has no shared: peer group: " + line;
  }
  return std::nullopt;
}

int test_main(int argc, char** argv, const ExtraProbes& extra_probes) {
  if (argc > 1 && std::strcmp(argv[1], kHelperFlag) == 0) {
    if (extra_probes) {
      // _exit, as run_helper does: no static destructors and no leak check (LeakSanitizer
      // needs ptrace, which the sandbox's seccomp filter refuses).
      if (std::optional<int> code = extra_probes(argc, argv)) ::_exit(*code);
    }
    return run_helper(argc, argv);
  }
  if (argc > 0 && is_codex_probe(argv[0])) run_codex_probe(argc, argv);

  read_own_proc("mountinfo");  // pins the test's own procfs before any test runs
  std::vector<char*> args(argv, argv + argc);
  bool expect_shared_root = false;
  for (auto it = args.begin() + 1; it != args.end();) {
    if (std::strcmp(*it, kExpectSharedRootFlag) == 0) {
      expect_shared_root = true;
      it = args.erase(it);
    } else {
      ++it;
    }
  }
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  ::testing::InitGoogleTest(&count, args.data());
  if (expect_shared_root) {
    if (::geteuid() != 0) {
      std::printf("note: %s given, but not root: the tests skip, the root is not checked\n",
                  kExpectSharedRootFlag);
    } else {
      std::string line;
      if (auto why = root_not_shared(&line)) {
        std::fprintf(stderr,
                     "FATAL: this is the shared-root run (%s) but %s.\nThe suite must run under "
                     "nsbroker-test-shared-root (see tests/CMakeLists.txt); refusing to run.\n",
                     kExpectSharedRootFlag, why->c_str());
        return 1;
      }
      std::printf("shared-root run: findmnt -o TARGET,PROPAGATION / -> %s", line.c_str());
    }
  }
  return RUN_ALL_TESTS();
}

}  // namespace nsbroker::itest
