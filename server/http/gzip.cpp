// SPDX-License-Identifier: Apache-2.0
#include "server/http/gzip.hpp"

#include <zlib.h>

#include <algorithm>

namespace stride::server::http {

Result<std::string> Gunzip(std::string_view in, size_t max_out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Status::Internal("zlib: inflateInit2");
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[64 * 1024];
  int rc = Z_OK;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    const size_t produced = sizeof buf - z.avail_out;
    if (out.size() + produced > max_out) {
      inflateEnd(&z);
      return Status::ResourceExhausted("the body inflates to more than the limit of " +
                                       std::to_string(max_out) + " bytes");
    }
    out.append(buf, produced);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // the next gzip member
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string why = z.msg ? z.msg : "corrupt data";
      inflateEnd(&z);
      return Status::InvalidArgument("Content-Encoding gzip: " + why + " at byte " +
                                     std::to_string(z.total_in));
    }
    if (z.avail_in == 0 && produced == 0) {
      inflateEnd(&z);
      return Status::InvalidArgument("Content-Encoding gzip: the body ends early");
    }
  }
  inflateEnd(&z);
  return out;
}

std::string Gzip(std::string_view in) {
  z_stream z{};
  deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace stride::server::http
