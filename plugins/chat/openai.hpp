// SPDX-License-Identifier: Apache-2.0
//
// A client of any OpenAI-compatible API (OpenAI, llama.cpp's llama-server, vLLM, Ollama,
// LiteLLM): POST {base}/embeddings and POST {base}/chat/completions, JSON in and out,
// "Authorization: Bearer <key>" when a key is set.
//
// Failures: a connection that fails or times out (connect, read and write timeouts of
// `timeout_s` each; and a whole try past `timeout_s`, or a streamed one past
// kStreamTimeouts times it, even when bytes keep coming: the per-read timeouts alone let a
// provider that sends a byte now and then hold a request and its thread forever) is retried, as is
// an answer 429 or 5xx (after 0.25 s, 0.5 s, 1 s ..., or the Retry-After of a 429 up to 5 s),
// `retries` times; then kUnavailable for no answer (the HTTP layer's 504) and kInternal naming the
// provider's status and message for a bad one (502). A 4xx other than 429 is not retried. Usage
// (prompt and completion tokens) comes from the answer's "usage", else from an estimate of 4 bytes
// a token.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/retrieval/embedding.hpp"
#include "engine/status.hpp"

namespace stride::plugins::chat {

// How many `timeout_s` a streamed answer may take in all: a long answer streams for longer
// than a short one takes whole, piece by piece.
inline constexpr double kStreamTimeouts = 10;

struct OpenAiOptions {
  std::string base_url;  // e.g. "http://127.0.0.1:8080/v1"
  std::string api_key;   // empty: no Authorization header
  std::string model = "default";
  double timeout_s = 30;
  int retries = 2;
  double backoff_s = 0.25;
  int max_tokens = 512;  // of an answer
  double temperature = 0.2;
  size_t dimensions = 384;  // of embeddings (sent as "dimensions" unless 0)
};

struct ChatTurn {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct Completion {
  std::string text;
  std::string model;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int attempts = 0;
};

class OpenAiClient {
 public:
  explicit OpenAiClient(OpenAiOptions options) : o_(std::move(options)) {}
  Result<Completion> Complete(const std::vector<ChatTurn>& messages) const;
  // The same with "stream": true: `piece` gets each piece of the answer as it arrives (the
  // provider's Server-Sent Events, "data: {choices:[{delta:{content}}]}" up to "data:
  // [DONE]"). Retried like Post only until the first piece; a stream that breaks after it is
  // kUnavailable. Usage from the last chunk when the provider sends it
  // (stream_options.include_usage), else estimated.
  Result<Completion> Stream(const std::vector<ChatTurn>& messages,
                            const std::function<void(std::string_view)>& piece) const;
  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts,
                                                int64_t* tokens = nullptr) const;
  const OpenAiOptions& options() const { return o_; }

 private:
  // The request body for /chat/completions, and the token estimate of its messages.
  std::string ChatBody(const std::vector<ChatTurn>& messages, bool stream, int64_t* estimate) const;
  // POSTs `body` to base_url + `path` with the retries above; the answer's body.
  Result<std::string> Post(const std::string& path, const std::string& body, int* attempts) const;
  OpenAiOptions o_;
};

// engine::retrieval::Embedder over /embeddings (vectors are normalised here).
class OpenAiEmbedder final : public engine::retrieval::Embedder {
 public:
  explicit OpenAiEmbedder(OpenAiOptions options) : client_(std::move(options)) {}
  std::string Name() const override { return "openai-compatible:" + client_.options().model; }
  size_t Dimensions() const override { return client_.options().dimensions; }
  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override;

 private:
  OpenAiClient client_;
};

// Tokens of a text as a budget counts them before the provider says: 4 bytes a token.
int64_t EstimateTokens(std::string_view text);

}  // namespace stride::plugins::chat
