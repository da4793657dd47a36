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
// Compiled once (api_client.cpp), not in each test file that includes it.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
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
                                    const std::string& content_type, const std::string& body) const;

 private:
  const Json& Deref(const Json& v) const;
  void CheckError(const std::string& type, const std::string& body,
                  std::vector<std::string>* out) const;
  // The documented path the request path is an instance of, preferring literal segments.
  const Json* FindPath(const std::string& path) const;

  Json doc_;
};

// The contract the server on `port` serves, read now; null (after a test failure) when it
// cannot be read.
std::shared_ptr<const ApiContract> ContractOf(int port, const std::string& host = "127.0.0.1");

// A test failure for each problem of one answer, naming the request.
void ExpectKeeps(const ApiContract& contract, const std::string& method, const std::string& target,
                 int status, const std::string& content_type, const std::string& body);

// For tests that speak HTTP over a raw socket: checks one whole answer as read from it (status
// line, headers, body) to `method target`. No answer (a closed or timed-out connection) is
// not checked; a chunked body is checked for its status and type only.
void ExpectKeepsContract(const ApiContract& contract, const std::string& method,
                         const std::string& target, const std::string& raw);

httplib::Client ApiClient(int port, const std::string& host = "127.0.0.1");

}  // namespace stride::testing
