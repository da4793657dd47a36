// SPDX-License-Identifier: Apache-2.0
#include "plugins/chat/hnsw_index.hpp"

// Debian's hnswlib 0.6.2 prefetches the element after the last of a link list under USE_SSE
// (hnswalg.h, searchBaseLayer: *(datal + j + 1)), a read one past the allocation that
// AddressSanitizer reports; without manual vectorisation (no prefetches, plain distance loops:
// slower, and the graph is only used past 20,000 documents) nothing reads past the end.
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

#include <algorithm>

namespace stride::plugins::chat {

struct HnswVectorIndex::Impl {
  explicit Impl(size_t dims, const HnswOptions& o)
      : space(dims), graph(&space, o.initial_capacity, o.m, o.ef_construction) {}
  hnswlib::InnerProductSpace space;
  hnswlib::HierarchicalNSW<float> graph;
};

HnswVectorIndex::HnswVectorIndex(size_t dimensions, HnswOptions options)
    : impl_(std::make_unique<Impl>(dimensions, options)), dims_(dimensions), o_(options) {}

HnswVectorIndex::~HnswVectorIndex() = default;

void HnswVectorIndex::Put(uint32_t slot, const std::vector<float>& v) {
  if (v.size() != dims_) {
    ++failures_;
    return;
  }
  try {
    hnswlib::HierarchicalNSW<float>& g = impl_->graph;
    const bool known = g.label_lookup_.count(slot) > 0;
    if (!known && g.cur_element_count >= g.max_elements_) g.resizeIndex(2 * g.max_elements_);
    g.addPoint(v.data(), slot);  // an existing (even deleted) label is updated and restored
    live_.insert(slot);
  } catch (const std::exception&) {
    ++failures_;
  }
}

void HnswVectorIndex::Remove(uint32_t slot) {
  if (live_.erase(slot) == 0) return;
  try {
    impl_->graph.markDelete(slot);
  } catch (const std::exception&) {
    ++failures_;
  }
}

std::vector<engine::retrieval::Scored> HnswVectorIndex::Search(const std::vector<float>& q,
                                                               size_t k) const {
  std::vector<engine::retrieval::Scored> out;
  if (q.size() != dims_ || k == 0 || live_.empty()) return out;
  try {
    hnswlib::HierarchicalNSW<float>& g = impl_->graph;
    g.setEf(std::max(o_.ef_search, k));  // searchKnn reads ef_; one caller at a time (memory.hpp)
    auto top = g.searchKnn(q.data(), std::min(k, live_.size()));
    out.resize(top.size());
    for (size_t i = top.size(); i-- > 0;) {  // the queue pops the farthest first
      out[i] = {static_cast<uint32_t>(top.top().second), 1.0 - top.top().first};
      top.pop();
    }
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

size_t HnswVectorIndex::MemoryBytes() const {
  const hnswlib::HierarchicalNSW<float>& g = impl_->graph;
  // Level 0 holds every node (links, vector, label); upper levels hold ~1/M of them.
  return g.max_elements_ * g.size_data_per_element_ +
         g.cur_element_count * (g.size_links_per_element_ / o_.m + sizeof(void*) + 16) +
         live_.size() * 16;
}

}  // namespace stride::plugins::chat
