// SPDX-License-Identifier: Apache-2.0
#include "engine/retrieval/embedding.hpp"

#include <cmath>

#include "engine/retrieval/text.hpp"

namespace stride::engine::retrieval {
namespace {

uint64_t Fnv1a(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

void Add(std::vector<float>* v, std::string_view feature, uint64_t seed, double weight) {
  const uint64_t h = Fnv1a(feature, seed);
  const size_t i = static_cast<size_t>(h % v->size());
  (*v)[i] += static_cast<float>((h >> 63) ? -weight : weight);
}

}  // namespace

void Normalize(std::vector<float>* v) {
  double sum = 0;
  for (float x : *v) sum += static_cast<double>(x) * x;
  if (sum <= 0) return;
  const float scale = static_cast<float>(1 / std::sqrt(sum));
  for (float& x : *v) x *= scale;
}

float Dot(const float* a, const float* b, size_t n) {
  // Eight partial sums: independent lanes the compiler can keep in vector registers (one sum
  // would be a chain it may not reorder).
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t j = 0; j < 8; ++j) lane[j] += a[i + j] * b[i + j];
  }
  float s = 0;
  for (; i < n; ++i) s += a[i] * b[i];
  for (float x : lane) s += x;
  return s;
}

std::vector<float> HashedEmbedder::EmbedOne(std::string_view text) const {
  std::vector<float> v(o_.dimensions, 0.0f);
  for (const std::string& t : Terms(text)) {
    Add(&v, t, 1, o_.word_weight);
    const std::string marked = "<" + t + ">";
    for (size_t n = 3; n <= 4; ++n) {
      for (size_t i = 0; i + n <= marked.size(); ++i) {
        Add(&v, std::string_view(marked).substr(i, n), 2, o_.ngram_weight);
      }
    }
  }
  Normalize(&v);
  return v;
}

Result<std::vector<std::vector<float>>> HashedEmbedder::Embed(
    const std::vector<std::string>& texts) {
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  for (const std::string& t : texts) out.push_back(EmbedOne(t));
  return out;
}

}  // namespace stride::engine::retrieval
