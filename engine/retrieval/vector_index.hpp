// SPDX-License-Identifier: Apache-2.0
//
// Nearest vectors by inner product (cosine for the unit vectors of embedding.hpp).
//
// Implementations: ExactVectorIndex here (a scan: exact, and at a few thousand vectors per
// user as fast as a graph), HnswVectorIndex in plugins/chat (hnswlib's HNSW graph: sublinear,
// approximate; for users with many documents). Slots are the caller's small integers; Put
// replaces a slot's vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/retrieval/bm25.hpp"

namespace stride::engine::retrieval {

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  virtual void Put(uint32_t slot, const std::vector<float>& v) = 0;
  virtual void Remove(uint32_t slot) = 0;
  // The `k` slots with the highest inner product with `q`, best first.
  virtual std::vector<Scored> Search(const std::vector<float>& q, size_t k) const = 0;
  virtual size_t size() const = 0;
  virtual size_t MemoryBytes() const = 0;
};

class ExactVectorIndex final : public VectorIndex {
 public:
  explicit ExactVectorIndex(size_t dimensions) : dims_(dimensions) {}
  void Put(uint32_t slot, const std::vector<float>& v) override;
  void Remove(uint32_t slot) override;
  std::vector<Scored> Search(const std::vector<float>& q, size_t k) const override;
  size_t size() const override { return slots_.size(); }
  size_t MemoryBytes() const override {
    return data_.capacity() * sizeof(float) + slots_.capacity() * sizeof(uint32_t) +
           row_.size() * 32;
  }

 private:
  size_t dims_;
  std::vector<uint32_t> slots_;               // row -> slot
  std::unordered_map<uint32_t, size_t> row_;  // slot -> row
  std::vector<float> data_;                   // rows of dims_ floats
};

}  // namespace stride::engine::retrieval
