// SPDX-License-Identifier: Apache-2.0
#include "plugins/chat/openai.hpp"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/text/json_dump.hpp"
#include "engine/text/number.hpp"
#include "engine/text/utf8.hpp"
#include "engine/time/watchdog.hpp"

namespace stride::plugins::chat {
namespace {

using Json = nlohmann::json;

// "http://host:port/v1" → ("http://host:port", "/v1").
bool SplitUrl(const std::string& url, std::string* origin, std::string* prefix) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  const std::string s = url.substr(0, scheme);
  if (s != "http" && s != "https") return false;
  const size_t path = url.find('/', scheme + 3);
  *origin = url.substr(0, path);
  *prefix = path == std::string::npos ? "" : url.substr(path);
  while (!prefix->empty() && prefix->back() == '/') prefix->pop_back();
  return origin->size() > scheme + 3;
}

std::string ProviderMessage(const std::string& body) {
  const Json j = Json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const Json& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      return e["message"].get<std::string>();
    }
    if (e.is_string()) return e.get<std::string>();
  }
  return engine::EscapeForLog(body, 200);
}

}  // namespace

int64_t EstimateTokens(std::string_view text) {
  return static_cast<int64_t>((text.size() + 3) / 4);
}

Result<std::string> OpenAiClient::Post(const std::string& path, const std::string& body,
                                       int* attempts) const {
  std::string origin, prefix;
  if (!SplitUrl(o_.base_url, &origin, &prefix)) {
    return Status::InvalidArgument("provider URL '" + o_.base_url +
                                   "': expected http(s)://host[:port][/path]");
  }
  httplib::Client client(origin);
  const auto secs = static_cast<time_t>(std::max(1.0, std::floor(o_.timeout_s)));
  const auto usecs = static_cast<time_t>((o_.timeout_s - std::floor(o_.timeout_s)) * 1e6);
  const time_t s = o_.timeout_s < 1 ? 0 : secs;
  const time_t us = o_.timeout_s < 1 ? static_cast<time_t>(o_.timeout_s * 1e6) : usecs;
  client.set_connection_timeout(s, us);
  client.set_read_timeout(s, us);
  client.set_write_timeout(s, us);
  httplib::Headers headers;
  if (!o_.api_key.empty()) headers.emplace("Authorization", "Bearer " + o_.api_key);
  Status last = Status::Unavailable("no attempt");
  for (int attempt = 0; attempt <= o_.retries; ++attempt) {
    if (attempts) *attempts = attempt + 1;
    bool late = false;
    httplib::Result r = [&] {
      // cpp-httplib's timeouts are per read and write: this bounds the whole try.
      engine::Watchdog deadline(o_.timeout_s, [&client] { client.stop(); });
      httplib::Result got = client.Post(prefix + path, headers, body, "application/json");
      late = deadline.expired();
      return got;
    }();
    double wait = o_.backoff_s * std::pow(2.0, attempt);
    if (!r && late) {
      last = Status::Unavailable("provider " + origin + " did not answer within " +
                                 engine::NumberForMessage(o_.timeout_s) +
                                 " s (its answer was still coming)");
    } else if (!r) {
      last = Status::Unavailable("provider " + origin +
                                 " did not answer: " + httplib::to_string(r.error()));
    } else if (r->status == 200) {
      return r->body;
    } else {
      last = Status::Internal("provider " + origin + " answered " + std::to_string(r->status) +
                              ": " + ProviderMessage(r->body));
      if (r->status != 429 && r->status < 500) return last;  // not worth repeating
      if (r->status == 429 && r->has_header("Retry-After")) {
        wait = std::min(5.0, std::atof(r->get_header_value("Retry-After").c_str()));
      }
    }
    if (attempt < o_.retries) {
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
  }
  return last;
}

std::string OpenAiClient::ChatBody(const std::vector<ChatTurn>& messages, bool stream,
                                   int64_t* estimate) const {
  Json msgs = Json::array();
  *estimate = 0;
  for (const ChatTurn& m : messages) {
    msgs.push_back({{"role", m.role}, {"content", engine::ValidUtf8(m.content)}});
    *estimate += EstimateTokens(m.content) + 4;
  }
  Json req = {{"model", o_.model},
              {"messages", msgs},
              {"temperature", o_.temperature},
              {"max_tokens", o_.max_tokens},
              {"stream", stream}};
  if (stream) req["stream_options"] = {{"include_usage", true}};
  return engine::DumpJson(req);
}

Result<Completion> OpenAiClient::Stream(const std::vector<ChatTurn>& messages,
                                        const std::function<void(std::string_view)>& piece) const {
  std::string origin, prefix;
  if (!SplitUrl(o_.base_url, &origin, &prefix)) {
    return Status::InvalidArgument("provider URL '" + o_.base_url +
                                   "': expected http(s)://host[:port][/path]");
  }
  int64_t estimate = 0;
  const std::string body = ChatBody(messages, true, &estimate);
  Completion c;
  c.model = o_.model;
  c.prompt_tokens = estimate;
  Status last = Status::Unavailable("no attempt");
  for (int attempt = 0; attempt <= o_.retries; ++attempt) {
    c.attempts = attempt + 1;
    httplib::Client client(origin);
    const time_t s = static_cast<time_t>(o_.timeout_s);
    const time_t us = static_cast<time_t>((o_.timeout_s - static_cast<double>(s)) * 1e6);
    client.set_connection_timeout(s, us);
    client.set_read_timeout(s, us);  // between two pieces
    client.set_write_timeout(s, us);
    httplib::Request req;
    req.method = "POST";
    req.path = prefix + "/chat/completions";
    if (!o_.api_key.empty()) req.headers.emplace("Authorization", "Bearer " + o_.api_key);
    req.headers.emplace("Accept", "text/event-stream");
    req.body = body;
    req.headers.emplace("Content-Type", "application/json");
    int status = 0;
    std::string line, error_body;
    bool done = false, got_piece = false, usage = false;
    req.response_handler = [&](const httplib::Response& r) {
      status = r.status;
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (status != 200) {
        if (error_body.size() < 4096) error_body.append(data, n);
        return true;
      }
      for (size_t i = 0; i < n; ++i) {
        if (data[i] != '\n') {
          line += data[i];
          continue;
        }
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind("data:", 0) == 0) {
          std::string_view payload = std::string_view(line).substr(5);
          while (!payload.empty() && payload.front() == ' ') payload.remove_prefix(1);
          if (payload == "[DONE]") {
            done = true;
          } else {
            const Json j = Json::parse(payload, nullptr, false);
            if (j.is_object() && j.contains("choices") && j["choices"].is_array() &&
                !j["choices"].empty() && j["choices"][0].is_object()) {
              const Json delta = j["choices"][0].value("delta", Json::object());
              if (delta.is_object() && delta.contains("content") && delta["content"].is_string()) {
                const std::string text = engine::ValidUtf8(delta["content"].get<std::string>());
                if (!text.empty()) {
                  got_piece = true;
                  c.text += text;
                  piece(text);
                }
              }
            }
            if (j.is_object() && j.contains("model") && j["model"].is_string()) {
              c.model = j["model"].get<std::string>();
            }
            if (j.is_object() && j.contains("usage") && j["usage"].is_object()) {
              const Json& u = j["usage"];
              if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer()) {
                c.prompt_tokens = u["prompt_tokens"].get<int64_t>();
                usage = true;
              }
              if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer()) {
                c.completion_tokens = u["completion_tokens"].get<int64_t>();
              }
            }
          }
        }
        line.clear();
      }
      return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const double limit_s = kStreamTimeouts * o_.timeout_s;
    bool sent = false, late = false;
    {
      engine::Watchdog deadline(limit_s, [&client] { client.stop(); });
      sent = client.send(req, res, err);
      late = deadline.expired();
    }
    if (sent && status == 200 && done) {  // whole, even if the deadline passed just then
      if (!usage) c.completion_tokens = EstimateTokens(c.text);
      return c;
    }
    const std::string why = late   ? "not done within " + engine::NumberForMessage(limit_s) + " s"
                            : sent ? "no [DONE]"
                                   : httplib::to_string(err);
    if (got_piece) {  // a broken stream cannot be taken back: no retry
      return Status::Unavailable("provider " + origin + " stopped streaming: " + why);
    }
    double wait = o_.backoff_s * std::pow(2.0, attempt);
    if (late || !sent) {
      last = Status::Unavailable("provider " + origin + " did not answer: " + why);
    } else if (status == 200) {
      last = Status::Unavailable("provider " + origin + " ended the stream without [DONE]");
    } else {
      last = Status::Internal("provider " + origin + " answered " + std::to_string(status) + ": " +
                              ProviderMessage(error_body));
      if (status != 429 && status < 500) return last;
      if (status == 429 && res.has_header("Retry-After")) {
        wait = std::min(5.0, std::atof(res.get_header_value("Retry-After").c_str()));
      }
    }
    if (attempt < o_.retries) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
  return last;
}

Result<Completion> OpenAiClient::Complete(const std::vector<ChatTurn>& messages) const {
  int64_t estimate = 0;
  const std::string req = ChatBody(messages, false, &estimate);
  Completion c;
  STRIDE_ASSIGN_OR_RETURN(std::string body, Post("/chat/completions", req, &c.attempts));
  const Json j = Json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() ||
      j["choices"].empty() || !j["choices"][0].is_object()) {
    return Status::Internal("provider answered without choices: " +
                            engine::EscapeForLog(body, 200));
  }
  const Json& choice = j["choices"][0];
  const Json* content = nullptr;
  if (choice.contains("message") && choice["message"].is_object() &&
      choice["message"].contains("content")) {
    content = &choice["message"]["content"];
  }
  if (!content || !content->is_string()) {
    return Status::Internal("provider answered without message content");
  }
  c.text = engine::ValidUtf8(content->get<std::string>());
  c.model = j.value("model", o_.model);
  const Json usage = j.value("usage", Json::object());
  c.prompt_tokens = usage.is_object() && usage.contains("prompt_tokens") &&
                            usage["prompt_tokens"].is_number_integer()
                        ? usage["prompt_tokens"].get<int64_t>()
                        : estimate;
  c.completion_tokens = usage.is_object() && usage.contains("completion_tokens") &&
                                usage["completion_tokens"].is_number_integer()
                            ? usage["completion_tokens"].get<int64_t>()
                            : EstimateTokens(c.text);
  return c;
}

Result<std::vector<std::vector<float>>> OpenAiClient::Embed(const std::vector<std::string>& texts,
                                                            int64_t* tokens) const {
  std::vector<std::vector<float>> out;
  // At most 256 inputs a request (providers cap it: OpenAI at 2048).
  for (size_t from = 0; from < texts.size(); from += 256) {
    Json input = Json::array();
    for (size_t i = from; i < texts.size() && i < from + 256; ++i) {
      input.push_back(engine::ValidUtf8(texts[i].empty() ? " " : texts[i]));
    }
    Json req = {{"model", o_.model}, {"input", input}, {"encoding_format", "float"}};
    if (o_.dimensions > 0) req["dimensions"] = o_.dimensions;
    int attempts = 0;
    STRIDE_ASSIGN_OR_RETURN(std::string body,
                            Post("/embeddings", engine::DumpJson(req), &attempts));
    const Json j = Json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("data") || !j["data"].is_array() ||
        j["data"].size() != input.size()) {
      return Status::Internal("provider's embeddings: expected " + std::to_string(input.size()) +
                              " vectors");
    }
    std::vector<std::vector<float>> part(input.size());
    for (const Json& d : j["data"]) {
      const size_t index = d.value("index", size_t{0});
      if (index >= part.size() || !d.contains("embedding") || !d["embedding"].is_array() ||
          d["embedding"].size() != o_.dimensions) {
        return Status::Internal("provider's embedding " + std::to_string(index) + ": expected " +
                                std::to_string(o_.dimensions) + " numbers");
      }
      for (const Json& x : d["embedding"]) {
        if (!x.is_number()) return Status::Internal("provider's embedding holds a non-number");
        part[index].push_back(x.get<float>());
      }
      engine::retrieval::Normalize(&part[index]);
    }
    if (tokens && j.contains("usage") && j["usage"].is_object()) {
      *tokens += j["usage"].value("total_tokens", int64_t{0});
    }
    for (auto& v : part) out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<std::vector<float>>> OpenAiEmbedder::Embed(
    const std::vector<std::string>& texts) {
  return client_.Embed(texts);
}

}  // namespace stride::plugins::chat
