#include "security_fixture.h"

#include <unistd.h>

#include <algorithm>

namespace nsbroker::sectest {

std::vector<std::string> with_base(std::vector<std::string> args) {
  std::vector<std::string> all = base_mounts();
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

std::vector<std::string> stat_fields(const std::string& text) {
  std::vector<std::string> fields;
  std::size_t close = text.rfind(')');
  if (close == std::string::npos) return fields;
  std::string rest = text.substr(close + 1);
  std::size_t at = 0;
  while (true) {
    at = rest.find_first_not_of(" \n", at);
    if (at == std::string::npos) break;
    std::size_t end = rest.find_first_of(" \n", at);
    fields.push_back(rest.substr(at, end - at));
    if (end == std::string::npos) break;
    at = end;
  }
  return fields;
}

std::string SecurityTest::policy() const {
  // Shaped like config/policy.pbtxt: what a host really runs, with the paths of this test.
  return "default_profile: \"host\"\n"
         "profile {\n"
         "  name: \"host\"\n"
         "  namespaces { net: ALLOWED ipc: ALLOWED uts: ALLOWED cgroup: ALLOWED allow_user_namespace: true }\n"
         "  mounts {\n"
         "    read_only: \"/\"\n"
         "    read_write: \"/tmp\"\n"
         "    deny: \"/etc/shadow\"\n"
         "    deny: \"/root\"\n"
         "    deny: \"/run/nsbroker\"\n"
         "    deny: \"" + denied_ + "\"\n"
         "    deny_other_users_homes: true\n"
         "    homes_root: \"" + homes_ + "\"\n"
         "    devices: \"/dev\"\n"
         "    allow_proc: true\n"
         "    allow_dev: true\n"
         "    allow_tmpfs: true\n"
         "    create_missing_mount_points: true\n"
         "  }\n"
         "  limits { max_live_sandboxes: 1000 max_spawns_per_minute: 100000 }\n"
         "}\n";
}

void SecurityTest::SetUp() {
  if (auto why = config_unavailable(GetParam())) GTEST_SKIP() << *why;
  work_ = std::make_unique<TempDir>("nsb-sec-", 0755);
  homes_ = *work_ / "homes";
  home_ = homes_ + "/caller";
  evil_ = home_ + "/evil";
  other_home_ = homes_ + "/other";
  denied_ = *work_ / "denied";
  scratch_ = *work_ / "scratch";
  make_dir(homes_, 0, 0, 0755);
  make_dir(home_, kCallerUid, kCallerUid, 0755);
  make_dir(evil_, kCallerUid, kCallerUid, 0755);
  write_file(evil_ + "/marker", "nsb-evil-marker\n");
  ASSERT_EQ(::chown((evil_ + "/marker").c_str(), kCallerUid, kCallerUid), 0);
  make_dir(other_home_, kOtherUid, kOtherUid, 0755);
  write_file(other_home_ + "/file", "nsb-other-users-file\n");
  ASSERT_EQ(::chown((other_home_ + "/file").c_str(), kOtherUid, kOtherUid), 0);
  make_dir(denied_, 0, 0, 0755);
  write_file(denied_ + "/file", "nsb-denied-file\n");
  make_dir(scratch_, 0, 0, 0755);

  DaemonSpec daemon_spec = DaemonSpec::for_config(GetParam());
  daemon_spec.policy_text = policy();
  daemon_ = std::make_unique<DaemonProcess>(daemon_spec);
  ASSERT_TRUE(daemon_->ready()) << daemon_->error();
  ASSERT_EQ(daemon_->listening_mode(), expected_mode(GetParam()))
      << "nsbrokerd came up in the wrong mode; its log:\n" << daemon_->log();
}

void SecurityTest::TearDown() { check_daemon_after_test(daemon_.get(), config_name(GetParam())); }

ProcessSpec SecurityTest::spec(std::vector<std::string> args, uid_t uid) const {
  ProcessSpec s = client_spec(daemon_->socket_path(), std::move(args));
  s.uid = uid;
  return s;
}

ProcessResult SecurityTest::run(std::vector<std::string> args, uid_t uid) const {
  return run_process(spec(std::move(args), uid));
}

ProcessSpec SecurityTest::spec_with_fd5(const std::string& fd5_path, std::vector<std::string> args) const {
  ProcessSpec s = spec(std::move(args));
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 5<\"$NSB_FD5\""};
  argv.insert(argv.end(), s.argv.begin(), s.argv.end());
  s.argv = argv;
  s.env.push_back("NSB_FD5=" + fd5_path);
  return s;
}

std::string SecurityTest::scratch_dir(const std::string& name) const {
  std::string path = scratch_ + "/" + name;
  make_dir(path, 0, 0, 0755);
  return path;
}

std::string SecurityTest::scratch_file(const std::string& name) const {
  std::string path = scratch_ + "/" + name;
  write_file(path, "");
  return path;
}

std::vector<pid_t> SecurityTest::sandbox_pids(const std::string& marker, pid_t client_pid) const {
  std::vector<pid_t> pids;
  poll_until(10s, [&] {
    pids = find_processes_with_marker(marker);
    pids.erase(std::remove(pids.begin(), pids.end(), client_pid), pids.end());
    return !pids.empty();
  });
  return pids;
}

}  // namespace nsbroker::sectest
