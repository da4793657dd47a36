// SPDX-License-Identifier: Apache-2.0
//
// The OpenAPI document built from a route table (server/openapi.hpp), and the checker the
// integration tests hold every answer to (tests/support/api_client.hpp, json_schema.hpp).
#include "server/openapi.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/api_client.hpp"
#include "tests/support/json_schema.hpp"

namespace stride::server {
namespace {

using Json = nlohmann::json;

std::vector<ApiRoute> Table() {
  return {{"GET", "/v1/routes", "routes", "", 0, false},
          {"GET", "/v1/runs/{id}", "run", "runner:read", 0, false},
          {"POST", "/v1/runs", "run_upload", "runner:write", 1000, false},
          {"*", "/v1/{plugin}/{*}", "plugins", "plugin", 1 << 20, false},
          {"GET", "/v1/health", "health", "", 0, true}};
}

Json DocOf(const OpenApiDocument& d) {
  return Json::parse(d.json.dump());
}

TEST(OpenApi, DescribesEachRouteFromItsTableEntry) {
  const OpenApiDocument d = BuildOpenApi(Table(), {}, "9.9.9");
  EXPECT_TRUE(d.undocumented.empty());
  const Json doc = DocOf(d);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_EQ(doc["info"]["version"], "9.9.9");
  EXPECT_FALSE(doc["paths"].contains("/v1/{plugin}/{*}"));  // the plugins' prefix is not an op
  const Json& run = doc["paths"]["/v1/runs/{id}"]["get"];
  EXPECT_EQ(run["operationId"], "run");
  EXPECT_EQ(run["security"], Json::parse(R"([{"bearer":["runner:read"]}])"));
  EXPECT_TRUE(run["responses"].contains("401"));
  EXPECT_TRUE(run["responses"].contains("404"));
  // The path parameter comes from the pattern (here by the shared "id").
  EXPECT_EQ(run["parameters"][0]["$ref"], "#/components/parameters/id");
  const Json& upload = doc["paths"]["/v1/runs"]["post"];
  EXPECT_EQ(upload["x-max-body-bytes"], 1000);
  EXPECT_NE(upload["responses"]["413"]["description"].get<std::string>().find("1000 bytes"),
            std::string::npos);
  EXPECT_TRUE(upload["responses"]["201"]["content"].contains("application/x-protobuf"));
  // Its errors too, the route's own (422) and the common ones (401).
  for (const char* code : {"422", "401"}) {
    EXPECT_EQ(upload["responses"][code]["content"]["application/x-protobuf"]["x-protobuf-message"],
              "stride.api.ErrorResponse")
        << code;
  }
  EXPECT_EQ(doc["components"]["responses"]["Track"]["content"].size(), 3u);
  // A public route: no security, no 401; answered on the loop: not rate limited.
  const Json& health = doc["paths"]["/v1/health"]["get"];
  EXPECT_TRUE(health["security"].empty());
  EXPECT_FALSE(health["responses"].contains("401"));
  EXPECT_FALSE(health["responses"].contains("429"));
  EXPECT_EQ(health["responses"]["413"]["description"], "this endpoint takes no body");
  EXPECT_TRUE(doc["paths"]["/v1/routes"]["get"]["responses"].contains("429"));
}

TEST(OpenApi, NamesRoutesWithoutADescription) {
  std::vector<ApiRoute> t = Table();
  t.push_back({"GET", "/v1/new/{thing}", "brand_new", "", 0, false});
  const OpenApiDocument d = BuildOpenApi(t, {{"x", "GET", "/v1/x/y", "", ""}}, "1");
  ASSERT_EQ(d.undocumented.size(), 2u);
  EXPECT_EQ(d.undocumented[0], "GET /v1/new/{thing} (brand_new)");
  EXPECT_EQ(d.undocumented[1], "GET /v1/x/y (plugin x)");
  const Json doc = DocOf(d);
  EXPECT_TRUE(doc["paths"]["/v1/new/{thing}"]["get"]["x-undocumented"].get<bool>());
  EXPECT_EQ(doc["paths"]["/v1/new/{thing}"]["get"]["parameters"][0]["name"], "thing");
}

TEST(OpenApi, EveryDescriptionParsesAndIsUsed) {
  // Each description names a route the table has (a renamed route would leave one behind).
  std::vector<ApiRoute> t;
  for (const std::string& name : DescribedRouteNames()) {
    t.push_back({"GET", "/v1/test/" + name, name, "", 0, false});
  }
  const Json doc = DocOf(BuildOpenApi(t, {}, "1"));
  EXPECT_EQ(doc.dump().find("x-parse-error"), std::string::npos) << doc.dump().substr(0, 500);
  EXPECT_EQ(doc["paths"].size(), DescribedRouteNames().size());
}

TEST(OpenApi, TakesAPluginsOperationAndAddsTheCommonAnswers) {
  const std::string op = R"({"summary":"Hi","parameters":["limit"],
    "responses":{"200":"RouteList","204":""}})";
  const OpenApiDocument d =
      BuildOpenApi({}, {{"demo", "GET", "/v1/demo/{id}/hi", "runner:read", op}}, "1");
  EXPECT_TRUE(d.undocumented.empty());
  const Json o = DocOf(d)["paths"]["/v1/demo/{id}/hi"]["get"];
  EXPECT_EQ(o["summary"], "Hi");
  EXPECT_EQ(o["operationId"], "demo_get_id_hi");
  EXPECT_EQ(o["x-plugin"], "demo");
  EXPECT_EQ(o["parameters"][0]["$ref"], "#/components/parameters/limit");
  EXPECT_EQ(o["parameters"][1]["name"], "id");
  // A path parameter the plugin names by the shared "id" is not declared twice.
  const std::string by_ref = R"({"summary":"Ref","parameters":["id"],"responses":{"200":""}})";
  const Json r = DocOf(BuildOpenApi({}, {{"demo", "GET", "/v1/demo/{id}", "", by_ref}}, "1"));
  EXPECT_EQ(r["paths"]["/v1/demo/{id}"]["get"]["parameters"].size(), 1u);
  EXPECT_EQ(o["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/RouteList");
  EXPECT_FALSE(o["responses"]["204"].contains("content"));
  EXPECT_TRUE(o["responses"].contains("401"));
  // Not an operation: reported, and the route listed as undocumented.
  const OpenApiDocument bad =
      BuildOpenApi({}, {{"demo", "GET", "/v1/demo", "", R"({"summary":"no responses"})"}}, "1");
  EXPECT_EQ(bad.problems.size(), 1u);
  EXPECT_EQ(bad.undocumented.size(), 1u);
}

TEST(OpenApi, QueryNamesComeFromTheDocumentAndAnUnknownOneIsNamed) {
  const std::string op = R"({"summary":"Hi","parameters":["limit", {"name": "team",
    "in": "query", "schema": {"type": "string"}}],"responses":{"200":""}})";
  const std::string none = R"({"summary":"Bare","responses":{"200":""}})";
  const OpenApiDocument d = BuildOpenApi(Table(),
                                         {{"demo", "GET", "/v1/demo/{id}/hi", "", op},
                                          {"demo", "POST", "/v1/demo/bare", "", none},
                                          {"demo", "GET", "/v1/demo/undescribed", "", ""}},
                                         "1");
  const QueryNames names = QueryNamesOf(d.json);
  // Shared parameters by reference and a plugin's own; path parameters are not query ones.
  EXPECT_EQ(names.at("GET /v1/demo/{id}/hi"), (std::vector<std::string>{"limit", "team"}));
  EXPECT_EQ(names.at("GET /v1/routes").front(), "bbox");
  EXPECT_TRUE(names.at("GET /v1/runs/{id}").empty());
  EXPECT_FALSE(names.contains("GET /v1/demo/undescribed"));  // not described: not checked

  using Query = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(QueryParameterProblem(names, "GET", "/v1/demo/{id}/hi",
                                  Query{{"limit", "5"}, {"team", "red"}}),
            std::nullopt);
  EXPECT_EQ(QueryParameterProblem(names, "HEAD", "/v1/demo/{id}/hi", Query{{"limt", "5"}}),
            "limt: unknown parameter (expected limit, team)");
  // A repeated parameter: the first was taken and the rest dropped.
  EXPECT_EQ(QueryParameterProblem(names, "GET", "/v1/demo/{id}/hi",
                                  Query{{"team", "red"}, {"limit", "5"}, {"team", "blue"}}),
            "team: given more than once (one value each; a list is one value, as the parameter "
            "describes)");
  EXPECT_EQ(QueryParameterProblem(names, "POST", "/v1/demo/bare", Query{{"x", ""}}),
            "x: unknown parameter (POST /v1/demo/bare takes none)");
  EXPECT_EQ(QueryParameterProblem(names, "GET", "/v1/demo/undescribed", Query{{"x", ""}}),
            std::nullopt);
  // A plugin's parameter without a name (or not an object) is no query name, and no crash.
  const std::string odd_op =
      R"({"summary":"Odd","parameters":[{"in":"query"}, 7, {"name":"ok","in":"query"}],
        "responses":{"200":""}})";
  const QueryNames odd_names =
      QueryNamesOf(BuildOpenApi({}, {{"demo", "GET", "/v1/demo/odd", "", odd_op}}, "1").json);
  EXPECT_EQ(odd_names.at("GET /v1/demo/odd"), std::vector<std::string>{"ok"});
  // Client bytes in the message are escaped and cut.
  const std::optional<std::string> odd = QueryParameterProblem(
      names, "GET", "/v1/runs/{id}", Query{{"\xff\n" + std::string(200, 'a'), ""}});
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(odd->find('\n'), std::string::npos) << *odd;
  EXPECT_LT(odd->size(), 160u) << *odd;
}

TEST(SchemaChecker, FindsWhatIsWrongAndWhere) {
  const Json doc = DocOf(BuildOpenApi(Table(), {}, "1"));
  stride::testing::SchemaChecker check(doc);
  const Json list = {{"$ref", "#/components/schemas/RouteList"}};
  const Json good = Json::parse(R"({"routes":[{"id":3,"osm":"r3","name":"A","type":"hiking",
      "length_m":1.5,"ascent_m":2,"loop":false,"start":[1,2],"bbox":[1,2,3,4]}],
      "next_cursor":null})");
  EXPECT_TRUE(check.Check(list, good).empty());
  Json bad = good;
  bad["routes"][0]["id"] = "3";
  bad["routes"][0].erase("loop");
  bad["routes"][0]["bbox"] = {1, 2, 3};
  bad["next_cursor"] = 7;
  const std::vector<std::string> p = check.Check(list, bad);
  ASSERT_EQ(p.size(), 4u);
  auto has = [&](const std::string& prefix) {
    return std::any_of(p.begin(), p.end(),
                       [&](const std::string& x) { return x.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(has("/routes/0: missing required loop"));
  EXPECT_TRUE(has("/routes/0/bbox: too few items"));
  EXPECT_TRUE(has("/routes/0/id: expected integer, got string"));
  EXPECT_TRUE(has("/next_cursor: expected string or null, got integer"));
  // An integral float is an integer; 1.5 is not.
  EXPECT_TRUE(check.Check(Json{{"type", "integer"}}, 2.0).empty());
  EXPECT_FALSE(check.Check(Json{{"type", "integer"}}, 1.5).empty());
  // A keyword the checker does not know is a problem, not a silent pass.
  EXPECT_FALSE(check.Check(Json{{"uniqueItems", true}}, Json::array()).empty());
}

TEST(ApiContract, HoldsAnAnswerToItsOperation) {
  const stride::testing::ApiContract contract(DocOf(BuildOpenApi(Table(), {}, "1")));
  const std::string error = R"({"error":{"code":"not_found","message":"no run 1"}})";
  EXPECT_TRUE(contract.Problems("GET", "/v1/runs/abc?x=1", 404, "application/json", error).empty());
  // A status the operation does not list.
  EXPECT_EQ(contract.Problems("GET", "/v1/runs/abc", 409, "application/json", error).size(), 1u);
  // A body that is not the documented one.
  const auto p = contract.Problems("GET", "/v1/runs/abc", 200, "application/json", R"({"id":1})");
  EXPECT_FALSE(p.empty());
  // An undocumented path is fine only as a 404 error.
  EXPECT_TRUE(contract.Problems("GET", "/v1/nothing", 404, "application/json", error).empty());
  EXPECT_EQ(contract.Problems("GET", "/v1/nothing", 200, "application/json", "{}").size(), 1u);
  // A content type the answer does not list.
  EXPECT_EQ(contract.Problems("GET", "/v1/routes", 200, "text/html", "<p>").size(), 1u);
}

}  // namespace
}  // namespace stride::server
