// SPDX-License-Identifier: Apache-2.0
#include "engine/retrieval/vector_index.hpp"

#include <algorithm>

#include "engine/retrieval/embedding.hpp"

namespace stride::engine::retrieval {

void ExactVectorIndex::Put(uint32_t slot, const std::vector<float>& v) {
  auto [it, added] = row_.try_emplace(slot, slots_.size());
  const size_t row = it->second;
  if (added) {
    slots_.push_back(slot);
    data_.resize(data_.size() + dims_);
  }
  std::copy_n(v.begin(), std::min(v.size(), dims_),
              data_.begin() + static_cast<std::ptrdiff_t>(row * dims_));
}

void ExactVectorIndex::Remove(uint32_t slot) {
  auto it = row_.find(slot);
  if (it == row_.end()) return;
  const size_t row = it->second, last = slots_.size() - 1;
  row_.erase(it);
  // The last row moves into the hole.
  std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(last * dims_), dims_,
              data_.begin() + static_cast<std::ptrdiff_t>(row * dims_));
  if (row != last) {
    slots_[row] = slots_[last];
    row_[slots_[row]] = row;
  }
  slots_.pop_back();
  data_.resize(slots_.size() * dims_);
}

std::vector<Scored> ExactVectorIndex::Search(const std::vector<float>& q, size_t k) const {
  std::vector<Scored> out;
  if (q.size() != dims_ || k == 0) return out;
  out.reserve(slots_.size());
  for (size_t row = 0; row < slots_.size(); ++row) {
    out.push_back({slots_[row], Dot(q.data(), data_.data() + row * dims_, dims_)});
  }
  KeepBest(&out, k);
  return out;
}

}  // namespace stride::engine::retrieval
