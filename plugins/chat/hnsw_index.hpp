// SPDX-License-Identifier: Apache-2.0
//
// engine::retrieval::VectorIndex on hnswlib's HNSW graph (Debian's libhnswlib-dev 0.6.2,
// header-only): inner-product space over unit vectors (distance 1 − cosine), M = 16,
// ef_construction = 200, query ef = max(128, k). Approximate: the chat tests measure its
// recall against ExactVectorIndex. A removed slot is marked deleted (hnswlib keeps the node
// and skips it) and the node is reused when the slot is put again; capacity doubles as the
// index fills. hnswlib's exceptions stop here: a failure leaves the slot out and is counted.
#pragma once

#include <cstddef>
#include <memory>
#include <unordered_set>
#include <vector>

#include "engine/retrieval/vector_index.hpp"

namespace stride::plugins::chat {

struct HnswOptions {
  size_t m = 16;
  size_t ef_construction = 200;
  size_t ef_search = 128;
  size_t initial_capacity = 256;
};

class HnswVectorIndex final : public engine::retrieval::VectorIndex {
 public:
  explicit HnswVectorIndex(size_t dimensions, HnswOptions options = {});
  ~HnswVectorIndex() override;
  void Put(uint32_t slot, const std::vector<float>& v) override;
  void Remove(uint32_t slot) override;
  std::vector<engine::retrieval::Scored> Search(const std::vector<float>& q,
                                                size_t k) const override;
  size_t size() const override { return live_.size(); }
  size_t MemoryBytes() const override;
  size_t failures() const { return failures_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t dims_;
  HnswOptions o_;
  std::unordered_set<uint32_t> live_;
  size_t failures_ = 0;
};

}  // namespace stride::plugins::chat
