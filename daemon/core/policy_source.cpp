#include "core/policy_source.h"

#include <sys/stat.h>

#include <cerrno>

#include "policy/policy_loader.h"

namespace nsbroker {

Result<std::unique_ptr<PolicySource>> PolicySource::load(const std::string& explicit_path,
                                                         std::vector<policy::AlwaysDenied> always_deny) {
  std::string path = explicit_path;
  if (path.empty()) {
    struct stat st {};
    bool installed = ::stat(policy::kDefaultPolicyPath, &st) == 0 || errno != ENOENT;
    if (installed) path = policy::kDefaultPolicyPath;
  }
  std::unique_ptr<PolicySource> source(new PolicySource(
      path, path.empty() ? "the built-in default policy" : path, std::move(always_deny)));
  auto loaded = source->read();
  if (!loaded) return loaded.failure();
  source->current_ = std::move(loaded.value());
  return source;
}

Result<std::shared_ptr<const policy::CompiledPolicy>> PolicySource::read() {
  policy::LoadOptions options;
  options.always_deny = always_deny_;
  if (path_.empty()) return policy::load_policy_text(kBuiltInPolicyText, "built-in:policy.pbtxt", options);
  // Whoever can write the policy file is root: it must be root's and not group/world-writable.
  options.require_root_owned = true;
  return policy::load_policy_file(path_, options);
}

Result<std::shared_ptr<const policy::CompiledPolicy>> PolicySource::reload() {
  auto loaded = read();
  if (loaded) current_ = loaded.value();
  return loaded;
}

}  // namespace nsbroker
