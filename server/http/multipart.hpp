// SPDX-License-Identifier: Apache-2.0
//
// multipart/form-data (RFC 7578), as far as an upload needs it: the first part that carries a
// file (a Content-Disposition filename), its bytes and its name. Form fields before it are
// skipped, parts after it ignored.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.hpp"

namespace stride::server::http {

struct FilePart {
  std::string_view content;  // a view into the body
  std::string filename;      // as sent (not validated here)
};

// The boundary of a "multipart/form-data; boundary=..." Content-Type; empty when it is not one.
std::string MultipartBoundary(std::string_view content_type);

// The first file part of `body`. NotFound when the form has no file part; InvalidArgument when
// the body is not a well-formed multipart body with that boundary.
Result<FilePart> FirstFilePart(std::string_view body, std::string_view boundary);

}  // namespace stride::server::http
