// The bubblewrap invocations Codex CLI makes, as captured in
// <shared>/testdata/codex-bwrap-vectors.json (see its README.md), loaded with a small JSON
// reader of our own (no new dependency). Used by the bwrap front's parser tests and by the
// integration test that replays them.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace nsbroker::itest {

struct CodexVector {
  std::size_t index = 0;      // position in the file, for test names
  std::string scenario;       // "agent", "exit7", ...
  std::string codex_version;  // "0.171.0"
  std::string kind;           // "help-probe", "startup-userns-probe", "proc-preflight", "main"
  std::optional<int> exit_code_of_codex;
  std::string stdio_isatty;                      // "isatty: in=0 out=0 err=0"
  std::string cwd;  // Codex's working directory, from the "process" field ("... cwd=/home/alice/project")
  std::vector<std::string> argv;                 // argv[0] is the bwrap Codex ran
  std::vector<std::string> extra_inherited_fds;  // "3 -> /dev/null"

  // The fd numbers of extra_inherited_fds (3, 4, ...).
  std::vector<int> extra_fd_numbers() const;
};

struct VectorFile {
  std::vector<CodexVector> vectors;
  std::string error;  // why the file could not be read or parsed; empty on success
};

// Reads and parses the file at `path`.
VectorFile load_codex_vectors(const std::string& path);

// <dir>/testdata/codex-bwrap-vectors.json for a shared directory `dir`.
std::string codex_vectors_path(const std::string& shared_dir);

// `text` (a path, or a script or JSON policy naming paths) with Codex's own paths moved below
// `root`: /home/alice, /tmp, /var/tmp and /var/lib/codex-home* become <root>/home/alice, ...
// Only whole leading path components match ("/var/tmp" is not rewritten as "/var" + "/tmp").
std::string reroot_codex_paths(const std::string& text, const std::string& root);

}  // namespace nsbroker::itest
