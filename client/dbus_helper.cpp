#include "client/dbus_helper.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "client/client_error.h"

#ifndef NSBROKER_DBUS_RUN_PATH
#define NSBROKER_DBUS_RUN_PATH "/usr/libexec/nsbroker/nsbroker-dbus-run"
#endif

namespace nsbroker::client {
namespace {

constexpr const char* kHelperName = "nsbroker-dbus-run";

std::string sibling_of_this_executable() {
  char self[4096];
  ssize_t length = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length <= 0) return {};
  std::string path(self, static_cast<std::size_t>(length));
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {};
  return path.substr(0, slash + 1) + kHelperName;
}

}  // namespace

std::string dbus_helper_path() {
  const char* chosen = std::getenv("NSBROKER_DBUS_RUN");
  if (chosen != nullptr && *chosen != '\0') return chosen;
  std::string sibling = sibling_of_this_executable();
  if (!sibling.empty() && ::access(sibling.c_str(), X_OK) == 0) return sibling;
  return NSBROKER_DBUS_RUN_PATH;
}

void exec_dbus_helper(std::span<const std::string_view> run_words) {
  std::string helper = dbus_helper_path();
  std::vector<std::string> words = {kHelperName, "run"};
  words.insert(words.end(), run_words.begin(), run_words.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  ::execv(helper.c_str(), argv.data());
  throw ClientError("--dbus needs " + helper + ": " + std::strerror(errno) +
                    " (install nsbroker's D-Bus helper, or set NSBROKER_DBUS_RUN)");
}

}  // namespace nsbroker::client
