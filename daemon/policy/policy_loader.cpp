#include "policy/policy_loader.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "policy.pb.h"
#include "policy/errno_names.h"
#include "wire/unique_fd.h"

namespace nsbroker::policy {
namespace {

namespace pb = google::protobuf;
namespace pf = nsbroker::policy_file;
using InfoTree = pb::TextFormat::ParseInfoTree;

// ---- positions and diagnostics ----------------------------------------------------------------

struct Position {
  int line = 1;  // 1-based
  int column = 1;
};

bool operator<(const Position& a, const Position& b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void add(Position at, std::string message) { items_.push_back({at, std::move(message)}); }
  bool empty() const { return items_.empty(); }
  std::size_t count() const { return items_.size(); }

  std::string where(Position at) const {
    return file_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
  }

  // In file order, so that a reader can work through them top to bottom.
  Failure failure() const {
    std::vector<Item> sorted = items_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Item& a, const Item& b) { return a.at < b.at; });
    std::string text;
    for (const Item& item : sorted) {
      if (!text.empty()) text += '\n';
      text += where(item.at) + ": " + one_line(item.message);
    }
    return fail(wire::ERROR_INVALID_ARGUMENT, std::move(text));
  }

  const std::string& file() const { return file_; }

 private:
  struct Item {
    Position at;
    std::string message;
  };
  static std::string one_line(std::string message) {
    std::replace(message.begin(), message.end(), '\n', ' ');
    return message;
  }
  std::string file_;
  std::vector<Item> items_;
};

// The text format parser's errors, with 1-based positions.
class ParseErrors final : public pb::io::ErrorCollector {
 public:
  ParseErrors(Diagnostics& out, std::string_view text) : out_(out), text_(text) {}

  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    std::string text = message;
    Position at{line < 0 ? 1 : line + 1, column < 0 ? 1 : column + 1};
    // For these the parser reports the token after the offending name: point at the name.
    for (std::string_view lead : {"has no field named \"", "Unknown enumeration value of \""}) {
      if (std::size_t found = text.find(lead); found != std::string::npos) {
        std::size_t start = found + lead.size();
        at = locate_before(at, text.substr(start, text.find('"', start) - start));
      }
    }
    if (text.find("has no field named") != std::string::npos) {
      text += " (unknown fields are errors: check the spelling against docs/policy.md)";
    }
    if (text.ends_with("got: ")) text += "the end of the file (a '{' without its '}'?)";
    out_.add(at, std::move(text));
  }

 private:
  // The last occurrence of `word` on line `at.line` that starts before `at.column`.
  Position locate_before(Position at, const std::string& word) const {
    std::size_t begin = 0;
    for (int line = 1; line < at.line && begin != std::string_view::npos; ++line) {
      begin = text_.find('\n', begin);
      if (begin != std::string_view::npos) ++begin;
    }
    if (begin == std::string_view::npos || word.empty()) return at;
    std::size_t end = text_.find('\n', begin);
    std::string_view line = text_.substr(begin, end == std::string_view::npos ? end : end - begin);
    // Columns count tabs as the tokenizer does (to the next multiple of 8); fine for
    // names on a line without tabs before them, which is the usual layout.
    std::size_t found = line.rfind(word, static_cast<std::size_t>(at.column - 1));
    if (found == std::string_view::npos || line.substr(0, found).find('\t') != std::string_view::npos) {
      return at;
    }
    return {at.line, static_cast<int>(found) + 1};
  }

  Diagnostics& out_;
  std::string_view text_;
};

// A message's place in the text: its ParseInfoTree (null when it was not written) and its
// own position, used for fields that were not written.
class Node {
 public:
  Node(const InfoTree* tree, Position self) : tree_(tree), self_(self) {}

  Position self() const { return self_; }

  Position at(const pb::Message& message, const char* field, int index = -1) const {
    const pb::FieldDescriptor* descriptor = field_of(message, field);
    if (tree_ != nullptr) {
      auto location = tree_->GetLocation(descriptor, descriptor->is_repeated() ? index : -1);
      // List syntax (`read_only: ["/a", "/b"]`) records one position, for the field name.
      if (location.line < 0 && descriptor->is_repeated() && index > 0) {
        location = tree_->GetLocation(descriptor, 0);
      }
      if (location.line >= 0) return {location.line + 1, location.column + 1};
    }
    return self_;
  }

  Node child(const pb::Message& message, const char* field, int index = -1) const {
    const pb::FieldDescriptor* descriptor = field_of(message, field);
    const InfoTree* nested =
        tree_ == nullptr ? nullptr
                         : tree_->GetTreeForNested(descriptor, descriptor->is_repeated() ? index : -1);
    return Node(nested, at(message, field, index));
  }

 private:
  static const pb::FieldDescriptor* field_of(const pb::Message& message, const char* field) {
    const pb::FieldDescriptor* descriptor = message.GetDescriptor()->FindFieldByName(field);
    // A misspelt name here is a programming error in this file, caught by the unit tests.
    if (descriptor == nullptr) std::abort();
    return descriptor;
  }
  const InfoTree* tree_;
  Position self_;
};

// ---- small checks -------------------------------------------------------------------------------

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// "/a//b/" -> "/a/b"; std::nullopt for "." and ".." components.
std::optional<std::string> canonical_form(std::string_view path) {
  std::string out;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(i, end - i);
    i = end + 1;
    if (part.empty()) continue;
    if (part == "." || part == "..") return std::nullopt;
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

// Why `path` is not an absolute canonical path, or nothing.
std::optional<std::string> path_problem(std::string_view path) {
  if (path.empty()) return std::string("the path is empty: write an absolute path such as \"/usr\"");
  if (path.find('\0') != std::string_view::npos) return std::string("the path contains a NUL byte");
  if (path.front() != '/') {
    return quoted(path) + " is not absolute: write it from the root, e.g. \"/" + std::string(path) + "\"";
  }
  auto canonical = canonical_form(path);
  if (!canonical) return quoted(path) + " contains \".\" or \"..\": write the path it stands for";
  if (*canonical != path) return quoted(path) + " is not canonical: write " + quoted(*canonical);
  return std::nullopt;
}

// Whether `prefix` is `path` or one of its ancestors, by whole components.
bool covers(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return !path.empty() && path.front() == '/';
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

bool valid_profile_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
  });
}

std::optional<std::string> variable_name_problem(std::string_view name, bool pattern_allowed) {
  if (name.empty()) return std::string("empty variable name");
  if (name.find('=') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return "variable name " + quoted(name) + " contains '=' or a NUL byte: write the name only";
  }
  std::size_t star = name.find('*');
  if (star != std::string_view::npos) {
    if (!pattern_allowed) return "variable name " + quoted(name) + " contains '*': force takes exact names";
    if (star != name.size() - 1) {
      return "pattern " + quoted(name) + " has '*' before its end: only a trailing '*' (a prefix) is supported";
    }
  }
  return std::nullopt;
}

// ---- the compiler -----------------------------------------------------------------------------

enum class ListKind { kReadOnly, kReadWrite, kDeny, kDevices };

const char* list_name(ListKind kind) {
  switch (kind) {
    case ListKind::kReadOnly: return "read_only";
    case ListKind::kReadWrite: return "read_write";
    case ListKind::kDeny: return "deny";
    case ListKind::kDevices: return "devices";
  }
  return "?";
}

struct PathItem {
  ListKind list;
  std::string path;
  Position at;
};

// Who already matches an id, for the overlap check across profiles.
struct MatchOwner {
  std::string profile;
  std::string text;
  Position at;
};

class Compiler {
 public:
  Compiler(const pf::PolicyFile& file, const InfoTree& tree, Diagnostics& out,
           const NameResolver& names, const std::vector<AlwaysDenied>& always_deny)
      : file_(file), root_(&tree, Position{}), out_(out), names_(names), always_deny_(always_deny) {}

  std::shared_ptr<const CompiledPolicy> run() {
    if (file_.profile_size() == 0) {
      error(root_.self(), "the policy has no profile: add at least one `profile { name: \"...\" }` "
                          "and name it in default_profile");
    }
    std::vector<CompiledProfile> profiles;
    std::map<std::string, Position> names;
    for (int i = 0; i < file_.profile_size(); ++i) {
      const pf::Profile& profile = file_.profile(i);
      Node node = root_.child(file_, "profile", i);
      if (!valid_profile_name(profile.name())) {
        error(node.at(profile, "name"),
              profile.name().empty()
                  ? std::string("profile without a name: add name: \"...\" ([A-Za-z0-9_.-]+)")
                  : "profile name " + quoted(profile.name()) +
                        " has characters other than A-Z a-z 0-9 _ . -: rename it");
      } else if (auto [it, inserted] = names.emplace(profile.name(), node.at(profile, "name"));
                 !inserted) {
        error(node.at(profile, "name"), "duplicate profile name " + quoted(profile.name()) +
                                            " (first at " + out_.where(it->second) +
                                            "): give each profile its own name");
      }
      profiles.push_back(compile_profile(profile, node));
    }
    int default_index = -1;
    if (!file_.default_profile().empty()) {
      for (int i = 0; i < file_.profile_size(); ++i) {
        if (file_.profile(i).name() == file_.default_profile()) {
          default_index = i;
          break;
        }
      }
      if (default_index < 0) {
        error(root_.at(file_, "default_profile"),
              "default_profile " + quoted(file_.default_profile()) +
                  " names no profile: use one of the profile names, or remove it to refuse "
                  "callers no profile matches");
      }
    }
    for (int i = 0; i < file_.profile_size(); ++i) {
      const pf::Profile& profile = file_.profile(i);
      const pf::Match& match = profile.match();
      bool matches_nobody = match.uid_size() + match.user_size() + match.gid_size() +
                                match.group_size() == 0;
      if (i != default_index && matches_nobody) {
        error(root_.child(file_, "profile", i).self(),
              "profile " + quoted(profile.name()) +
                  " matches nobody and is not the default_profile: add a match { uid/user/gid/"
                  "group } or name it in default_profile");
      }
    }
    DaemonSettings daemon;
    if (file_.has_daemon()) {
      Node node = root_.child(file_, "daemon");
      daemon.audit_json_file = file_.daemon().audit_json_file();
      if (!daemon.audit_json_file.empty()) {
        if (auto problem = path_problem(daemon.audit_json_file)) {
          error(node.at(file_.daemon(), "audit_json_file"), "daemon.audit_json_file: " + *problem);
        }
      }
    }
    if (!out_.empty()) return nullptr;
    return std::make_shared<const CompiledPolicy>(out_.file(), std::move(profiles), default_index,
                                                  std::move(daemon));
  }

 private:
  void error(Position at, std::string message) { out_.add(at, std::move(message)); }

  // Remembers where singular fields were written (or their block, when they were not).
  void record(CompiledProfile& out, const std::string& prefix, const Node& node,
              const pb::Message& message) {
    out.positions[prefix] = out_.where(node.self());
    const pb::Descriptor* descriptor = message.GetDescriptor();
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const pb::FieldDescriptor* field = descriptor->field(i);
      if (field->is_repeated()) continue;
      out.positions[prefix + "." + field->name()] = out_.where(node.at(message, field->name().c_str()));
    }
  }

  CompiledProfile compile_profile(const pf::Profile& profile, const Node& node) {
    CompiledProfile out;
    out.name = profile.name();
    out.where = out_.where(node.self());
    compile_match(profile, node, out);
    compile_namespaces(profile, node, out);
    compile_mounts(profile, node, out);
    compile_environment(profile, node, out);
    compile_seccomp(profile, node, out);
    record(out, "namespaces", node.child(profile, "namespaces"), profile.namespaces());
    record(out, "mounts", node.child(profile, "mounts"), profile.mounts());
    record(out, "environment", node.child(profile, "environment"), profile.environment());
    record(out, "seccomp", node.child(profile, "seccomp"), profile.seccomp());
    record(out, "limits", node.child(profile, "limits"), profile.limits());
    const pf::Limits& limits = profile.limits();
    if (limits.max_live_sandboxes() != 0) out.limits.max_live_sandboxes = limits.max_live_sandboxes();
    if (limits.max_spawns_per_minute() != 0) {
      out.limits.max_spawns_per_minute = limits.max_spawns_per_minute();
    }
    out.limits.wall_time_seconds = limits.wall_time_seconds();
    return out;
  }

  // ---- match

  void add_match(CompiledProfile& out, MatchEntry::Kind kind, unsigned id, std::string text,
                 Position at) {
    auto& owners = kind == MatchEntry::Kind::kUid ? uid_owners_ : gid_owners_;
    const char* what = kind == MatchEntry::Kind::kUid ? "uid " : "gid ";
    if (auto it = owners.find(id); it != owners.end()) {
      const MatchOwner& owner = it->second;
      if (owner.profile == out.name) {
        error(at, text + " matches " + what + std::to_string(id) + " again (already " +
                      owner.text + " at " + out_.where(owner.at) + "): remove one");
      } else {
        error(at, text + " overlaps profile " + quoted(owner.profile) + ": " + what +
                      std::to_string(id) + " is already matched there by " + owner.text + " at " +
                      out_.where(owner.at) + "; a caller gets one profile, so match it in one");
      }
      return;
    }
    owners.emplace(id, MatchOwner{out.name, text, at});
    out.match.push_back(MatchEntry{kind, id, std::move(text), out_.where(at)});
  }

  void compile_match(const pf::Profile& profile, const Node& node, CompiledProfile& out) {
    const pf::Match& match = profile.match();
    Node m = node.child(profile, "match");
    for (int i = 0; i < match.uid_size(); ++i) {
      add_match(out, MatchEntry::Kind::kUid, match.uid(i), "match.uid " + std::to_string(match.uid(i)),
                m.at(match, "uid", i));
    }
    for (int i = 0; i < match.user_size(); ++i) {
      Position at = m.at(match, "user", i);
      auto uid = names_.user_id(match.user(i));
      if (!uid) {
        error(at, "unknown user " + quoted(match.user(i)) +
                      ": no such user on this system (getpwnam); create it first or use match.uid");
        continue;
      }
      add_match(out, MatchEntry::Kind::kUid, *uid,
                "match.user " + quoted(match.user(i)) + " (uid " + std::to_string(*uid) + ")", at);
    }
    for (int i = 0; i < match.gid_size(); ++i) {
      add_match(out, MatchEntry::Kind::kGid, match.gid(i), "match.gid " + std::to_string(match.gid(i)),
                m.at(match, "gid", i));
    }
    for (int i = 0; i < match.group_size(); ++i) {
      Position at = m.at(match, "group", i);
      auto gid = names_.group_id(match.group(i));
      if (!gid) {
        error(at, "unknown group " + quoted(match.group(i)) +
                      ": no such group on this system (getgrnam); create it first or use match.gid");
        continue;
      }
      add_match(out, MatchEntry::Kind::kGid, *gid,
                "match.group " + quoted(match.group(i)) + " (gid " + std::to_string(*gid) + ")", at);
    }
  }

  // ---- namespaces

  static NamespaceRule rule_of(pf::Namespaces::Rule rule) {
    switch (rule) {
      case pf::Namespaces::REQUIRED: return NamespaceRule::kRequired;
      case pf::Namespaces::FORBIDDEN: return NamespaceRule::kForbidden;
      default: return NamespaceRule::kAllowed;
    }
  }

  void compile_namespaces(const pf::Profile& profile, const Node& node, CompiledProfile& out) {
    const pf::Namespaces& ns = profile.namespaces();
    Node n = node.child(profile, "namespaces");
    out.namespaces.net = rule_of(ns.net());
    out.namespaces.ipc = rule_of(ns.ipc());
    out.namespaces.uts = rule_of(ns.uts());
    out.namespaces.cgroup = rule_of(ns.cgroup());
    out.namespaces.allow_user_namespace = ns.allow_user_namespace();
    out.namespaces.allow_root_inside = ns.allow_root_inside();
    if (ns.allow_root_inside() && !ns.allow_user_namespace()) {
      error(n.at(ns, "allow_root_inside"),
            "allow_root_inside needs allow_user_namespace: true (root inside exists only in a "
            "user namespace): set both or remove allow_root_inside");
    }
  }

  // ---- mounts

  void collect_paths(const pf::Mounts& mounts, const Node& node, const char* field, ListKind kind,
                     std::vector<PathItem>& items) {
    const pb::RepeatedPtrField<std::string>* list = nullptr;
    switch (kind) {
      case ListKind::kReadOnly: list = &mounts.read_only(); break;
      case ListKind::kReadWrite: list = &mounts.read_write(); break;
      case ListKind::kDeny: list = &mounts.deny(); break;
      case ListKind::kDevices: list = &mounts.devices(); break;
    }
    for (int i = 0; i < list->size(); ++i) {
      Position at = node.at(mounts, field, i);
      if (auto problem = path_problem(list->Get(i))) {
        error(at, std::string("mounts.") + field + ": " + *problem);
        continue;
      }
      items.push_back(PathItem{kind, list->Get(i), at});
    }
  }

  // Two entries about the same place. Reported at the later one in the file (for equal
  // paths) or at the inner one (for nested paths), naming the other.
  void check_pair(const PathItem& a, const PathItem& b) {
    auto name = [](const PathItem& item) {
      return std::string("mounts.") + list_name(item.list) + " " + quoted(item.path);
    };
    if (a.path == b.path) {
      const PathItem& later = b.at < a.at ? a : b;
      const PathItem& earlier = b.at < a.at ? b : a;
      if (a.list == b.list) {
        error(later.at, "duplicate " + name(later) + " (also at " + out_.where(earlier.at) +
                            "): remove one");
        return;
      }
      bool involves_deny = a.list == ListKind::kDeny || b.list == ListKind::kDeny;
      bool read_pair = (a.list == ListKind::kReadOnly && b.list == ListKind::kReadWrite) ||
                       (a.list == ListKind::kReadWrite && b.list == ListKind::kReadOnly);
      if (involves_deny || read_pair) {
        error(later.at, "contradictory: " + name(later) + " and " + name(earlier) + " (at " +
                            out_.where(earlier.at) + ") name the same path; keep the one you mean");
      }
      return;
    }
    // Is b inside a?
    if (!covers(a.path, b.path)) return;
    if (a.list == b.list) {
      error(b.at, "overlapping: " + name(b) + " is already covered by " + name(a) + " (at " +
                      out_.where(a.at) + "): remove the inner entry");
    } else if (a.list == ListKind::kDeny) {
      error(b.at, "contradictory: " + name(b) + " lies inside " + name(a) + " (at " +
                      out_.where(a.at) + ") and deny always wins, so it can never apply: remove "
                      "it or narrow the deny entry");
    } else if (a.list == ListKind::kReadWrite && b.list == ListKind::kReadOnly) {
      error(b.at, "overlapping: " + name(b) + " lies inside " + name(a) + " (at " +
                      out_.where(a.at) + "), which already allows read-only binds: remove it "
                      "(to keep something out of a writable tree, use deny)");
    }
  }

  void compile_mounts(const pf::Profile& profile, const Node& node, CompiledProfile& out) {
    const pf::Mounts& mounts = profile.mounts();
    Node m = node.child(profile, "mounts");
    std::vector<PathItem> items;
    collect_paths(mounts, m, "read_only", ListKind::kReadOnly, items);
    collect_paths(mounts, m, "read_write", ListKind::kReadWrite, items);
    collect_paths(mounts, m, "deny", ListKind::kDeny, items);
    collect_paths(mounts, m, "devices", ListKind::kDevices, items);
    for (std::size_t i = 0; i < items.size(); ++i) {
      for (std::size_t j = 0; j < items.size(); ++j) {
        if (i == j) continue;
        // Equal paths are one pair: look at them once.
        if (items[i].path == items[j].path && j < i) continue;
        check_pair(items[i], items[j]);
      }
    }
    MountRules& rules = out.mounts;
    rules.paths.enforce = true;
    for (const PathItem& item : items) {
      std::string where = out_.where(item.at);
      switch (item.list) {
        case ListKind::kReadOnly:
          rules.paths.read_only.push_back(item.path);
          rules.origins.read_only.push_back(where);
          break;
        case ListKind::kReadWrite:
          rules.paths.read_write.push_back(item.path);
          rules.origins.read_write.push_back(where);
          break;
        case ListKind::kDeny:
          rules.paths.deny.push_back(item.path);
          rules.origins.deny.push_back(where);
          break;
        case ListKind::kDevices:
          rules.paths.devices.push_back(item.path);
          rules.origins.devices.push_back(where);
          break;
      }
    }
    // The daemon's own paths, unless the file already denies them (the default policy's
    // deny "/run/nsbroker" covers the default socket).
    for (const AlwaysDenied& denied : always_deny_) {
      bool covered = std::any_of(rules.paths.deny.begin(), rules.paths.deny.end(),
                                 [&](const std::string& entry) { return covers(entry, denied.path); });
      if (covered) continue;
      rules.paths.deny.push_back(denied.path);
      rules.origins.deny.push_back(denied.origin);
    }
    rules.paths.deny_other_users_homes = mounts.deny_other_users_homes();
    if (!mounts.homes_root().empty()) {
      Position at = m.at(mounts, "homes_root");
      if (!mounts.deny_other_users_homes()) {
        error(at, "mounts.homes_root is only used with deny_other_users_homes: true: set that "
                  "or remove homes_root");
      } else if (auto problem = path_problem(mounts.homes_root())) {
        error(at, "mounts.homes_root: " + *problem);
      } else if (mounts.homes_root() == "/") {
        error(at, "mounts.homes_root \"/\" would make every top-level directory someone's home: "
                  "name the directory that holds the homes, e.g. \"/home\"");
      }
    }
    if (mounts.deny_other_users_homes()) {
      rules.paths.homes_root = mounts.homes_root().empty() ? "/home" : mounts.homes_root();
    }
    rules.paths.create_missing_mount_points = mounts.create_missing_mount_points();
    rules.allow_proc = mounts.allow_proc();
    rules.allow_dev = mounts.allow_dev();
    rules.allow_tmpfs = mounts.allow_tmpfs();
    rules.tmpfs_max_bytes = mounts.tmpfs_max_bytes();
    if (mounts.tmpfs_max_bytes() != 0 && !mounts.allow_tmpfs()) {
      error(m.at(mounts, "tmpfs_max_bytes"),
            "mounts.tmpfs_max_bytes is set but allow_tmpfs is not: set allow_tmpfs: true or "
            "remove the cap");
    }
  }

  // ---- environment

  void compile_environment(const pf::Profile& profile, const Node& node, CompiledProfile& out) {
    const pf::Environment& env = profile.environment();
    Node e = node.child(profile, "environment");
    std::map<std::string, Position> stripped;
    for (int i = 0; i < env.strip_size(); ++i) {
      Position at = e.at(env, "strip", i);
      const std::string& name = env.strip(i);
      if (auto problem = variable_name_problem(name, true)) {
        error(at, "environment.strip: " + *problem);
        continue;
      }
      if (auto [it, inserted] = stripped.emplace(name, at); !inserted) {
        error(at, "duplicate environment.strip " + quoted(name) + " (also at " +
                      out_.where(it->second) + "): remove one");
        continue;
      }
      out.environment.strip.push_back(name);
    }
    std::map<std::string, Position> forced;
    for (int i = 0; i < env.force_size(); ++i) {
      const pf::Variable& variable = env.force(i);
      Node v = e.child(env, "force", i);
      Position at = v.at(variable, "name");
      if (auto problem = variable_name_problem(variable.name(), false)) {
        error(at, "environment.force: " + *problem);
        continue;
      }
      if (variable.value().find('\0') != std::string::npos) {
        error(v.at(variable, "value"), "environment.force " + quoted(variable.name()) +
                                           ": the value contains a NUL byte");
        continue;
      }
      if (auto [it, inserted] = forced.emplace(variable.name(), at); !inserted) {
        error(at, "duplicate environment.force " + quoted(variable.name()) + " (also at " +
                      out_.where(it->second) + "): keep one value");
        continue;
      }
      if (auto it = stripped.find(variable.name()); it != stripped.end()) {
        error(at, "contradictory: environment.force " + quoted(variable.name()) +
                      " and environment.strip of the same name (at " + out_.where(it->second) +
                      "); a forced variable replaces the client's anyway: remove the strip");
        continue;
      }
      out.environment.force.emplace_back(variable.name(), variable.value());
    }
    out.environment.max_args = env.max_args();
    out.environment.max_env = env.max_env();
    out.environment.max_total_bytes = env.max_total_bytes();
  }

  // ---- seccomp

  static std::optional<sandbox::SyscallRule::Op> op_of(pf::ArgCondition::Op op) {
    switch (op) {
      case pf::ArgCondition::EQ: return sandbox::SyscallRule::Op::kEq;
      case pf::ArgCondition::NE: return sandbox::SyscallRule::Op::kNe;
      case pf::ArgCondition::LT: return sandbox::SyscallRule::Op::kLt;
      case pf::ArgCondition::LE: return sandbox::SyscallRule::Op::kLe;
      case pf::ArgCondition::GT: return sandbox::SyscallRule::Op::kGt;
      case pf::ArgCondition::GE: return sandbox::SyscallRule::Op::kGe;
      case pf::ArgCondition::MASKED_EQ: return sandbox::SyscallRule::Op::kMaskedEq;
      default: return std::nullopt;
    }
  }

  // A rule's identity for the duplicate check: the syscall and its conditions, in index order.
  static std::string rule_key(const sandbox::SyscallRule& rule) {
    std::vector<std::string> parts;
    for (const auto& c : rule.conditions) {
      parts.push_back(std::to_string(c.index) + ":" + std::to_string(static_cast<int>(c.op)) + ":" +
                      std::to_string(c.value) + ":" + std::to_string(c.mask));
    }
    std::sort(parts.begin(), parts.end());
    std::string key = rule.syscall;
    for (const std::string& part : parts) key += "|" + part;
    return key;
  }

  std::optional<sandbox::SyscallRule> compile_rule(const pf::SyscallRule& rule, const Node& r) {
    bool ok = true;
    sandbox::SyscallRule out;
    out.syscall = rule.syscall();
    Position syscall_at = r.at(rule, "syscall");
    if (rule.syscall().empty()) {
      error(syscall_at, "seccomp rule without a syscall: add syscall: \"name\"");
      ok = false;
    } else if (seccomp_syscall_resolve_name(rule.syscall().c_str()) == __NR_SCMP_ERROR) {
      error(syscall_at, "unknown syscall " + quoted(rule.syscall()) +
                            ": use libseccomp's name (e.g. \"socket\", \"ioctl\"; "
                            "`scmp_sys_resolver NAME` checks one)");
      ok = false;
    } else if (auto base = sandbox::SeccompProgram::base_unconditional_errno(rule.syscall())) {
      error(syscall_at, "syscall " + quoted(rule.syscall()) +
                            " is always refused by the base filter (" + errno_name(*base) +
                            "), which a profile cannot change: remove this rule");
      ok = false;
    }
    Position action_at = r.at(rule, "action");
    if (rule.action() == "KILL") {
      out.action = sandbox::SyscallRule::Action::kKillProcess;
    } else if (auto number = errno_from_name(rule.action())) {
      out.action = sandbox::SyscallRule::Action::kErrno;
      out.error = *number;
    } else {
      error(action_at, (rule.action().empty() ? std::string("seccomp rule without an action")
                                              : "unknown action " + quoted(rule.action())) +
                           ": use \"KILL\" or one of the errno names " + known_errno_names());
      ok = false;
    }
    std::map<unsigned, Position> indexes;
    for (int i = 0; i < rule.arg_size(); ++i) {
      const pf::ArgCondition& arg = rule.arg(i);
      Node a = r.child(rule, "arg", i);
      Position index_at = a.at(arg, "index");
      if (arg.index() > 5) {
        error(index_at, "arg.index " + std::to_string(arg.index()) +
                            " is out of range: syscalls have arguments 0 to 5");
        ok = false;
        continue;
      }
      if (auto [it, inserted] = indexes.emplace(arg.index(), a.self()); !inserted) {
        error(a.self(), "argument " + std::to_string(arg.index()) +
                            " is compared twice in one rule (also at " + out_.where(it->second) +
                            "): libseccomp allows one condition per argument; split the rule");
        ok = false;
        continue;
      }
      auto op = op_of(arg.op());
      if (!op) {
        error(a.at(arg, "op"), "arg without op: add op: EQ, NE, LT, LE, GT, GE or MASKED_EQ");
        ok = false;
        continue;
      }
      if (*op != sandbox::SyscallRule::Op::kMaskedEq && arg.mask() != 0) {
        error(a.at(arg, "mask"), "arg.mask is only used with op: MASKED_EQ: remove it or change the op");
        ok = false;
        continue;
      }
      if (*op == sandbox::SyscallRule::Op::kMaskedEq) {
        if (arg.mask() == 0) {
          error(a.at(arg, "op"), "MASKED_EQ needs a non-zero mask: add mask: 0x...");
          ok = false;
          continue;
        }
        if ((arg.value() & ~arg.mask()) != 0) {
          error(a.at(arg, "value"), "arg.value has bits outside arg.mask, so the condition can "
                                    "never hold: clear them from the value or widen the mask");
          ok = false;
          continue;
        }
      }
      out.conditions.push_back({arg.index(), *op, arg.value(), arg.mask()});
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void compile_seccomp(const pf::Profile& profile, const Node& node, CompiledProfile& out) {
    const pf::Seccomp& seccomp = profile.seccomp();
    Node s = node.child(profile, "seccomp");
    out.accept_client_filter = seccomp.accept_client_filter();
    std::size_t errors_before = out_.count();
    std::map<std::string, Position> seen;
    std::vector<Position> positions;
    for (int i = 0; i < seccomp.rule_size(); ++i) {
      Node r = s.child(seccomp, "rule", i);
      auto rule = compile_rule(seccomp.rule(i), r);
      if (!rule) continue;
      if (auto [it, inserted] = seen.emplace(rule_key(*rule), r.self()); !inserted) {
        error(r.self(), "seccomp rule for " + quoted(rule->syscall) +
                            " has the same syscall and conditions as the rule at " +
                            out_.where(it->second) + ": merge them into one rule with one action");
        continue;
      }
      out.syscall_rules.push_back(std::move(*rule));
      positions.push_back(r.self());
    }
    if (out_.count() != errors_before) return;
    auto program = sandbox::SeccompProgram::compile(out.syscall_rules);
    if (!program) {
      // Find the first rule libseccomp refuses, to point at it.
      Position at = s.self();
      for (std::size_t n = 1; n <= out.syscall_rules.size(); ++n) {
        std::vector<sandbox::SyscallRule> prefix(out.syscall_rules.begin(),
                                                 out.syscall_rules.begin() + static_cast<long>(n));
        if (!sandbox::SeccompProgram::compile(prefix)) {
          at = positions[n - 1];
          break;
        }
      }
      error(at, program.failure().message);
      return;
    }
    out.seccomp = std::make_shared<const sandbox::SeccompProgram>(std::move(program.value()));
  }

  const pf::PolicyFile& file_;
  Node root_;
  Diagnostics& out_;
  const NameResolver& names_;
  const std::vector<AlwaysDenied>& always_deny_;
  std::map<unsigned, MatchOwner> uid_owners_;
  std::map<unsigned, MatchOwner> gid_owners_;
};

// ---- reading the file ---------------------------------------------------------------------------

std::optional<std::string> untrusted_because(const struct stat& st, const std::string& what) {
  if (st.st_uid != 0) return what + " is not owned by root";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return what + " is writable by group or others";
  return std::nullopt;
}

std::string parent_directory(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<std::string> read_policy(const std::string& path, const LoadOptions& options) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    return fail(wire::ERROR_INVALID_ARGUMENT,
                path + ":1:1: cannot open the policy file: " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail(wire::ERROR_INVALID_ARGUMENT, path + ":1:1: the policy file is not a regular file");
  }
  if (options.require_root_owned) {
    struct stat dir {};
    std::string parent = parent_directory(path);
    std::optional<std::string> problem = untrusted_because(st, "the file");
    if (!problem) {
      if (::stat(parent.c_str(), &dir) != 0) problem = "its directory cannot be examined";
      else problem = untrusted_because(dir, "its directory " + parent);
    }
    if (problem) {
      return fail(wire::ERROR_INVALID_ARGUMENT,
                  path + ":1:1: refusing the policy file: " + *problem +
                      ", so someone other than root could change who may do what; "
                      "chown root: and chmod go-w it");
    }
  }
  std::string text;
  char buffer[16384];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return fail(wire::ERROR_INVALID_ARGUMENT,
                  path + ":1:1: cannot read the policy file: " + std::strerror(errno));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxPolicyBytes) {
      return fail(wire::ERROR_INVALID_ARGUMENT,
                  path + ":1:1: the policy file is larger than " +
                      std::to_string(kMaxPolicyBytes) + " bytes");
    }
  }
  return text;
}

}  // namespace

PolicyResult load_policy_text(std::string_view text, const std::string& display_name,
                              const LoadOptions& options) {
  Diagnostics diagnostics(display_name);
  pf::PolicyFile file;
  InfoTree tree;
  ParseErrors parse_errors(diagnostics, text);
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&parse_errors);
  parser.WriteLocationsTo(&tree);
  // Unknown fields and extensions stay errors (the parser's default); said here so that
  // nobody relaxes it by accident.
  parser.AllowUnknownField(false);
  parser.AllowUnknownExtension(false);
  if (!parser.ParseFromString(std::string(text), &file)) {
    if (diagnostics.empty()) diagnostics.add({}, "the policy file could not be parsed");
    return diagnostics.failure();
  }
  Compiler compiler(file, tree, diagnostics, options.names ? *options.names : system_names(),
                    options.always_deny);
  auto policy = compiler.run();
  if (!policy) return diagnostics.failure();
  return policy;
}

PolicyResult load_policy_file(const std::string& path, const LoadOptions& options) {
  auto text = read_policy(path, options);
  if (!text) return text.failure();
  return load_policy_text(text.value(), path, options);
}

std::vector<std::string> error_lines(const Failure& failure) {
  std::vector<std::string> lines;
  std::istringstream in(failure.message);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace nsbroker::policy
