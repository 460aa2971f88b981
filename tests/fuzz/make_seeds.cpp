// nsbroker-fuzz-seeds: writes the seed corpus of the fuzz targets (tests/fuzz/corpus/), made
// with the project's own encoder and parser:
//
//   build-fuzz/tests/fuzz/nsbroker-fuzz-seeds VECTORS_JSON OUT_DIR
//
// VECTORS_JSON is the captured Codex bwrap calls (<shared>/testdata/codex-bwrap-vectors.json);
// OUT_DIR receives record_decoder/, policy_loader/, bwrap_argv/ and evaluate/. Run by hand when
// the formats change; the result is committed, so fuzzing never reads the shared directory.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/run_options.h"
#include "codex_vectors.h"
#include "fuzz_support.h"
#include "wire/message_codec.h"
#include "wire/record_io.h"

namespace {

using namespace nsbroker;

int written = 0;

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "nsbroker-fuzz-seeds: mkdir %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(1);
  }
}

void write_seed(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "nsbroker-fuzz-seeds: cannot write %s\n", path.c_str());
    std::exit(1);
  }
  ++written;
}

std::string with_control(char control, const std::string& bytes) { return std::string(1, control) + bytes; }

// A Codex vector's argv without argv[0], as the bwrap front parses it.
std::vector<std::string_view> words_of(const itest::CodexVector& vector) {
  return std::vector<std::string_view>(vector.argv.begin() + 1, vector.argv.end());
}

std::optional<wire::Spawn> spawn_of(const itest::CodexVector& vector) {
  std::vector<std::string_view> words = words_of(vector);
  const std::vector<std::string_view> environment = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/alice"};
  client::ParseContext context{.front = client::Front::kBwrap, .read_args = nullptr};
  client::ParseOutcome parsed = client::parse_run_options(words, environment, context);
  if (parsed.kind != client::ParseKind::kRun) return std::nullopt;
  wire::Spawn spawn = parsed.options.spawn;
  spawn.set_cwd_path(vector.cwd);
  return spawn;
}

std::string joined(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view word : words) {
    out += word;
    out += '\0';
  }
  return out;
}

// The distinct argv vectors, at most `per_kind` of each kind, in file order.
std::vector<const itest::CodexVector*> distinct(const std::vector<itest::CodexVector>& vectors, std::size_t per_kind) {
  std::set<std::vector<std::string>> seen;
  std::map<std::string, std::size_t> taken;
  std::vector<const itest::CodexVector*> out;
  for (const itest::CodexVector& vector : vectors) {
    if (vector.argv.size() < 2 || !seen.insert(vector.argv).second) continue;
    if (taken[vector.kind]++ >= per_kind) continue;
    out.push_back(&vector);
  }
  return out;
}

void record_seeds(const std::string& dir, const std::vector<const itest::CodexVector*>& vectors) {
  wire::ClientMessage hello;
  hello.mutable_hello()->set_protocol_version(wire::kProtocolVersion);
  hello.mutable_hello()->set_software("nsbroker 0.1.0");
  write_seed(dir, "hello", with_control(0, wire::encode(hello)));
  wire::ClientMessage signal;
  signal.mutable_signal()->set_signal(15);
  write_seed(dir, "signal", with_control(0, wire::encode(signal)));
  // A Spawn with its stdio and cwd fds (4), and with one data fd more.
  int n = 0;
  for (const itest::CodexVector* vector : vectors) {
    auto spawn = spawn_of(*vector);
    if (!spawn) continue;
    wire::ClientMessage message;
    *message.mutable_spawn() = *spawn;
    char control = static_cast<char>(4 + (n % 2));
    write_seed(dir, "spawn-" + vector->kind + "-" + std::to_string(++n), with_control(control, wire::encode(message)));
  }
  // The same record near the size limit, and with more fds than a record may carry.
  write_seed(dir, "hello-padded", with_control(0x20, wire::encode(hello)));
  write_seed(dir, "hello-17-fds", with_control(17, wire::encode(hello)));
  // Field 99 (unknown to every message): the strict decoder must refuse it.
  write_seed(dir, "hello-unknown-field", with_control(0, wire::encode(hello) + std::string("\x98\x06\x01", 3)));
  // The daemon's answers, for the client's tolerant decoder.
  wire::ServerMessage started;
  started.mutable_started()->set_sandbox_id("sb-1");
  started.mutable_started()->set_pid(4242);
  write_seed(dir, "server-started", with_control(0x41, wire::encode(started)));
  wire::ServerMessage error;
  error.mutable_error()->set_code(wire::ERROR_DENIED);
  error.mutable_error()->set_message("denied by profile \"default\": mounts.deny \"/etc/shadow\"");
  write_seed(dir, "server-error", with_control(0x40, wire::encode(error)));
  wire::ServerMessage exited;
  exited.mutable_exited()->set_exit_code(7);
  exited.mutable_exited()->mutable_rusage()->set_user_usec(1200);
  exited.mutable_exited()->set_reason(wire::EXIT_REASON_EXITED);
  write_seed(dir, "server-exited", with_control(0x40, wire::encode(exited)));
}

void policy_seeds(const std::string& dir) {
  for (const fuzz::ShippedPolicy& shipped : fuzz::shipped_policies()) {
    std::string name = shipped.name;
    name = name.substr(name.rfind('/') + 1);
    write_seed(dir, name, shipped.text);
  }
}

void argv_seeds(const std::string& dir, const std::vector<const itest::CodexVector*>& vectors) {
  int n = 0;
  for (const itest::CodexVector* vector : vectors) {
    write_seed(dir, "codex-" + vector->kind + "-" + std::to_string(++n), with_control(0, joined(words_of(*vector))));
  }
  // --args: the options in the file behind fd 3, the command on the command line.
  std::string args = joined({"--ro-bind", "/", "/", "--dev", "/dev", "--unshare-pid", "--proc", "/proc"});
  write_seed(dir, "args-fd", with_control(0, joined({"--args", "3", "--", "/bin/true"}) + '\x1e' + args));
  // `nsbroker run` (flags bit 0) with its own options.
  write_seed(dir, "nsbroker-run",
             with_control(1, joined({"--socket", "/run/nsbroker/nsbroker.sock", "--unshare-all", "--ro-bind",
                                     "/usr", "/usr", "--perms", "700", "--tmpfs", "/tmp", "--setenv", "A", "",
                                     "--", "/usr/bin/id"})));
  write_seed(dir, "data-fds",
             with_control(0, joined({"--file", "5", "/etc/x", "--ro-bind-data", "6", "/etc/y", "--seccomp", "7",
                                     "--lock-file", "/tmp/l", "--uid", "0", "--cap-add", "ALL", "--cap-drop",
                                     "CAP_SYS_ADMIN", "--unshare-user", "--", "sh"})));
}

void evaluate_seeds(const std::string& dir, const std::vector<const itest::CodexVector*>& vectors) {
  // policy | userns | caller: default/alice/userns, codex/alice/userns, locked-down/bob/privileged,
  // shared-nas/carol (users)/privileged.
  const std::pair<const char*, char> selectors[] = {
      {"default", 0x04}, {"codex", 0x05}, {"locked-down", static_cast<char>(0x02 | (1 << 3))},
      {"shared-nas", static_cast<char>(0x03 | (4 << 3))}};
  int n = 0;
  for (const itest::CodexVector* vector : vectors) {
    auto spawn = spawn_of(*vector);
    if (!spawn) continue;
    ++n;
    for (const auto& [name, selector] : selectors) {
      std::string base = "codex-" + vector->kind + "-" + std::to_string(n) + "-" + name;
      write_seed(dir, base, with_control(selector, spawn->SerializeAsString()));
      // The same request as words (selector bit 6), for the client's parser to build.
      write_seed(dir, base + "-words", with_control(static_cast<char>(selector | 0x40), joined(words_of(*vector))));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s VECTORS_JSON OUT_DIR\n", argv[0]);
    return 2;
  }
  itest::VectorFile file = itest::load_codex_vectors(argv[1]);
  if (!file.error.empty()) {
    std::fprintf(stderr, "nsbroker-fuzz-seeds: %s: %s\n", argv[1], file.error.c_str());
    return 1;
  }
  std::string out = argv[2];
  make_dir(out);
  for (const char* target : {"record_decoder", "policy_loader", "bwrap_argv", "evaluate"}) make_dir(out + "/" + target);
  record_seeds(out + "/record_decoder", distinct(file.vectors, 2));
  policy_seeds(out + "/policy_loader");
  argv_seeds(out + "/bwrap_argv", distinct(file.vectors, 4));
  evaluate_seeds(out + "/evaluate", distinct(file.vectors, 2));
  std::printf("nsbroker-fuzz-seeds: wrote %d seed files under %s\n", written, out.c_str());
  return 0;
}
