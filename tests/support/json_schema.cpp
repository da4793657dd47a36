// SPDX-License-Identifier: Apache-2.0
#include "tests/support/json_schema.hpp"

#include <cmath>
#include <regex>
#include <set>

namespace stride::testing {

namespace {

using Json = nlohmann::json;

std::string TypeOf(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}
bool IsType(const Json& v, const std::string& t) {
  if (t == "number") return v.is_number();
  if (t == "integer") {
    return v.is_number_integer() || v.is_number_unsigned() ||
           (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  }
  return TypeOf(v) == t;
}

}  // namespace

std::vector<std::string> SchemaChecker::Check(const Json& schema, const Json& value) const {
  std::vector<std::string> out;
  Walk(schema, value, "", &out, 0);
  return out;
}

const Json* SchemaChecker::Resolve(const std::string& ref) const {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  try {
    return &root_.at(Json::json_pointer(ref.substr(1)));
  } catch (const std::exception&) {
    return nullptr;
  }
}

void SchemaChecker::Walk(const Json& s, const Json& v, const std::string& at,
                         std::vector<std::string>* out, int depth) const {
  auto fail = [&](const std::string& why) { out->push_back((at.empty() ? "/" : at) + ": " + why); };
  if (depth > 64) return fail("schema nesting too deep ($ref cycle?)");
  if (s.is_boolean()) {
    if (!s.get<bool>()) fail("no value is allowed here");
    return;
  }
  if (!s.is_object()) return fail("the schema is not an object");
  static const std::set<std::string> kIgnored = {
      "description", "example",    "examples", "default",   "contentMediaType",  "format",
      "title",       "deprecated", "readOnly", "writeOnly", "x-protobuf-message"};
  for (const auto& [k, unused] : s.items()) {
    static const std::set<std::string> kKnown = {
        "type",      "enum",      "const",    "properties", "required", "additionalProperties",
        "items",     "minItems",  "maxItems", "minimum",    "maximum",  "exclusiveMinimum",
        "minLength", "maxLength", "pattern",  "allOf",      "anyOf",    "oneOf",
        "$ref"};
    if (!kKnown.count(k) && !kIgnored.count(k)) fail("the checker does not know keyword " + k);
  }
  if (s.contains("$ref")) {
    const Json* target = Resolve(s["$ref"].get<std::string>());
    if (!target) return fail("unresolved $ref " + s["$ref"].get<std::string>());
    Walk(*target, v, at, out, depth + 1);
  }
  if (s.contains("type")) {
    bool ok = false;
    std::string wanted;
    if (s["type"].is_string()) {
      wanted = s["type"].get<std::string>();
      ok = IsType(v, wanted);
    } else {
      for (const Json& t : s["type"]) {
        wanted += (wanted.empty() ? "" : " or ") + t.get<std::string>();
        ok = ok || IsType(v, t.get<std::string>());
      }
    }
    if (!ok)
      return fail("expected " + wanted + ", got " + TypeOf(v) + " " + v.dump().substr(0, 80));
  }
  if (s.contains("enum")) {
    bool found = false;
    for (const Json& e : s["enum"]) found = found || e == v;
    if (!found) fail("expected one of " + s["enum"].dump() + ", got " + v.dump().substr(0, 80));
  }
  if (s.contains("const") && s["const"] != v) {
    fail("expected " + s["const"].dump() + ", got " + v.dump().substr(0, 80));
  }
  if (v.is_number()) {
    const double x = v.get<double>();
    if (s.contains("minimum") && x < s["minimum"].get<double>()) fail("below the minimum");
    if (s.contains("maximum") && x > s["maximum"].get<double>()) fail("above the maximum");
    if (s.contains("exclusiveMinimum") && x <= s["exclusiveMinimum"].get<double>()) {
      fail("not above the exclusive minimum");
    }
  }
  if (v.is_string()) {
    const std::string& text = v.get_ref<const std::string&>();
    if (s.contains("minLength") && text.size() < s["minLength"].get<size_t>()) fail("too short");
    if (s.contains("maxLength") && text.size() > s["maxLength"].get<size_t>()) fail("too long");
    if (s.contains("pattern") &&
        !std::regex_search(text, std::regex(s["pattern"].get<std::string>()))) {
      fail("'" + text.substr(0, 80) + "' does not match " + s["pattern"].get<std::string>());
    }
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) fail("too few items");
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) fail("too many items");
    if (s.contains("items")) {
      for (size_t i = 0; i < v.size(); ++i) {
        Walk(s["items"], v[i], at + "/" + std::to_string(i), out, depth + 1);
      }
    }
  }
  if (v.is_object()) {
    if (s.contains("required")) {
      for (const Json& r : s["required"]) {
        if (!v.contains(r.get<std::string>())) fail("missing required " + r.get<std::string>());
      }
    }
    const Json props = s.value("properties", Json::object());
    for (const auto& [k, x] : v.items()) {
      if (props.contains(k)) {
        Walk(props[k], x, at + "/" + k, out, depth + 1);
      } else if (s.contains("additionalProperties")) {
        Walk(s["additionalProperties"], x, at + "/" + k, out, depth + 1);
      }
    }
  }
  if (s.contains("allOf")) {
    for (const Json& sub : s["allOf"]) Walk(sub, v, at, out, depth + 1);
  }
  auto matching = [&](const Json& list) {
    int n = 0;
    for (const Json& sub : list) {
      std::vector<std::string> tmp;
      Walk(sub, v, at, &tmp, depth + 1);
      n += tmp.empty() ? 1 : 0;
    }
    return n;
  };
  if (s.contains("anyOf") && matching(s["anyOf"]) == 0) fail("matches none of anyOf");
  if (s.contains("oneOf") && matching(s["oneOf"]) != 1) fail("does not match exactly one of oneOf");
}

}  // namespace stride::testing
