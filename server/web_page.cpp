// SPDX-License-Identifier: Apache-2.0
#include "server/web_page.hpp"

#include <algorithm>

#include "engine/sha256.hpp"
#include "server/route_api.hpp"
#include "server/web/files.hpp"

namespace stride::server {
namespace {

std::string_view TypeOf(std::string_view name) {
  auto ends = [name](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "text/plain; charset=utf-8";
}

// The first 8 bytes of the SHA-256, in hex and quotes.
std::string EtagOf(std::string_view body) {
  return "\"" + engine::Sha256Hex(body).substr(0, 16) + "\"";
}

}  // namespace

const std::vector<WebFile>& WebFiles() {
  static const std::vector<WebFile> files = [] {
    std::vector<WebFile> out;
    for (size_t i = 0; i < web::kFileCount; ++i) {
      const web::EmbeddedFile& f = web::kFiles[i];
      const std::string_view body(f.begin, static_cast<size_t>(f.end - f.begin));
      out.push_back({f.name, TypeOf(f.name), body, EtagOf(body)});
    }
    return out;
  }();
  return files;
}

bool MapLibreVendored() {
  const auto& files = WebFiles();
  return std::any_of(files.begin(), files.end(),
                     [](const WebFile& f) { return f.name == "maplibre-gl-csp.js"; });
}

ApiResponse ServeWebFile(std::string_view name, const std::string& if_none_match) {
  if (name.empty()) name = "index.html";
  const auto& files = WebFiles();
  auto it =
      std::find_if(files.begin(), files.end(), [name](const WebFile& f) { return f.name == name; });
  if (it == files.end()) {
    return ErrorResponse(404, "not_found", "no file " + std::string(name) + " in the map page");
  }
  const bool page = it->name == "index.html";
  HeaderList headers = {
      {"ETag", it->etag},
      {"Cache-Control", page ? "no-cache" : "public, max-age=3600"},
      {"Content-Security-Policy", kPageCsp},
      {"X-Frame-Options", "DENY"},
  };
  const bool fresh = !if_none_match.empty() && if_none_match.find(it->etag) != std::string::npos;
  ApiResponse r(fresh ? 304 : 200, fresh ? std::string() : std::string(it->body), it->type.data());
  r.headers = std::move(headers);
  return r;
}

}  // namespace stride::server
