// SPDX-License-Identifier: Apache-2.0
#include "server/http/parse.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

#include "engine/hex.hpp"
#include "engine/text/uri.hpp"

namespace stride::server {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const std::string& HttpRequest::Header(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : headers) {
    if (EqualsNoCase(k, name)) return v;
  }
  return kEmpty;
}

Incident NewIncident(std::string_view said, std::string_view detail) {
  // Not a secret, only distinct: a per-thread generator seeded once from the OS.
  thread_local std::mt19937 gen{std::random_device{}()};
  char id[9];
  std::snprintf(id, sizeof id, "%08x", static_cast<unsigned>(gen()));
  return {std::string(said) + " (incident " + id + " in the server's log)",
          std::string(id) + ": " + std::string(detail)};
}

bool HttpRequest::HasHeader(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsNoCase(h.first, name); });
}

}  // namespace stride::server

namespace stride::server::http {
namespace {

// RFC 9110 token characters (method, header names).
bool IsTokenChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7F ? c : '?');
  }
  return out;
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  return engine::PercentDecode(s, plus_is_space);
}

HeaderList ParseQuery(std::string_view query) {
  HeaderList out;
  size_t b = 0;
  while (b <= query.size()) {
    const size_t e = std::min(query.find('&', b), query.size());
    const std::string_view item = query.substr(b, e - b);
    if (!item.empty()) {
      const size_t eq = item.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(PercentDecode(item, true), std::string());
      } else {
        out.emplace_back(PercentDecode(item.substr(0, eq), true),
                         PercentDecode(item.substr(eq + 1), true));
      }
    }
    b = e + 1;
  }
  return out;
}

Status ParseRequestHead(std::string_view head, HttpRequest* req, size_t max_headers) {
  // RFC 9112 2.2: a server should ignore empty lines before the request line.
  while (head.substr(0, 2) == "\r\n") head.remove_prefix(2);
  const size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Status::InvalidArgument("request line: expected 'METHOD /target HTTP/1.1', found '" +
                                   Shown(line) + "'");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), IsTokenChar)) {
    return Status::InvalidArgument("request line: the method is not a token");
  }
  if (version == "HTTP/1.1") {
    req->version_minor = 1;
  } else if (version == "HTTP/1.0") {
    req->version_minor = 0;
  } else {
    return Status::InvalidArgument("request line: unsupported version '" + Shown(version) +
                                   "' (HTTP/1.0 or HTTP/1.1 expected)");
  }
  if (target.empty() || target.front() != '/') {
    return Status::InvalidArgument("request line: the target must start with '/'");
  }
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return Status::InvalidArgument("request line: control character in the target");
    }
  }
  req->method = std::string(method);
  req->target = std::string(target);
  const size_t q = target.find('?');
  const std::string_view raw_path = target.substr(0, q);
  req->path = PercentDecode(raw_path, false);
  req->query.clear();
  if (q != std::string_view::npos) req->query = ParseQuery(target.substr(q + 1));

  req->headers.clear();
  size_t at = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (at < head.size()) {
    size_t end = head.find("\r\n", at);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view field = head.substr(at, end - at);
    at = end + 2;
    if (field.empty()) continue;
    if (field.front() == ' ' || field.front() == '\t') {
      return Status::InvalidArgument("header: obsolete line folding is not accepted");
    }
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Status::InvalidArgument("header: expected 'Name: value', found '" + Shown(field) +
                                     "'");
    }
    const std::string_view name = field.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return Status::InvalidArgument("header: invalid name '" + Shown(name) + "'");
    }
    const std::string_view value = Trim(field.substr(colon + 1));
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7F) {
        return Status::InvalidArgument("header " + std::string(name) +
                                       ": control character in the value");
      }
    }
    if (req->headers.size() >= max_headers) {
      return Status::InvalidArgument("more than " + std::to_string(max_headers) + " header fields");
    }
    req->headers.emplace_back(std::string(name), std::string(value));
  }
  return Status::Ok();
}

ChunkedDecoder::Result ChunkedDecoder::Feed(std::string_view in, std::string* out,
                                            size_t* consumed) {
  constexpr size_t kMaxLine = 4096;
  size_t pos = 0;
  auto fail = [&](std::string why) {
    error_ = std::move(why);
    *consumed = pos;
    return kError;
  };
  while (true) {
    switch (state_) {
      case kSize: {
        const size_t eol = in.find("\r\n", pos);
        if (eol == std::string_view::npos) {
          if (in.size() - pos > kMaxLine) return fail("chunk size line over 4 KiB");
          *consumed = pos;
          return kMore;
        }
        std::string_view digits = in.substr(pos, eol - pos);
        digits = digits.substr(0, digits.find(';'));  // chunk extensions are ignored
        digits = Trim(digits);
        if (digits.empty() || digits.size() > 15) return fail("malformed chunk size");
        size_t n = 0;
        for (char c : digits) {
          const int v = engine::HexDigitValue(c);
          if (v < 0) return fail("malformed chunk size '" + Shown(digits) + "'");
          n = n * 16 + static_cast<size_t>(v);
        }
        pos = eol + 2;
        remaining_ = n;
        state_ = n == 0 ? kTrailers : kData;
        break;
      }
      case kData: {
        const size_t take = std::min(remaining_, in.size() - pos);
        out->append(in.substr(pos, take));
        pos += take;
        remaining_ -= take;
        if (remaining_ > 0) {
          *consumed = pos;
          return kMore;
        }
        state_ = kDataEnd;
        break;
      }
      case kDataEnd:
        if (in.size() - pos < 2) {
          *consumed = pos;
          return kMore;
        }
        if (in.substr(pos, 2) != "\r\n") return fail("chunk data not followed by CRLF");
        pos += 2;
        state_ = kSize;
        break;
      case kTrailers: {
        const size_t eol = in.find("\r\n", pos);
        if (eol == std::string_view::npos) {
          if (trailer_bytes_ + (in.size() - pos) > kMaxLine) return fail("trailers over 4 KiB");
          *consumed = pos;
          return kMore;
        }
        trailer_bytes_ += eol - pos + 2;
        if (trailer_bytes_ > kMaxLine) return fail("trailers over 4 KiB");
        const bool last = eol == pos;
        pos = eol + 2;
        if (last) {
          *consumed = pos;
          return kDone;
        }
        break;
      }
    }
  }
}

}  // namespace stride::server::http
