// SPDX-License-Identifier: Apache-2.0
#include "tests/support/api_client.hpp"

#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>

namespace stride::testing {

namespace {

bool IsJsonType(const std::string& t) {
  return t == "application/json" || (t.size() > 5 && t.substr(t.size() - 5) == "+json");
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) parts.push_back(part);
  return parts;
}

}  // namespace

std::vector<std::string> ApiContract::Problems(const std::string& method, std::string path,
                                               int status, const std::string& content_type,
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

const ApiContract::Json& ApiContract::Deref(const Json& v) const {
  if (v.contains("$ref"))
    return doc_.at(Json::json_pointer(v["$ref"].get<std::string>().substr(1)));
  return v;
}
void ApiContract::CheckError(const std::string& type, const std::string& body,
                             std::vector<std::string>* out) const {
  if (body.empty() || type == "application/x-protobuf") return;
  const Json value = Json::parse(body, nullptr, false);
  if (value.is_discarded()) return out->push_back("an error answer that is not JSON");
  for (std::string& p : SchemaChecker(doc_).Check(doc_["components"]["schemas"]["Error"], value)) {
    out->push_back(p);
  }
}
const ApiContract::Json* ApiContract::FindPath(const std::string& path) const {
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

std::shared_ptr<const ApiContract> ContractOf(int port, const std::string& host) {
  httplib::Client raw(host, port);
  auto doc = raw.Get("/v1/openapi.json");
  if (!doc || doc->status != 200) {
    ADD_FAILURE() << "GET /v1/openapi.json on port " << port << " failed";
    return nullptr;
  }
  // Parsed once per distinct document: a test makes a client per request and servers differ
  // in their documents only by their options (plugins add paths). Parsing it again for every
  // client was two thirds of Serve.RandomQueriesEqualABruteForceScan's time under the
  // sanitizers.
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const ApiContract>> parsed;
  std::lock_guard lock(mu);
  std::shared_ptr<const ApiContract>& contract = parsed[doc->body];
  if (!contract) contract = std::make_shared<const ApiContract>(nlohmann::json::parse(doc->body));
  return contract;
}

void ExpectKeeps(const ApiContract& contract, const std::string& method, const std::string& target,
                 int status, const std::string& content_type, const std::string& body) {
  for (const std::string& p : contract.Problems(method, target, status, content_type, body)) {
    ADD_FAILURE() << "the answer to " << method << " " << target << " (" << status
                  << ") breaks the OpenAPI contract: " << p << "\n  body: " << body.substr(0, 300);
  }
}

void ExpectKeepsContract(const ApiContract& contract, const std::string& method,
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

httplib::Client ApiClient(int port, const std::string& host) {
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
