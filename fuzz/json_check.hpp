// SPDX-License-Identifier: Apache-2.0
//
// JSON checks of the targets' answers ("a JSON answer parses"), in a library built without
// libFuzzer's coverage instrumentation (fuzz/CMakeLists.txt). Instrumented, nlohmann's lexer
// was half of run_params_fuzz's time, and every new path through the *checker* (a new mix of
// characters in an answer) counted as a new feature, so the corpus filled with inputs that
// differed only in what the checker saw. Uninstrumented, the fuzzer's features are those of
// the code under test.
#pragma once

#include <string>
#include <string_view>

namespace stride::fuzz {

// Whether `text` is exactly one JSON value (RFC 8259, as nlohmann::json::accept reads it).
bool IsJson(std::string_view text);

// The string member `key` of the JSON object `text`; "" when `text` is not an object or has no
// such string member.
std::string JsonStringMember(std::string_view text, std::string_view key);

}  // namespace stride::fuzz
