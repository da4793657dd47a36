// SPDX-License-Identifier: Apache-2.0
//
// The map page (web/): the static files `stride serve` answers at / and /web/{file}, built into
// the binary (so the page needs no install step and no network at run time):
//
//   GET /                 web/index.html
//   GET /web/{file}       app.js, app.css, and MapLibre GL JS vendored from npm at build time
//                         (maplibre-gl-csp.js, maplibre-gl-csp-worker.js, maplibre-gl.css,
//                         maplibre-gl-LICENSE.txt)
//
// Every file carries an ETag of its bytes (If-None-Match answers 304); the page itself is
// revalidated on every load (Cache-Control: no-cache), the other files are kept for an hour.
// The page's Content-Security-Policy replaces the API's "default-src 'none'": scripts, styles,
// workers, tiles and API calls from this origin only, images from data:/blob: (MapLibre's
// canvas), nothing inline, no frames. MapLibre's CSP build is used, so its worker is a file of
// this origin rather than a blob.
//
// When the build found no MapLibre (web/node_modules missing: scripts/deps.sh installs it), the
// page still loads and says so; MapLibreVendored() tells.
//
// Thread-safety: the files are immutable; ServeWebFile may be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/http/message.hpp"

namespace stride::server {

inline constexpr const char* kPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

struct WebFile {
  std::string_view name;  // "app.js"
  std::string_view type;  // "text/javascript; charset=utf-8"
  std::string_view body;
  std::string etag;  // "\"<16 hex of its SHA-256>\""
};

// The files built in, in the order the build listed them.
const std::vector<WebFile>& WebFiles();
bool MapLibreVendored();

// 200 with the file, 304 when `if_none_match` names its ETag, 404 for a name not built in.
// "" is the page (index.html).
ApiResponse ServeWebFile(std::string_view name, const std::string& if_none_match);

}  // namespace stride::server
