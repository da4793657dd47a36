// SPDX-License-Identifier: Apache-2.0
//
// What every fuzz target shares. A target is one function, LLVMFuzzerTestOneInput, called with
// bytes a fuzzer chose; it must never crash, hang or leak whatever the bytes, and it checks the
// properties its code promises (an error that names what was wrong, JSON that parses, an
// export that reads back) with STRIDE_FUZZ_CHECK, which aborts so the fuzzer keeps the input.
//
// The same target builds two ways (fuzz/CMakeLists.txt): with clang's libFuzzer
// (-fsanitize=fuzzer) to search for inputs, or with replay_main.cpp to run a corpus once (the
// seeds and fuzz/regressions/<target>/) in every test build, sanitizers or not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define STRIDE_FUZZ_CHECK(cond, what)                                                        \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                               \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace stride::fuzz {

// Splits the input into fields the way a target wants them: a byte at a time, or up to a
// separator. Reading past the end gives zeros and empty views, never out-of-range access.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  uint8_t Byte() {
    if (rest_.empty()) return 0;
    const auto b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  // Up to the next `sep` (dropped), or everything left.
  std::string_view Until(char sep) {
    const size_t at = rest_.find(sep);
    const std::string_view field = rest_.substr(0, at);
    rest_.remove_prefix(at == std::string_view::npos ? rest_.size() : at + 1);
    return field;
  }
  std::string_view Rest() {
    const std::string_view r = rest_;
    rest_ = {};
    return r;
  }

 private:
  std::string_view rest_;
};

}  // namespace stride::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
