// SPDX-License-Identifier: Apache-2.0
#include "server/metrics.hpp"

#include <cstdio>

namespace stride::server {

Metrics::Metrics(std::vector<std::string> endpoints) {
  endpoints.push_back("other");
  for (std::string& e : endpoints) {
    series_.push_back(std::make_unique<Series>());
    series_.back()->endpoint = std::move(e);
  }
}

void Metrics::Record(const std::string& endpoint, int status, double seconds) {
  Series* s = series_.back().get();
  for (const auto& candidate : series_) {
    if (candidate->endpoint == endpoint) s = candidate.get();
  }
  const int cls = status / 100;
  s->by_class[cls >= 1 && cls <= 5 ? cls : 0].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kBucketsS.size() && seconds > kBucketsS[b]) ++b;
  s->buckets[b].fetch_add(1, std::memory_order_relaxed);
  s->sum_us.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Metrics::Render(const std::vector<std::pair<std::string, double>>& gauges) const {
  std::string out;
  char line[256];
  out += "# HELP stride_http_requests_total HTTP requests by endpoint and status class.\n";
  out += "# TYPE stride_http_requests_total counter\n";
  for (const auto& s : series_) {
    for (int c = 0; c <= 5; ++c) {
      const uint64_t n = s->by_class[c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::snprintf(line, sizeof line,
                    "stride_http_requests_total{endpoint=\"%s\",code=\"%s\"} %llu\n",
                    s->endpoint.c_str(), c == 0 ? "other" : (std::to_string(c) + "xx").c_str(),
                    static_cast<unsigned long long>(n));
      out += line;
    }
  }
  out += "# HELP stride_http_request_duration_seconds Request latency by endpoint.\n";
  out += "# TYPE stride_http_request_duration_seconds histogram\n";
  for (const auto& s : series_) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBucketsS.size(); ++b) {
      cumulative += s->buckets[b].load(std::memory_order_relaxed);
      if (b < kBucketsS.size()) {
        std::snprintf(
            line, sizeof line,
            "stride_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
            s->endpoint.c_str(), kBucketsS[b], static_cast<unsigned long long>(cumulative));
      } else {
        std::snprintf(
            line, sizeof line,
            "stride_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n",
            s->endpoint.c_str(), static_cast<unsigned long long>(cumulative));
      }
      out += line;
    }
    std::snprintf(line, sizeof line,
                  "stride_http_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n"
                  "stride_http_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                  s->endpoint.c_str(), static_cast<double>(s->sum_us.load()) / 1e6,
                  s->endpoint.c_str(), static_cast<unsigned long long>(cumulative));
    out += line;
  }
  for (const auto& [name, value] : gauges) {
    std::snprintf(line, sizeof line, "# TYPE %s gauge\n%s %.17g\n", name.c_str(), name.c_str(),
                  value);
    out += line;
  }
  return out;
}

}  // namespace stride::server
