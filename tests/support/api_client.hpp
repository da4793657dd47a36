// SPDX-License-Identifier: Apache-2.0
//
// The integration tests' HTTP client: an httplib::Client whose every answer is checked against
// the server's own OpenAPI document (GET /v1/openapi.json, read once per client on its first
// answer). Checked: the path matches a documented path (else the answer must be a 404 or 405
// error), the method is documented there (else a 405/404 error), the status is among the
// operation's answers (408, 431 and 501 of the HTTP layer are allowed on any), the content
// type is among that answer's, and a JSON body matches its schema (tests/support/
// json_schema.hpp). A mismatch is a test failure naming the request and the problem, so an
// endpoint that answers what its contract does not say fails the test that called it.
//
// Use ApiClient(port) where a test would construct httplib::Client("127.0.0.1", port).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/json_schema.hpp"

namespace stride::testing {

class ApiContract {
 public:
  using Json = nlohmann::json;

  explicit ApiContract(Json doc) : doc_(std::move(doc)) {}

  // The problems of one answer (empty: it keeps the contract).
  std::vector<std::string> Problems(const std::string& method, std::string path, int status,
                                    const std::string& content_type,
                                    const std::string& body) const {
    std::vector<std::string> out;
    const size_t q = path.find('?');
    if (q != std::string::npos) path.resize(q);
    const std::string type = content_type.substr(0, content_type.find(';'));
    if (method == "OPTIONS") {  // a CORS preflight, the HTTP layer's on any path
      if (status == 403 || status == 404) {
        CheckError(type, body, &out);
      } else if (status != 204) {
        out.push_back("a preflight answered other than 204, 403 or 404");
      }
      return out;
    }
    const Json* item = FindPath(path);
    if (!item) {
      if (status == 404 || status == 405) {
        CheckError(type, body, &out);
      } else {
        out.push_back("the path is not in the document");
      }
      return out;
    }
    std::string m = method == "HEAD" ? "get" : method;
    for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!item->contains(m)) {
      if (status == 405 || status == 404) {
        CheckError(type, body, &out);
      } else {
        out.push_back("the method is not documented for this path");
      }
      return out;
    }
    const Json& responses = (*item)[m]["responses"];
    const std::string code = std::to_string(status);
    if (!responses.contains(code)) {
      if (status == 408 || status == 431 || status == 501) {
        CheckError(type, body, &out);
      } else {
        out.push_back("status " + code + " is not among the documented answers");
      }
      return out;
    }
    const Json& answer = Deref(responses[code]);
    if (body.empty() || method == "HEAD") return out;
    if (!answer.contains("content")) {
      out.push_back("a body where the document says there is none");
      return out;
    }
    if (!answer["content"].contains(type)) {
      out.push_back("content type '" + type + "' is not among the documented " +
                    answer["content"].dump().substr(0, 200));
      return out;
    }
    const Json& media = answer["content"][type];
    if (!IsJsonType(type) || !media.contains("schema")) return out;
    const Json value = Json::parse(body, nullptr, false);
    if (value.is_discarded()) {
      out.push_back("the body is not JSON");
      return out;
    }
    for (std::string& p : SchemaChecker(doc_).Check(media["schema"], value)) out.push_back(p);
    return out;
  }

 private:
  static bool IsJsonType(const std::string& t) {
    return t == "application/json" || (t.size() > 5 && t.substr(t.size() - 5) == "+json");
  }
  const Json& Deref(const Json& v) const {
    if (v.contains("$ref"))
      return doc_.at(Json::json_pointer(v["$ref"].get<std::string>().substr(1)));
    return v;
  }
  void CheckError(const std::string& type, const std::string& body,
                  std::vector<std::string>* out) const {
    if (body.empty() || type == "application/x-protobuf") return;
    const Json value = Json::parse(body, nullptr, false);
    if (value.is_discarded()) return out->push_back("an error answer that is not JSON");
    for (std::string& p :
         SchemaChecker(doc_).Check(doc_["components"]["schemas"]["Error"], value)) {
      out->push_back(p);
    }
  }
  static std::vector<std::string> Split(const std::string& path) {
    std::vector<std::string> parts;
    std::stringstream ss(path);
    std::string part;
    while (std::getline(ss, part, '/')) parts.push_back(part);
    return parts;
  }
  // The documented path the request path is an instance of, preferring literal segments.
  const Json* FindPath(const std::string& path) const {
    const std::vector<std::string> want = Split(path);
    const Json* best = nullptr;
    int best_literals = -1;
    for (const auto& [templ, item] : doc_["paths"].items()) {
      const std::vector<std::string> have = Split(templ);
      if (have.size() != want.size()) continue;
      int literals = 0;
      bool ok = true;
      for (size_t i = 0; i < have.size() && ok; ++i) {
        if (have[i].size() > 1 && have[i].front() == '{' && have[i].back() == '}') {
          ok = !want[i].empty();
        } else if (have[i] == want[i]) {
          ++literals;
        } else {
          ok = false;
        }
      }
      if (ok && literals > best_literals) {
        best = &item;
        best_literals = literals;
      }
    }
    return best;
  }

  Json doc_;
};

// The contract the server on `port` serves, read now; null (after a test failure) when it
// cannot be read.
inline std::shared_ptr<const ApiContract> ContractOf(int port,
                                                     const std::string& host = "127.0.0.1") {
  httplib::Client raw(host, port);
  auto doc = raw.Get("/v1/openapi.json");
  if (!doc || doc->status != 200) {
    ADD_FAILURE() << "GET /v1/openapi.json on port " << port << " failed";
    return nullptr;
  }
  return std::make_shared<const ApiContract>(nlohmann::json::parse(doc->body));
}

// A test failure for each problem of one answer, naming the request.
inline void ExpectKeeps(const ApiContract& contract, const std::string& method,
                        const std::string& target, int status, const std::string& content_type,
                        const std::string& body) {
  for (const std::string& p : contract.Problems(method, target, status, content_type, body)) {
    ADD_FAILURE() << "the answer to " << method << " " << target << " (" << status
                  << ") breaks the OpenAPI contract: " << p << "\n  body: " << body.substr(0, 300);
  }
}

// For tests that speak HTTP over a raw socket: checks one whole answer as read from it (status
// line, headers, body) to `method target`. No answer (a closed or timed-out connection) is
// not checked; a chunked body is checked for its status and type only.
inline void ExpectKeepsContract(const ApiContract& contract, const std::string& method,
                                const std::string& target, const std::string& raw) {
  if (raw.size() < 12 || raw.compare(0, 5, "HTTP/") != 0) return;
  const int status = std::atoi(raw.c_str() + 9);
  const size_t end = raw.find("\r\n\r\n");
  std::string head = raw.substr(0, end);
  for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto header = [&](const std::string& name) {
    const size_t at = head.find("\r\n" + name + ":");
    if (at == std::string::npos) return std::string();
    const size_t from = raw.find_first_not_of(' ', at + name.size() + 3);
    return raw.substr(from, raw.find("\r\n", from) - from);
  };
  const bool chunked = header("transfer-encoding").find("chunked") != std::string::npos;
  const std::string body = end == std::string::npos || chunked ? "" : raw.substr(end + 4);
  ExpectKeeps(contract, method, target, status, header("content-type"), body);
}

inline httplib::Client ApiClient(int port, const std::string& host = "127.0.0.1") {
  httplib::Client c(host, port);
  struct Lazy {
    std::mutex mu;
    std::shared_ptr<const ApiContract> contract;
    bool tried = false;
  };
  auto lazy = std::make_shared<Lazy>();
  c.set_logger([lazy, host, port](const httplib::Request& req, const httplib::Response& res) {
    std::shared_ptr<const ApiContract> contract;
    {
      std::lock_guard lock(lazy->mu);
      if (!lazy->tried) {
        lazy->tried = true;
        lazy->contract = ContractOf(port, host);
      }
      contract = lazy->contract;
    }
    if (!contract) return;
    ExpectKeeps(*contract, req.method, req.path, res.status, res.get_header_value("Content-Type"),
                res.body);
  });
  return c;
}

}  // namespace stride::testing
