// fuzz_bwrap_argv: the command line of the bwrap front (client/bwrap/) and of `nsbroker run`,
// parsed by the pure parse_run_options() into the Spawn request the client sends.
//
// Input: one flags byte (bit 0: `nsbroker run` instead of bwrap), then the words, each ended
// by a NUL (as in an --args file). A byte 0x1e ends the words: what follows it is the content
// of the --args file behind fds 3 and 4 (other fds cannot be read). The environment is fixed.
// Checks: the parse is deterministic; a request is one the daemon's strict decoder takes back
// unchanged, and structurally one the daemon accepts: fd indexes name attached data fds, each
// mount carries only the fields its kind takes, capability names are the daemon's, the
// cross-checks bubblewrap makes hold; an error says what was wrong.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/run_options.h"
#include "fuzz_support.h"
#include "policy/request_check.h"
#include "wire/message_codec.h"

namespace nsbroker::fuzz {
namespace {

constexpr char kArgsSeparator = '\x1e';

const std::vector<std::string_view>& environment() {
  static const std::vector<std::string_view> kEnvironment = {
      "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/alice", "LANG=C.UTF-8",
      "LD_PRELOAD=/tmp/x.so", "CODEX_SANDBOX=seccomp"};
  return kEnvironment;
}

bool is_bind(wire::MountKind kind) {
  return kind == wire::MOUNT_BIND || kind == wire::MOUNT_RO_BIND || kind == wire::MOUNT_DEV_BIND;
}

bool is_data(wire::MountKind kind) {
  return kind == wire::MOUNT_FILE || kind == wire::MOUNT_BIND_DATA || kind == wire::MOUNT_RO_BIND_DATA;
}

bool takes_perms(wire::MountKind kind) {
  return kind == wire::MOUNT_TMPFS || kind == wire::MOUNT_DIR || kind == wire::MOUNT_CHMOD || is_data(kind);
}

void check_data_fd(std::uint32_t index, const client::RunOptions& options, const std::string& what) {
  NSB_FUZZ_CHECK(index >= policy::kFirstDataFd && index - policy::kFirstDataFd < options.data_fds.size(),
                 what + " names data fd " + std::to_string(index) + " of " +
                     std::to_string(options.data_fds.size()) + " attached");
}

void check_request(const client::RunOptions& options, client::Front front) {
  const wire::Spawn& spawn = options.spawn;
  NSB_FUZZ_CHECK(spawn.argv_size() >= 1, "a request without a command");
  for (const std::string& entry : spawn.env()) {
    NSB_FUZZ_CHECK(entry.find('=') != std::string::npos, "environment entry without '=': " + printable(entry));
  }
  if (!spawn.hostname().empty()) NSB_FUZZ_CHECK(spawn.unshare().uts(), "--hostname without --unshare-uts");
  if (front == client::Front::kBwrap && spawn.as_pid_1()) {
    NSB_FUZZ_CHECK(spawn.unshare().pid(), "--as-pid-1 without --unshare-pid");
  }

  // Data fds: each attached once, each named by something in the request.
  std::set<int> attached(options.data_fds.begin(), options.data_fds.end());
  NSB_FUZZ_CHECK(attached.size() == options.data_fds.size(), "a data fd is attached twice");
  NSB_FUZZ_CHECK(std::all_of(options.data_fds.begin(), options.data_fds.end(), [](int fd) { return fd >= 0; }),
                 "a negative data fd");
  std::set<std::uint32_t> named;
  for (std::uint32_t index : spawn.seccomp_fds()) {
    check_data_fd(index, options, "a seccomp filter");
    named.insert(index);
  }

  for (int i = 0; i < spawn.mounts_size(); ++i) {
    const wire::MountOp& op = spawn.mounts(i);
    const wire::MountKind kind = op.kind();
    std::string what = "mount " + std::to_string(i) + " (" + policy::mount_option_name(kind) + ")";
    NSB_FUZZ_CHECK(wire::MountKind_IsValid(kind) && kind != wire::MOUNT_KIND_UNSPECIFIED, what + ": bad kind");
    NSB_FUZZ_CHECK(!op.dest().empty(), what + ": empty destination");
    NSB_FUZZ_CHECK(!op.has_perms() || (takes_perms(kind) && op.perms() <= 07777), what + ": permissions");
    NSB_FUZZ_CHECK(op.has_perms() || op.perms() == 0, what + ": perms without has_perms");
    NSB_FUZZ_CHECK(kind != wire::MOUNT_CHMOD || op.has_perms(), what + ": --chmod without a mode");
    NSB_FUZZ_CHECK(op.size_bytes() == 0 || kind == wire::MOUNT_TMPFS, what + ": a size on a mount other than tmpfs");
    NSB_FUZZ_CHECK(!op.ignore_missing_source() || is_bind(kind), what + ": a -try form of a non-bind");
    if (op.source_fd() != 0) {
      NSB_FUZZ_CHECK(is_bind(kind) || is_data(kind), what + ": an fd on a mount that takes none");
      NSB_FUZZ_CHECK(op.source().empty(), what + ": both an fd and a source path");
      check_data_fd(op.source_fd(), options, what);
      named.insert(op.source_fd());
    } else {
      NSB_FUZZ_CHECK(!is_data(kind), what + ": data without its fd");
      bool takes_source = is_bind(kind) || kind == wire::MOUNT_SYMLINK;
      NSB_FUZZ_CHECK(takes_source ? !op.source().empty() : op.source().empty(), what + ": source");
    }
    if (kind == wire::MOUNT_LOCK_FILE) NSB_FUZZ_CHECK(!spawn.as_pid_1(), "--lock-file with --as-pid-1");
  }
  NSB_FUZZ_CHECK(named.size() == options.data_fds.size(), "a data fd is attached but named by nothing");

  // Capabilities the daemon knows by the names the client sends.
  for (const std::string& name : spawn.cap_add()) {
    NSB_FUZZ_CHECK(policy::capability_mask(name).has_value(), "--cap-add " + printable(name) + " unknown to the daemon");
  }

  // The daemon's strict decoder takes the request back as it was.
  wire::ClientMessage message;
  *message.mutable_spawn() = spawn;
  std::string encoded = wire::encode(message);
  wire::ClientMessage decoded;
  std::string why;
  NSB_FUZZ_CHECK(wire::decode_client_message(encoded, decoded, why), "the daemon refuses the client's record: " + why);
  NSB_FUZZ_CHECK(wire::encode(decoded) == encoded, "the request changed through the daemon's decoder");
}

client::ParseOutcome parse(std::string_view words_data, std::string_view args_data, client::Front front,
                           std::vector<std::string_view>& words) {
  words = split_words(words_data);
  client::ParseContext context;
  context.front = front;
  context.read_args = [args_data](int fd) {
    client::ArgsData result;
    if (fd == 3 || fd == 4) result.bytes = std::string(args_data);
    else result.error = "Bad file descriptor";
    return result;
  };
  return client::parse_run_options(words, environment(), context);
}

}  // namespace
}  // namespace nsbroker::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nsbroker;
  using namespace nsbroker::fuzz;
  if (size == 0) return 0;
  const client::Front front = (data[0] & 1) ? client::Front::kRun : client::Front::kBwrap;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::size_t separator = rest.find(kArgsSeparator);
  std::string_view words_data = rest.substr(0, separator);
  std::string_view args_data = separator == std::string_view::npos ? std::string_view() : rest.substr(separator + 1);

  std::vector<std::string_view> words;
  client::ParseOutcome first = parse(words_data, args_data, front, words);
  std::vector<std::string_view> words_again;
  client::ParseOutcome second = parse(words_data, args_data, front, words_again);
  NSB_FUZZ_CHECK(first.kind == second.kind && first.error == second.error && first.warnings == second.warnings &&
                     first.level_prefix == second.level_prefix &&
                     wire::encode(first.options.spawn) == wire::encode(second.options.spawn),
                 "two parses of the same words differ");

  switch (first.kind) {
    case client::ParseKind::kRun: check_request(first.options, front); break;
    case client::ParseKind::kError: NSB_FUZZ_CHECK(!first.error.empty(), "an error without a message"); break;
    case client::ParseKind::kHelp:
    case client::ParseKind::kVersion: break;
  }
  for (const std::string& warning : first.warnings) NSB_FUZZ_CHECK(!warning.empty(), "an empty warning");
  return 0;
}
