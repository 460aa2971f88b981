// nsbroker-test-connect: does a SOCK_SEQPACKET Unix socket accept a connection?
//
//   nsbroker-test-connect [-q] PATH
//
// Exit 0 when connect() succeeds (the daemon is ready, by the definition the scripts and tests
// use), 1 when it does not (no such file, nobody listening, ...), 2 on a usage error.
// The connection is closed at once without sending anything; nsbrokerd treats that as a
// client that went away before saying Hello.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {
constexpr const char* kProg = "nsbroker-test-connect";

void print_usage(FILE* out) {
  std::fprintf(out,
               "usage: %s [-q] PATH\n"
               "Exits 0 if the SOCK_SEQPACKET Unix socket at PATH accepts a connection,\n"
               "1 if it does not (-q: say nothing), 2 on a usage error.\n",
               kProg);
}
}  // namespace

int main(int argc, char** argv) {
  bool quiet = false;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      print_usage(stdout);
      return 0;
    }
    if (arg == "-q") {
      quiet = true;
    } else if (path == nullptr && !arg.empty() && arg[0] != '-') {
      path = argv[i];
    } else {
      std::fprintf(stderr, "%s: unexpected argument '%s'\n", kProg, argv[i]);
      print_usage(stderr);
      return 2;
    }
  }
  if (path == nullptr) {
    print_usage(stderr);
    return 2;
  }

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof(addr.sun_path)) {
    std::fprintf(stderr, "%s: socket path too long: %s\n", kProg, path);
    return 2;
  }
  std::strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);

  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::fprintf(stderr, "%s: socket: %s\n", kProg, std::strerror(errno));
    return 1;
  }
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int connect_errno = errno;
  close(fd);
  if (rc != 0) {
    if (!quiet) {
      std::fprintf(stderr, "%s: %s: %s\n", kProg, path, std::strerror(connect_errno));
    }
    return 1;
  }
  return 0;
}
