// SPDX-License-Identifier: Apache-2.0
//
// Request counters and latency histograms per endpoint, rendered as Prometheus text.
//
// Thread-safety: Record() may be called from any thread (atomics); Render() reads a
// consistent-enough view (counters may move while it runs).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stride::server {

class Metrics {
 public:
  // Endpoint names are fixed at construction: Record() with an unknown one counts as "other".
  explicit Metrics(std::vector<std::string> endpoints);
  void Record(const std::string& endpoint, int status, double seconds);
  // `gauges`: extra lines' (name, value), e.g. stride_index_routes.
  std::string Render(const std::vector<std::pair<std::string, double>>& gauges) const;

  static constexpr std::array<double, 12> kBucketsS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

 private:
  struct Series {
    std::string endpoint;
    std::array<std::atomic<uint64_t>, 6> by_class{};  // 1xx..5xx by status / 100, [0] other
    std::array<std::atomic<uint64_t>, kBucketsS.size() + 1> buckets{};
    std::atomic<uint64_t> sum_us{0};
  };
  std::vector<std::unique_ptr<Series>> series_;
};

}  // namespace stride::server
