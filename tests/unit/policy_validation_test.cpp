// Validation: every kind of semantic error is refused with FILE:LINE:COLUMN pointing at the
// field that is wrong, and a message that says what to do. One table row per error kind.
#include <gtest/gtest.h>

#include <string>

#include "policy_test_support.h"

namespace nsbroker::policy {
namespace {

using testing::load_errors;
using testing::load_ok;

// A one-profile file whose 4th line is `line4`:
//   1 default_profile: "p"
//   2 profile {
//   3   name: "p"
//   4 <line4>
//   5 }
std::string one_profile(const std::string& line4) {
  return "default_profile: \"p\"\nprofile {\n  name: \"p\"\n" + line4 + "\n}\n";
}

struct ValidationCase {
  const char* name;
  std::string text;
  const char* position;  // LINE:COLUMN
  const char* message_part;
};

class PolicyValidation : public ::testing::TestWithParam<ValidationCase> {};

TEST_P(PolicyValidation, RefusesWithPositionAndAdvice) {
  std::vector<std::string> errors = load_errors(GetParam().text);
  ASSERT_EQ(errors.size(), 1u) << "expected exactly one error for:\n"
                               << GetParam().text << "\ngot " << ::testing::PrintToString(errors);
  std::string prefix = std::string("test.pbtxt:") + GetParam().position + ": ";
  EXPECT_EQ(errors[0].substr(0, prefix.size()), prefix) << errors[0];
  EXPECT_NE(errors[0].find(GetParam().message_part), std::string::npos) << errors[0];
}

const ValidationCase kCases[] = {
    // ---- the file and its profiles
    {"no_profile", "# nothing\n", "1:1", "the policy has no profile"},
    {"profile_without_name", "default_profile: \"p\"\nprofile { name: \"p\" }\nprofile { match { uid: 5 } }\n",
     "3:1", "profile without a name"},
    {"bad_profile_name", "default_profile: \"p\"\nprofile { name: \"p\" }\nprofile {\n  name: \"a b\"\n  match { uid: 5 }\n}\n",
     "4:3", "has characters other than"},
    {"duplicate_profile_name",
     "default_profile: \"p\"\nprofile { name: \"p\" }\nprofile {\n  name: \"p\"\n  match { uid: 5 }\n}\n", "4:3",
     "duplicate profile name \"p\" (first at test.pbtxt:2:11)"},
    {"unknown_default_profile", "profile { name: \"p\" match { uid: 1 } }\ndefault_profile: \"q\"\n", "2:1",
     "default_profile \"q\" names no profile"},
    {"profile_matching_nobody", "default_profile: \"p\"\nprofile { name: \"p\" }\nprofile { name: \"q\" }\n",
     "3:1", "profile \"q\" matches nobody and is not the default_profile"},
    {"audit_file_not_absolute", one_profile("") + "daemon { audit_json_file: \"audit.json\" }\n", "6:10",
     "daemon.audit_json_file: \"audit.json\" is not absolute"},
    // ---- match
    {"unknown_user", one_profile("  match { user: \"mallory\" }"), "4:11",
     "unknown user \"mallory\": no such user on this system"},
    {"unknown_group", one_profile("  match { group: \"wheel\" }"), "4:11",
     "unknown group \"wheel\": no such group"},
    {"same_uid_twice_in_a_profile", one_profile("  match { uid: 1000 user: \"alice\" }"), "4:21",
     "match.user \"alice\" (uid 1000) matches uid 1000 again (already match.uid 1000 at test.pbtxt:4:11)"},
    {"uid_overlaps_another_profile",
     one_profile("  match { user: \"alice\" }") + "profile {\n  name: \"q\"\n  match { uid: 1000 }\n}\n",
     "8:11", "overlaps profile \"p\": uid 1000 is already matched there by match.user \"alice\""},
    {"gid_overlaps_another_profile",
     one_profile("  match { group: \"nas\" }") + "profile {\n  name: \"q\"\n  match { gid: 2000 }\n}\n",
     "8:11", "overlaps profile \"p\": gid 2000"},
    // ---- namespaces
    {"root_inside_without_user_namespace", one_profile("  namespaces { allow_root_inside: true }"),
     "4:16", "allow_root_inside needs allow_user_namespace: true"},
    // ---- mount paths
    {"relative_path", one_profile("  mounts { read_only: \"usr\" }"), "4:12",
     "mounts.read_only: \"usr\" is not absolute: write it from the root, e.g. \"/usr\""},
    {"dot_dot_in_path", one_profile("  mounts { deny: \"/home/../etc\" }"), "4:12",
     "contains \".\" or \"..\""},
    {"non_canonical_path", one_profile("  mounts { read_write: \"/tmp//x/\" }"), "4:12",
     "is not canonical: write \"/tmp/x\""},
    {"empty_path", one_profile("  mounts { devices: \"\" }"), "4:12", "the path is empty"},
    {"duplicate_entry", one_profile("  mounts { read_only: \"/usr\" read_only: \"/usr\" }"), "4:30",
     "duplicate mounts.read_only \"/usr\" (also at test.pbtxt:4:12)"},
    {"read_only_and_read_write_at_once", one_profile("  mounts { read_only: \"/srv\" read_write: \"/srv\" }"),
     "4:30", "contradictory: mounts.read_write \"/srv\" and mounts.read_only \"/srv\""},
    {"allowed_and_denied_at_once", one_profile("  mounts { deny: \"/srv\" read_only: \"/srv\" }"), "4:25",
     "contradictory: mounts.read_only \"/srv\" and mounts.deny \"/srv\""},
    {"nested_in_the_same_list", one_profile("  mounts { read_only: \"/usr\" read_only: \"/usr/lib\" }"),
     "4:30", "overlapping: mounts.read_only \"/usr/lib\" is already covered by mounts.read_only \"/usr\""},
    {"nested_denials", one_profile("  mounts { deny: \"/root\" deny: \"/root/.ssh\" }"), "4:26",
     "overlapping: mounts.deny \"/root/.ssh\" is already covered by mounts.deny \"/root\""},
    {"allowed_inside_a_denial", one_profile("  mounts { deny: \"/srv\" read_write: \"/srv/pub\" }"), "4:25",
     "contradictory: mounts.read_write \"/srv/pub\" lies inside mounts.deny \"/srv\""},
    {"device_inside_a_denial", one_profile("  mounts { deny: \"/dev/sd\" devices: \"/dev/sd/a\" }"), "4:28",
     "contradictory: mounts.devices \"/dev/sd/a\" lies inside mounts.deny \"/dev/sd\""},
    {"read_only_inside_read_write", one_profile("  mounts { read_write: \"/srv\" read_only: \"/srv/ro\" }"),
     "4:31", "lies inside mounts.read_write \"/srv\" (at test.pbtxt:4:12), which already allows read-only binds"},
    {"homes_root_without_deny_other_users_homes", one_profile("  mounts { homes_root: \"/srv/homes\" }"),
     "4:12", "mounts.homes_root is only used with deny_other_users_homes: true"},
    {"homes_root_slash", one_profile("  mounts { deny_other_users_homes: true homes_root: \"/\" }"), "4:41",
     "mounts.homes_root \"/\" would make every top-level directory someone's home"},
    {"homes_root_relative", one_profile("  mounts { deny_other_users_homes: true homes_root: \"home\" }"), "4:41",
     "mounts.homes_root: \"home\" is not absolute"},
    {"tmpfs_cap_without_tmpfs", one_profile("  mounts { tmpfs_max_bytes: 1024 }"), "4:12",
     "mounts.tmpfs_max_bytes is set but allow_tmpfs is not"},
    // ---- seccomp
    {"syscall_missing", one_profile("  seccomp { rule { action: \"EPERM\" } }"), "4:13",
     "seccomp rule without a syscall"},
    {"unknown_syscall", one_profile("  seccomp { rule { syscall: \"sockett\" action: \"EPERM\" } }"), "4:20",
     "unknown syscall \"sockett\": use libseccomp's name"},
    {"syscall_the_base_filter_refuses", one_profile("  seccomp { rule { syscall: \"ptrace\" action: \"EACCES\" } }"),
     "4:20", "syscall \"ptrace\" is always refused by the base filter (EPERM)"},
    {"unknown_errno_name", one_profile("  seccomp { rule { syscall: \"socket\" action: \"EPREM\" } }"), "4:38",
     "unknown action \"EPREM\": use \"KILL\" or one of the errno names EPERM,"},
    {"action_missing", one_profile("  seccomp { rule { syscall: \"socket\" } }"), "4:13",
     "seccomp rule without an action"},
    {"argument_index_out_of_range",
     one_profile("  seccomp { rule { syscall: \"socket\" action: \"EPERM\" arg { index: 6 op: EQ } } }"), "4:60",
     "arg.index 6 is out of range: syscalls have arguments 0 to 5"},
    {"argument_compared_twice",
     one_profile("  seccomp { rule { syscall: \"socket\" action: \"EPERM\" arg { op: GT value: 1 } arg { op: LT value: 9 } } }"),
     "4:78", "argument 0 is compared twice in one rule (also at test.pbtxt:4:54)"},
    {"op_missing", one_profile("  seccomp { rule { syscall: \"socket\" action: \"EPERM\" arg { value: 1 } } }"), "4:54",
     "arg without op"},
    {"mask_without_masked_eq",
     one_profile("  seccomp { rule { syscall: \"socket\" action: \"EPERM\" arg { op: EQ value: 1 mask: 3 } } }"), "4:76",
     "arg.mask is only used with op: MASKED_EQ"},
    {"masked_eq_without_mask",
     one_profile("  seccomp { rule { syscall: \"ioctl\" action: \"EPERM\" arg { index: 1 op: MASKED_EQ value: 1 } } }"),
     "4:68", "MASKED_EQ needs a non-zero mask"},
    {"masked_eq_that_never_holds",
     one_profile("  seccomp { rule { syscall: \"ioctl\" action: \"EPERM\" arg { index: 1 op: MASKED_EQ value: 0x100 mask: 0xff } } }"),
     "4:82", "can never hold"},
    {"same_rule_twice",
     one_profile("  seccomp { rule { syscall: \"socket\" action: \"EPERM\" } rule { syscall: \"socket\" action: \"KILL\" } }"),
     "4:56", "has the same syscall and conditions as the rule at test.pbtxt:4:13"},
    {"rules_libseccomp_cannot_combine",
     one_profile("  seccomp {\n    rule { syscall: \"socket\" action: \"EPERM\" arg { op: EQ value: 16 } }\n"
                 "    rule { syscall: \"socket\" action: \"EACCES\" arg { op: EQ value: 17 } }\n  }"),
     "6:5", "conflicts with an earlier rule for the same syscall"},
    // ---- environment
    {"strip_name_with_equals", one_profile("  environment { strip: \"A=B\" }"), "4:17",
     "environment.strip: variable name \"A=B\" contains '='"},
    {"strip_star_inside", one_profile("  environment { strip: \"LD_*_PATH\" }"), "4:17",
     "pattern \"LD_*_PATH\" has '*' before its end"},
    {"strip_given_twice", one_profile("  environment { strip: \"HOME\" strip: \"HOME\" }"), "4:31",
     "duplicate environment.strip \"HOME\" (also at test.pbtxt:4:17)"},
    {"force_given_twice",
     one_profile("  environment { force { name: \"A\" value: \"1\" } force { name: \"A\" value: \"2\" } }"), "4:56",
     "duplicate environment.force \"A\" (also at test.pbtxt:4:25)"},
    {"force_with_a_pattern", one_profile("  environment { force { name: \"LD_*\" value: \"\" } }"), "4:25",
     "force takes exact names"},
    {"force_and_strip_of_one_name",
     one_profile("  environment { strip: \"PATH\" force { name: \"PATH\" value: \"/bin\" } }"), "4:39",
     "contradictory: environment.force \"PATH\" and environment.strip of the same name (at test.pbtxt:4:17)"},
};

INSTANTIATE_TEST_SUITE_P(Table, PolicyValidation, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ValidationCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(PolicyValidation, RefinementsAreNotOverlaps) {
  // read_write inside read_only, deny inside an allowance, devices inside read_only: each
  // narrows or adds something, so none is an error.
  EXPECT_TRUE(load_ok(one_profile("  mounts {\n    read_only: \"/\"\n    read_write: \"/home\"\n"
                                  "    deny: \"/home/shared/secret\"\n    devices: \"/dev/null\"\n"
                                  "    read_write: \"/tmp\"\n  }")));
  EXPECT_TRUE(load_ok(one_profile("  mounts { read_only: \"/usr\" read_only: \"/usrlocal\" }")))
      << "\"/usr\" does not cover \"/usrlocal\"";
  EXPECT_TRUE(load_ok(one_profile("  environment { strip: \"LD_*\" force { name: \"LD_LIBRARY_PATH\" value: \"/opt\" } }")))
      << "a pattern and a forced name may meet";
}

TEST(PolicyValidation, AUserMayBeMatchedByNameInOneProfileAndByGroupInAnother) {
  // Different ids: the first profile in file order wins at selection time.
  EXPECT_TRUE(load_ok(one_profile("  match { user: \"alice\" }") +
                      "profile {\n  name: \"q\"\n  match { group: \"alice\" }\n}\n"));
}

}  // namespace
}  // namespace nsbroker::policy
