// SPDX-License-Identifier: Apache-2.0
//
// The table of files embedded by the build (server/CMakeLists.txt generates web_files.cpp with
// one .incbin per file of web/ and of MapLibre's dist/). Read through server/web_page.hpp.
#pragma once

#include <cstddef>

namespace stride::server::web {

struct EmbeddedFile {
  const char* name;
  const char* begin;
  const char* end;
};

extern const EmbeddedFile kFiles[];
extern const size_t kFileCount;

}  // namespace stride::server::web
