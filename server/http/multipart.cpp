// SPDX-License-Identifier: Apache-2.0
#include "server/http/multipart.hpp"

#include <cctype>

#include "server/http/message.hpp"

namespace stride::server::http {
namespace {

// The value of parameter `name` in a header value ("form-data; name=\"f\"; filename=\"a.gpx\"").
bool Parameter(std::string_view value, std::string_view name, std::string* out) {
  size_t at = 0;
  while ((at = value.find(';', at)) != std::string_view::npos) {
    ++at;
    while (at < value.size() && value[at] == ' ') ++at;
    const size_t eq = value.find('=', at);
    if (eq == std::string_view::npos) return false;
    if (!EqualsNoCase(value.substr(at, eq - at), name)) continue;
    size_t v = eq + 1;
    if (v < value.size() && value[v] == '"') {
      std::string s;
      for (++v; v < value.size() && value[v] != '"'; ++v) {
        if (value[v] == '\\' && v + 1 < value.size()) ++v;
        s.push_back(value[v]);
      }
      *out = std::move(s);
    } else {
      const size_t end = value.find(';', v);
      *out = std::string(value.substr(v, end == std::string_view::npos ? end : end - v));
    }
    return true;
  }
  return false;
}

}  // namespace

std::string MultipartBoundary(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  std::string_view type = content_type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (!EqualsNoCase(type, "multipart/form-data")) return {};
  std::string boundary;
  if (!Parameter(content_type, "boundary", &boundary) || boundary.size() > 70) return {};
  return boundary;
}

Result<FilePart> FirstFilePart(std::string_view body, std::string_view boundary) {
  if (boundary.empty()) return Status::InvalidArgument("multipart: no boundary");
  const std::string delimiter = "--" + std::string(boundary);
  size_t at = body.find(delimiter);
  if (at == std::string_view::npos) {
    return Status::InvalidArgument("multipart: the boundary does not occur in the body");
  }
  while (true) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") break;  // the close delimiter
    if (body.substr(at, 2) != "\r\n") {
      return Status::InvalidArgument("multipart: byte " + std::to_string(at) +
                                     ": expected CRLF after the boundary");
    }
    at += 2;
    const size_t head_end = body.find("\r\n\r\n", at);
    if (head_end == std::string_view::npos) {
      return Status::InvalidArgument("multipart: byte " + std::to_string(at) +
                                     ": part headers do not end");
    }
    std::string filename;
    bool has_file = false;
    for (size_t line = at; line < head_end;) {
      size_t eol = body.find("\r\n", line);
      if (eol == std::string_view::npos || eol > head_end) eol = head_end;
      const std::string_view field = body.substr(line, eol - line);
      const size_t colon = field.find(':');
      if (colon != std::string_view::npos &&
          EqualsNoCase(field.substr(0, colon), "Content-Disposition")) {
        has_file = Parameter(field.substr(colon + 1), "filename", &filename) && !filename.empty();
      }
      line = eol + 2;
    }
    const size_t content_at = head_end + 4;
    const size_t next = body.find("\r\n" + delimiter, content_at);
    if (next == std::string_view::npos) {
      return Status::InvalidArgument("multipart: byte " + std::to_string(content_at) +
                                     ": the part has no closing boundary");
    }
    if (has_file) return FilePart{body.substr(content_at, next - content_at), filename};
    at = next + 2;
  }
  return Status::NotFound("multipart: the form has no file part");
}

}  // namespace stride::server::http
