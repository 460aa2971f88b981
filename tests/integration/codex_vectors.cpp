#include "codex_vectors.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <variant>

namespace nsbroker::itest {
namespace {

// A JSON value: just enough of the format for the vector file (objects, arrays, strings,
// numbers, true/false/null), with errors that say where.
struct Json;
using JsonObject = std::map<std::string, Json>;
using JsonArray = std::vector<Json>;

struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<JsonArray>,
               std::shared_ptr<JsonObject>>
      value;

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(value); }
  const std::string* string() const { return std::get_if<std::string>(&value); }
  const double* number() const { return std::get_if<double>(&value); }
  const JsonArray* array() const {
    auto p = std::get_if<std::shared_ptr<JsonArray>>(&value);
    return p ? p->get() : nullptr;
  }
  const JsonObject* object() const {
    auto p = std::get_if<std::shared_ptr<JsonObject>>(&value);
    return p ? p->get() : nullptr;
  }
};

class Reader {
 public:
  explicit Reader(const std::string& text) : text_(text) {}

  Json document() {
    Json value = parse_value();
    skip_space();
    if (at_ < text_.size()) fail("trailing characters");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON error at byte " + std::to_string(at_) + ": " + what);
  }

  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' ||
                                  text_[at_] == '\t')) {
      ++at_;
    }
  }

  char peek() {
    skip_space();
    if (at_ >= text_.size()) fail("unexpected end");
    return text_[at_];
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++at_;
  }

  bool take_word(const char* word) {
    std::string_view w(word);
    if (text_.compare(at_, w.size(), w) != 0) return false;
    at_ += w.size();
    return true;
  }

  Json parse_value() {
    char c = peek();
    if (c == '{') return parse_object();
    if (c == '[') return parse_array();
    if (c == '"') return Json{parse_string()};
    if (take_word("true")) return Json{true};
    if (take_word("false")) return Json{false};
    if (take_word("null")) return Json{nullptr};
    return parse_number();
  }

  // "{...}" or "[...]": `item` reads one member or element; commas separate them.
  template <typename Item>
  void parse_list(char open, char close, Item item) {
    expect(open);
    if (peek() == close) {
      ++at_;
      return;
    }
    do item();
    while (peek() == ',' && ++at_);
    expect(close);
  }

  Json parse_object() {
    auto object = std::make_shared<JsonObject>();
    parse_list('{', '}', [&] {
      if (peek() != '"') fail("expected a member name");
      std::string name = parse_string();
      expect(':');
      (*object)[name] = parse_value();
    });
    return Json{object};
  }

  Json parse_array() {
    auto array = std::make_shared<JsonArray>();
    parse_list('[', ']', [&] { array->push_back(parse_value()); });
    return Json{array};
  }

  Json parse_number() {
    const char* begin = text_.c_str() + at_;
    char* end = nullptr;
    double number = std::strtod(begin, &end);
    if (end == begin) fail("expected a value");
    at_ += static_cast<std::size_t>(end - begin);
    return Json{number};
  }

  unsigned hex4() {
    if (at_ + 4 > text_.size()) fail("short \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[at_++];
      value <<= 4;
      if (c >= '0' && c <= '9') value |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') value |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') value |= static_cast<unsigned>(c - 'A' + 10);
      else fail("bad \\u escape");
    }
    return value;
  }

  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xc0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xe0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    }
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    for (;;) {
      if (at_ >= text_.size()) fail("unterminated string");
      char c = text_[at_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) fail("unterminated escape");
      char e = text_[at_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned code = hex4();
          if (code >= 0xd800 && code < 0xdc00 && text_.compare(at_, 2, "\\u") == 0) {
            at_ += 2;
            unsigned low = hex4();
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          }
          append_utf8(out, code);
          break;
        }
        default: fail(std::string("bad escape \\") + e);
      }
    }
  }

  const std::string& text_;
  std::size_t at_ = 0;
};

std::string string_member(const JsonObject& object, const std::string& name) {
  auto found = object.find(name);
  if (found == object.end() || !found->second.string()) {
    throw std::runtime_error("member \"" + name + "\" is missing or not a string");
  }
  return *found->second.string();
}

std::vector<std::string> strings_member(const JsonObject& object, const std::string& name) {
  auto found = object.find(name);
  if (found == object.end() || !found->second.array()) {
    throw std::runtime_error("member \"" + name + "\" is missing or not an array");
  }
  std::vector<std::string> strings;
  for (const Json& item : *found->second.array()) {
    if (!item.string()) throw std::runtime_error("member \"" + name + "\" holds a non-string");
    strings.push_back(*item.string());
  }
  return strings;
}

CodexVector to_vector(const Json& json, std::size_t index) {
  const JsonObject* object = json.object();
  if (!object) throw std::runtime_error("entry " + std::to_string(index) + " is not an object");
  CodexVector v;
  v.index = index;
  v.scenario = string_member(*object, "scenario");
  v.codex_version = string_member(*object, "codex_version");
  v.kind = string_member(*object, "kind");
  v.stdio_isatty = string_member(*object, "stdio_isatty");
  std::string process = string_member(*object, "process");
  std::size_t cwd = process.find("cwd=");
  if (cwd != std::string::npos) v.cwd = process.substr(cwd + 4, process.find(' ', cwd) - cwd - 4);
  v.argv = strings_member(*object, "argv");
  v.extra_inherited_fds = strings_member(*object, "extra_inherited_fds");
  auto code = object->find("exit_code_of_codex");
  // A number, or (as captured) a string holding one; null when unknown.
  if (code != object->end() && code->second.number()) {
    v.exit_code_of_codex = static_cast<int>(*code->second.number());
  } else if (code != object->end() && code->second.string() && !code->second.string()->empty()) {
    v.exit_code_of_codex = std::atoi(code->second.string()->c_str());
  }
  return v;
}

}  // namespace

std::vector<int> CodexVector::extra_fd_numbers() const {
  std::vector<int> fds;
  for (const std::string& entry : extra_inherited_fds) fds.push_back(std::atoi(entry.c_str()));
  return fds;
}

VectorFile load_codex_vectors(const std::string& path) {
  VectorFile file;
  std::ifstream in(path);
  if (!in) {
    file.error = "cannot open " + path;
    return file;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    std::string content = text.str();
    Json document = Reader(content).document();
    const JsonArray* entries = document.array();
    if (!entries) throw std::runtime_error("the document is not an array");
    for (std::size_t i = 0; i < entries->size(); ++i) {
      file.vectors.push_back(to_vector((*entries)[i], i));
    }
  } catch (const std::exception& error) {
    file.vectors.clear();
    file.error = path + ": " + error.what();
  }
  return file;
}

namespace {

bool is_path_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '_' || c == '.';
}

}  // namespace

std::string reroot_codex_paths(const std::string& text, const std::string& root) {
  // Longest first; the codex-home prefixes also match "codex-home2", "codex-home-x".
  static const std::vector<std::string> kPrefixes = {"/var/lib/codex-home", "/var/tmp",
                                                     "/home/alice", "/tmp"};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::string* match = nullptr;
    if (i == 0 || !is_path_char(text[i - 1])) {
      for (const std::string& prefix : kPrefixes) {
        if (text.compare(i, prefix.size(), prefix) != 0) continue;
        std::size_t after = i + prefix.size();
        bool whole = after == text.size() || text[after] == '/' || !is_path_char(text[after]);
        if (!whole && prefix != "/var/lib/codex-home") continue;
        match = &prefix;
        break;
      }
    }
    if (match) {
      out += root + *match;
      i += match->size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string codex_vectors_path(const std::string& shared_dir) {
  return shared_dir + "/testdata/codex-bwrap-vectors.json";
}

}  // namespace nsbroker::itest
