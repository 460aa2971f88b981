// nsbroker-test-shared-root: runs a command in a new mount namespace whose `/` (and every
// mount below it) has `shared` propagation, the way systemd sets up a real host
// (DESIGN.md §3), so that the test suites can see mounts that propagate out of a sandbox.
//
//   nsbroker-test-shared-root COMMAND [ARGS...]
//
// Like `unshare --mount --propagation shared`, with one difference that matters on a host
// whose own `/` is already shared: the copied mounts are first made private, which cuts
// every peer link to the outer namespace, and only then shared again (new peer groups that
// exist only in the new namespace). Whatever the command mounts, or leaks, stays in it and
// disappears with its last process.
//
// Run by someone who cannot create a mount namespace (not root), it says so and runs the
// command unchanged: the suites skip their tests there anyway, and the suite binary itself
// refuses to run as root outside a shared root (--nsb-expect-shared-root), so a wrapper
// that did not take never goes unnoticed.
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  if (::unshare(CLONE_NEWNS) < 0) {
    int err = errno;
    if (::geteuid() != 0) {
      std::fprintf(stderr, "nsbroker-test-shared-root: unshare(CLONE_NEWNS): %s (not root): running %s "
                           "without a shared root\n", std::strerror(err), argv[1]);
    } else {
      std::fprintf(stderr, "nsbroker-test-shared-root: unshare(CLONE_NEWNS): %s\n", std::strerror(err));
      return 125;
    }
  } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
             ::mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) < 0) {
    std::fprintf(stderr, "nsbroker-test-shared-root: making / shared: %s\n", std::strerror(errno));
    return 125;
  }
  ::execvp(argv[1], argv + 1);
  std::fprintf(stderr, "nsbroker-test-shared-root: exec %s: %s\n", argv[1], std::strerror(errno));
  return 127;
}
