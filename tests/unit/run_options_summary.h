// One-line summaries of what parse_run_options() produced, shared by the parser's table tests
// (run_options_test.cpp for `nsbroker run`, bwrap_options_test.cpp for the bwrap front).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "client/run_options.h"

namespace nsbroker::client::testing_support {

using Words = std::vector<std::string_view>;

std::string join_words(const Words& words, std::string_view separator);

// "tmpfs /tmp perms=0700 size=4096", "ro-bind /usr /usr", "bind-try /a /b", "file fd=4 /x"
std::string describe(const wire::MountOp& op);

// Everything the parser filled in; fields left at their defaults are omitted so that each
// table row states only what it is about.
std::string summarize(const RunOptions& options);

template <typename Case>
std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

}  // namespace nsbroker::client::testing_support
