// SPDX-License-Identifier: Apache-2.0
//
// Dense vectors for retrieval: the Embedder interface and the offline default.
//
// Embedder implementations: HashedEmbedder here (deterministic, no model, no download) and
// the OpenAI-compatible client in plugins/chat (any /v1/embeddings endpoint). Vectors are
// L2-normalised, so the inner product is the cosine.
//
// HashedEmbedder: feature hashing of the text's terms (text.hpp, weight 1) and of each
// word's character 3- and 4-grams with boundary marks (weight 0.5, so "dizzy" and
// "dizziness" or a misspelt route name still meet), each feature to one of `dimensions`
// coordinates with a hashed sign (FNV-1a, 64 bit). Trade-off: it knows no synonyms beyond
// text.hpp's list — "tired" and "fatigue" do not meet; a real embedding model does that.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.hpp"

namespace stride::engine::retrieval {

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual std::string Name() const = 0;
  virtual size_t Dimensions() const = 0;
  // One vector of Dimensions() floats per text, L2-normalised (all zero for a text without
  // features).
  virtual Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) = 0;
};

struct HashedEmbedderOptions {
  size_t dimensions = 384;
  double word_weight = 1.0;
  double ngram_weight = 0.5;
};

class HashedEmbedder final : public Embedder {
 public:
  explicit HashedEmbedder(HashedEmbedderOptions options = {}) : o_(options) {}
  std::string Name() const override { return "hashed-ngrams-" + std::to_string(o_.dimensions); }
  size_t Dimensions() const override { return o_.dimensions; }
  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override;
  std::vector<float> EmbedOne(std::string_view text) const;

 private:
  HashedEmbedderOptions o_;
};

// Scales `v` to unit length (left as is when all zero).
void Normalize(std::vector<float>* v);
float Dot(const float* a, const float* b, size_t n);

}  // namespace stride::engine::retrieval
