// SPDX-License-Identifier: Apache-2.0
//
// A JSON Schema checker for the tests: the 2020-12 keywords the OpenAPI document of
// `stride serve` uses (server/openapi.cpp), so the integration tests can check every answer
// against it. Keywords: type (one or a list; "integer" is a number without a fraction), enum,
// const, properties, required, additionalProperties (a schema or false), items, minItems,
// maxItems, minimum, maximum, exclusiveMinimum, minLength, maxLength, pattern, allOf, anyOf,
// oneOf, and "$ref" to "#/..." in the same document. Annotations (description, example,
// default, contentMediaType, format) are ignored. An unknown keyword is reported, so a
// document that relies on one this checker does not know fails loudly instead of passing.
//
// Compiled once (json_schema.cpp, with <regex>), not in each of the twenty test files that
// include it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stride::testing {

class SchemaChecker {
 public:
  using Json = nlohmann::json;
  explicit SchemaChecker(const Json& root) : root_(root) {}

  // The problems of `value` against `schema`, each "<JSON pointer>: <what>"; empty when valid.
  std::vector<std::string> Check(const Json& schema, const Json& value) const;

 private:
  const Json* Resolve(const std::string& ref) const;
  void Walk(const Json& s, const Json& v, const std::string& at, std::vector<std::string>* out,
            int depth) const;

  const Json& root_;
};

}  // namespace stride::testing
