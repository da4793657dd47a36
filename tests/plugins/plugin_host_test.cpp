// SPDX-License-Identifier: Apache-2.0
//
// The plugin host with in-memory services and the example plugin built as real shared
// libraries: loading, every refusal, reload, rollback, namespaces, events, the ABI's promise.
#include "plugins/host/plugin_host.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/sha256.hpp"
#include "engine/text/iso_time.hpp"
#include "plugins/challenges/challenges.hpp"
#include "plugins/host/signing.hpp"

namespace stride::plugins {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

class HostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) /
            ("stride_plugins_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Result<Ed25519KeyPair> k = GenerateEd25519();
    ASSERT_TRUE(k.ok());
    key_ = *k;
  }
  void TearDown() override { fs::remove_all(dir_); }

  PluginServices Services() {
    PluginServices s;
    s.kv = [this](const std::string& name) -> Result<engine::KeyValue*> {
      std::lock_guard lock(mu_);
      auto& kv = kvs_[name];
      if (!kv) kv = std::make_unique<engine::MemoryKeyValue>();
      return kv.get();
    };
    s.runs_list = [](const std::string&, const std::string&) -> Result<std::string> {
      return std::string("{\"runs\":[]}");
    };
    s.run_get = [this](const std::string&, const std::string& id, bool) -> Result<std::string> {
      std::lock_guard lock(mu_);
      auto it = runs_.find(id);
      if (it == runs_.end()) return Status::NotFound("no run");
      return it->second;
    };
    s.route_query = [](const std::string&) -> Result<std::string> {
      return Status::NotFound("no routes here");
    };
    s.clock = &clock_;
    s.host_kv = &host_kv_;
    return s;
  }

  // Puts `lib` into the directory as NAME's library with a manifest, signed with `signer`
  // (empty: unsigned), and allows NAME.
  void Install(const std::string& lib, const std::string& version, const std::string& signer,
               const std::string& name = "hello") {
    const std::string file = "lib" + name + ".so";
    fs::copy_file(lib, dir_ + "/" + file, fs::copy_options::overwrite_existing);
    const std::string manifest = Json{{"name", name},
                                      {"version", version},
                                      {"library", file},
                                      {"sha256", engine::Sha256Hex(ReadAll(dir_ + "/" + file))}}
                                     .dump();
    WriteAll(dir_ + "/" + name + ".manifest.json", manifest);
    fs::remove(dir_ + "/" + name + ".manifest.sig");
    if (!signer.empty()) {
      Result<std::string> sig = SignEd25519(signer, manifest);
      ASSERT_TRUE(sig.ok());
      WriteAll(dir_ + "/" + name + ".manifest.sig", *sig);
    }
    WriteAll(dir_ + "/plugins.allow", "# plugins served here\n" + name + "\n");
  }

  std::unique_ptr<PluginHost> Host(bool dev = false, std::vector<BundledPlugin> bundled = {}) {
    PluginHostOptions o;
    o.dir = dir_;
    o.public_key_hex = key_.public_hex;
    o.dev = dev;
    o.rollback_min_calls = 10;
    o.tick_interval_s = 0;  // the tests tick
    auto h = std::make_unique<PluginHost>(o, Services(), std::move(bundled));
    EXPECT_TRUE(h->Start().ok());
    return h;
  }

  static PluginResponse Call(PluginHost& h, const std::string& method, const std::string& path,
                             const std::string& user = "", const std::string& body = "") {
    bool known = false;
    std::string allowed;
    std::optional<PluginHost::Match> m = h.Resolve(method, path, &known, &allowed);
    if (!m) return PluginResponse{known ? 405 : 404, "", allowed, nullptr};
    PluginRequest r{method, path, {}, user, body, {}};
    return h.Call(*m, r);
  }
  static std::string Version(PluginHost& h) {
    const PluginResponse r = Call(h, "GET", "/v1/hello");
    return r.status == 200 ? Json::parse(r.body)["plugin_version"].get<std::string>() : "";
  }
  static std::string Refusal(PluginHost& h, const std::string& name = "hello") {
    const Json list = Json::parse(h.ListJson());  // (a range-for over a temporary's member dangles)
    for (const Json& r : list["refused"]) {
      if (r["name"] == name) return r["why"];
    }
    return "";
  }

  std::string dir_;
  Ed25519KeyPair key_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<engine::MemoryKeyValue>> kvs_;
  std::map<std::string, std::string> runs_;
  engine::ManualClock clock_{1.8e9};
  engine::MemoryKeyValue host_kv_;
};

TEST_F(HostTest, LoadsASignedLibraryAndServesItsRoutes) {
  Install(HELLO_V1, "1.0.0", key_.private_hex);
  auto h = Host();
  EXPECT_EQ(Version(*h), "1.0.0");
  const Json list = Json::parse(h->ListJson());
  ASSERT_EQ(list["plugins"].size(), 1u);
  EXPECT_EQ(list["plugins"][0]["sha256"], engine::Sha256Hex(ReadAll(HELLO_V1)));
  EXPECT_EQ(list["plugins"][0]["routes"].size(), 3u);
  // Routes are matched with their scope; a wrong method on a plugin path is known (405).
  bool known = false;
  std::string allowed;
  auto m = h->Resolve("POST", "/v1/hello/notes", &known, &allowed);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->scope, "runner:write");
  EXPECT_FALSE(h->Resolve("DELETE", "/v1/hello/notes", &known, &allowed));
  EXPECT_TRUE(known);
  EXPECT_EQ(allowed, "POST, GET");
  EXPECT_FALSE(h->Resolve("GET", "/v1/nobody/x", &known, &allowed));
  EXPECT_FALSE(known);
}

// route_doc: a route's OpenAPI operation, kept with the route for GET /v1/openapi.json; text
// that is not an operation, or an id no route has, is refused with the reason.
std::vector<std::pair<int, std::string>> route_doc_results;
const stride_plugin_info_t* DocsInfo() {
  static const stride_plugin_info_t info = {sizeof(stride_plugin_info_t), STRIDE_PLUGIN_ABI_VERSION,
                                            "docs", "1.0.0"};
  return &info;
}
int DocsInit(const stride_host_api_t* host, stride_host_t* ctx, stride_plugin_t** self,
             const stride_plugin_api_t** api) {
  static const stride_plugin_api_t table = {sizeof(stride_plugin_api_t), nullptr, nullptr, nullptr};
  host->route_add(ctx, "GET", "/a", "", 1);
  host->route_add(ctx, "GET", "/b", "", 2);
  for (const auto& [id, text] : std::vector<std::pair<int, const char*>>{
           {1, R"({"summary":"A","responses":{"200":{"description":"OK"}}})"},
           {2, "not json"},
           {2, R"({"summary":"no answers"})"},
           {7, R"({"summary":"?","responses":{}})"}}) {
    const int rc = host->route_doc(ctx, id, text);
    route_doc_results.emplace_back(rc, host->last_error(ctx));
  }
  *self = nullptr;
  *api = &table;
  return STRIDE_OK;
}

TEST_F(HostTest, KeepsEachRoutesOperationAndRefusesWhatIsNotOne) {
  route_doc_results.clear();
  auto h = Host(false, {{DocsInfo, DocsInit}});
  ASSERT_EQ(route_doc_results.size(), 4u);
  EXPECT_EQ(route_doc_results[0].first, STRIDE_OK);
  EXPECT_EQ(route_doc_results[1].first, STRIDE_E_INVALID);
  EXPECT_NE(route_doc_results[1].second.find("responses"), std::string::npos);
  EXPECT_EQ(route_doc_results[2].first, STRIDE_E_INVALID);
  EXPECT_EQ(route_doc_results[3].first, STRIDE_E_INVALID);
  EXPECT_NE(route_doc_results[3].second.find("no route 7"), std::string::npos);
  const std::vector<PluginHost::RouteDoc> docs = h->RouteDocs();
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].pattern, "/v1/docs/a");
  EXPECT_EQ(Json::parse(docs[0].operation_json)["summary"], "A");
  EXPECT_EQ(docs[1].pattern, "/v1/docs/b");
  EXPECT_EQ(docs[1].operation_json, "");  // refused: left undescribed
}

TEST_F(HostTest, RefusesEachBadLibraryWithTheReason) {
  struct Case {
    const char* what;
    std::function<void()> install;
    bool dev;
    const char* why;
  };
  Result<Ed25519KeyPair> other = GenerateEd25519();
  ASSERT_TRUE(other.ok());
  const Case cases[] = {
      {"unsigned", [&] { Install(HELLO_V1, "1.0.0", ""); }, false, "unsigned"},
      {"another key", [&] { Install(HELLO_V1, "1.0.0", other->private_hex); }, false,
       "bad signature"},
      {"library swapped after signing",
       [&] {
         Install(HELLO_V1, "1.0.0", key_.private_hex);
         fs::copy_file(HELLO_V2, dir_ + "/libhello.so", fs::copy_options::overwrite_existing);
       },
       false, "is not the manifest's"},
      {"manifest edited after signing",
       [&] {
         Install(HELLO_V1, "1.0.0", key_.private_hex);
         std::string m = ReadAll(dir_ + "/hello.manifest.json");
         m.replace(m.find("1.0.0"), 5, "9.9.9");
         WriteAll(dir_ + "/hello.manifest.json", m);
       },
       false, "bad signature"},
      {"wrong ABI", [&] { Install(HELLO_BADABI, "1.0.0", key_.private_hex); }, false,
       "ABI version 99"},
      {"init fails", [&] { Install(HELLO_INITFAIL, "2.1.0", key_.private_hex); }, false,
       "init fails on purpose"},
      {"version differs from the manifest", [&] { Install(HELLO_V2, "1.0.0", key_.private_hex); },
       false, "the library is version 2.0.0"},
      {"not allowed",
       [&] {
         Install(HELLO_V1, "1.0.0", key_.private_hex);
         WriteAll(dir_ + "/plugins.allow", "");
       },
       false, "not in plugins.allow"},
  };
  for (const Case& c : cases) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    c.install();
    auto h = Host(c.dev);
    EXPECT_EQ(Version(*h), "") << c.what;
    EXPECT_NE(Refusal(*h).find(c.why), std::string::npos) << c.what << ": " << Refusal(*h);
  }
  // With --dev an unsigned library loads.
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  Install(HELLO_V1, "1.0.0", "");
  EXPECT_EQ(Version(*Host(true)), "1.0.0");
}

TEST_F(HostTest, ReloadSwapsOnlyAfterASuccessfulInit) {
  Install(HELLO_V1, "1.0.0", key_.private_hex);
  auto h = Host();
  ASSERT_EQ(Version(*h), "1.0.0");
  Install(HELLO_INITFAIL, "2.1.0", key_.private_hex);
  Json report = Json::parse(h->Reload());
  EXPECT_EQ(report[0]["result"], "refused");
  EXPECT_EQ(report[0]["serving"], "1.0.0");
  EXPECT_EQ(Version(*h), "1.0.0");  // the previous version still serves
  Install(HELLO_BADABI, "1.0.0", key_.private_hex);
  h->Reload();
  EXPECT_EQ(Version(*h), "1.0.0");
  Install(HELLO_V2, "2.0.0", key_.private_hex);
  report = Json::parse(h->Reload());
  EXPECT_EQ(report[0]["result"], "reloaded");
  EXPECT_EQ(Version(*h), "2.0.0");
  report = Json::parse(h->Reload());
  EXPECT_EQ(report[0]["result"], "unchanged");
}

TEST_F(HostTest, ABurstOfRequestsAcrossReloadsLosesNone) {
  Install(HELLO_V1, "1.0.0", key_.private_hex);
  auto h = Host();
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      while (!stop) {
        const PluginResponse r = Call(*h, "GET", "/v1/hello");
        const Json j = Json::parse(r.body, nullptr, false);
        const bool good = r.status == 200 && !j.is_discarded() &&
                          (j["plugin_version"] == "1.0.0" || j["plugin_version"] == "2.0.0");
        (good ? ok : bad)++;
      }
    });
  }
  for (int i = 0; i < 10; ++i) {
    Install(i % 2 ? HELLO_V1 : HELLO_V2, i % 2 ? "1.0.0" : "2.0.0", key_.private_hex);
    const Json report = Json::parse(h->Reload());
    EXPECT_EQ(report[0]["result"], "reloaded") << report;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(ok.load(), 100);
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(HostTest, AVersionThatKeepsFailingIsRolledBack) {
  Install(HELLO_V2, "2.0.0", key_.private_hex);
  auto h = Host();
  Install(HELLO_FAILING, "3.0.0", key_.private_hex);
  h->Reload();
  int failures = 0;
  for (int i = 0; i < 10; ++i) failures += Call(*h, "GET", "/v1/hello").status == 500;
  EXPECT_EQ(failures, 10);
  // Past 10 calls with more than half failing: back to 2.0.0.
  EXPECT_EQ(Version(*h), "2.0.0");
  EXPECT_NE(Refusal(*h).find("3.0.0 rolled back"), std::string::npos) << h->ListJson();
  const Json list = Json::parse(h->ListJson());
  EXPECT_NE(list["plugins"][0]["state"].get<std::string>().find("rolled back from 3.0.0"),
            std::string::npos);
}

TEST_F(HostTest, NamespacesAndUsersStayApartAndDeleteMeReachesEveryPlugin) {
  Install(HELLO_V1, "1.0.0", key_.private_hex);
  auto h = Host(false, {{challenges::Info, challenges::InitV1}});
  EXPECT_EQ(Call(*h, "POST", "/v1/hello/notes", "alice", "alice's note").status, 200);
  EXPECT_EQ(Call(*h, "POST", "/v1/hello/notes", "bob", "bob's note").status, 200);
  EXPECT_EQ(Call(*h, "GET", "/v1/hello/notes", "alice").body, "alice's note");
  EXPECT_EQ(Call(*h, "GET", "/v1/hello/notes", "bob").body, "bob's note");
  EXPECT_EQ(Call(*h, "GET", "/v1/hello/notes", "carol").status, 404);
  // Each plugin has a store of its own: hello's keys are not in challenges'.
  EXPECT_EQ(kvs_.at("hello")->size(), 2u);
  const PluginResponse c =
      Call(*h, "POST", "/v1/challenges", "alice", R"({"name":"30 days","kind":"daily","days":30})");
  ASSERT_EQ(c.status, 201) << c.body;
  const std::string id = Json::parse(c.body)["id"];
  ASSERT_EQ(Call(*h, "POST", "/v1/challenges/" + id + "/join", "alice", "{}").status, 201);
  bool alice_in_challenges = false;
  (void)kvs_.at("challenges")->Scan(PluginHost::StoredKey("alice", ""), [&](auto, auto) {
    alice_in_challenges = true;
    return false;
  });
  EXPECT_TRUE(alice_in_challenges);
  // Export: every plugin's keys of the user, and her profile.
  ASSERT_TRUE(h->PutProfile("alice", R"({"time_zone":"Europe/Paris"})").ok());
  Result<std::vector<std::pair<std::string, std::string>>> ex = h->ExportUser("alice");
  ASSERT_TRUE(ex.ok());
  ASSERT_EQ(ex->size(), 3u);  // hello, challenges and the host's own (profile, tick dates)
  std::map<std::string, Json> files;
  for (const auto& [name, text] : *ex) files[name] = Json::parse(text);
  EXPECT_EQ(files["host"]["keys"][0]["value"]["time_zone"], "Europe/Paris");
  EXPECT_EQ(files["hello"]["keys"][0]["key"], "note");
  EXPECT_EQ(files["hello"]["keys"][0]["value"], "alice's note");
  EXPECT_EQ(files["challenges"]["keys"][0]["key"], "j/" + id);
  // Delete-me: alice's keys leave every namespace, bob's stay.
  ASSERT_TRUE(h->DeleteUser("alice").ok());
  EXPECT_EQ(Call(*h, "GET", "/v1/hello/notes", "alice").status, 404);
  EXPECT_EQ(Call(*h, "GET", "/v1/hello/notes", "bob").body, "bob's note");
  alice_in_challenges = false;
  (void)kvs_.at("challenges")->Scan(PluginHost::StoredKey("alice", ""), [&](auto, auto) {
    alice_in_challenges = true;
    return false;
  });
  EXPECT_FALSE(alice_in_challenges);
}

TEST_F(HostTest, EventsArriveOffTheCallersThread) {
  Install(HELLO_V1, "1.0.0", key_.private_hex);
  auto h = Host();
  runs_["00000000000000a1"] = R"({"id":"00000000000000a1","distance_m":5000})";
  for (int i = 0; i < 3; ++i) {
    h->OnRunEvent({engine::RunEvent::Kind::kStored, "alice", 0xa1});
  }
  h->Drain();
  // The plugin counted them in alice's keys.
  Result<std::optional<std::string>> n =
      kvs_.at("hello")->Get(PluginHost::StoredKey("alice", "runs"));
  ASSERT_TRUE(n.ok() && n->has_value());
  EXPECT_EQ(**n, "3");
  // A public route gets no user, even if a caller passed one.
  EXPECT_EQ(Json::parse(Call(*h, "GET", "/v1/hello", "alice").body)["runs_seen"], 0);
  EXPECT_NE(h->MetricsText().find("stride_plugin_events_total{plugin=\"hello\"} 3"),
            std::string::npos)
      << h->MetricsText();
}

// The ABI's promise: a plugin built against v1 keeps working when the host's table grows.
struct LongerHostTable {
  stride_host_api_t v1;
  void (*added_in_v2)(stride_host_t*);
  int (*added_in_v3)(stride_host_t*, const char*);
};

// Two hosts on one store (two workers on one PostgreSQL) ticking at the same moment: each
// user's day is ticked by one of them, never both (the date is a compare and set).
TEST_F(HostTest, TwoHostsTickingAtOnceTickEachUserOncePerDay) {
  Install(HELLO_V1, "1.0.0", key_.private_hex);
  double start = 0;
  ASSERT_TRUE(engine::ParseIsoTime("2026-12-01T12:00:00Z", &start));
  clock_.Set(start);
  auto a = Host();
  auto b = Host();
  for (int u = 0; u < 20; ++u) {
    ASSERT_TRUE(a->PutProfile("user" + std::to_string(u), R"({"time_zone":"UTC"})").ok());
  }
  for (int day = 0; day < 10; ++day) {
    std::atomic<size_t> ticked{0};
    std::thread ta([&] { ticked += a->Tick(); });
    std::thread tb([&] { ticked += b->Tick(); });
    ta.join();
    tb.join();
    EXPECT_EQ(ticked.load(), 20u) << "day " << day;
    clock_.Advance(86400);
  }
}

TEST_F(HostTest, DailyTicksComeOncePerLocalDayAtTheSubscribedHourInEachUsersZone) {
  Install(HELLO_V1, "1.0.0", key_.private_hex);  // hello subscribes to "daily" at 06:00
  double midnight = 0;
  ASSERT_TRUE(engine::ParseIsoTime("2026-12-01T00:00:00Z", &midnight));
  clock_.Set(midnight);
  auto h = Host();
  ASSERT_TRUE(h->PutProfile("tokyo", R"({"time_zone":"Asia/Tokyo"})").ok());     // 09:00, Dec 1
  ASSERT_TRUE(h->PutProfile("ny", R"({"time_zone":"America/New_York"})").ok());  // 19:00, Nov 30
  ASSERT_TRUE(h->PutProfile("lon", R"({"time_zone":"Europe/London"})").ok());    // 00:00, Dec 1
  auto last = [&](const std::string& user) {
    h->Drain();
    Result<std::optional<std::string>> v =
        kvs_["hello"]->Get(PluginHost::StoredKey(user, "last_daily"));
    return v.ok() && v->has_value() ? **v : std::string("none");
  };
  EXPECT_EQ(h->Tick(), 2u);
  EXPECT_EQ(last("tokyo"), "2026-12-01");
  EXPECT_EQ(last("ny"), "2026-11-30");
  EXPECT_EQ(last("lon"), "none");  // not 06:00 in London yet
  EXPECT_EQ(h->Tick(), 0u);        // once per local day
  clock_.Advance(6 * 3600);        // 06:00Z: London's morning; New York's night
  EXPECT_EQ(h->Tick(), 1u);
  EXPECT_EQ(last("lon"), "2026-12-01");
  clock_.Advance(5 * 3600);  // 11:00Z: 06:00 in New York
  EXPECT_EQ(h->Tick(), 1u);
  EXPECT_EQ(last("ny"), "2026-12-01");
  // A restart neither repeats nor skips: the dates ticked are kept.
  h.reset();
  h = Host();
  EXPECT_EQ(h->Tick(), 0u);
  clock_.Advance(24 * 3600);
  EXPECT_EQ(h->Tick(), 3u);
  EXPECT_EQ(last("tokyo"), "2026-12-02");
  // Profiles: defaults, validation naming the field, and delete-me.
  EXPECT_EQ(Json::parse(*h->GetProfile("nobody"))["time_zone"], "UTC");
  const Status bad_zone = h->PutProfile("x", R"({"time_zone":"Mars/Base"})").status();
  EXPECT_EQ(bad_zone.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_zone.message().find("time_zone"), std::string::npos);
  const Status unknown = h->PutProfile("x", R"({"shoe_size":44})").status();
  EXPECT_NE(unknown.message().find("shoe_size"), std::string::npos);
  EXPECT_EQ(h->PutProfile("x", "[1]").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(h->DeleteUser("tokyo").ok());
  EXPECT_EQ(Json::parse(*h->GetProfile("tokyo"))["time_zone"], "UTC");
  EXPECT_EQ(host_kv_.size(), 4u);  // ny and lon: a profile and a tick date each
}

TEST(PluginAbi, AV1PluginWorksWithALongerHostTable) {
  void* dl = dlopen(HELLO_V1, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(dl, nullptr) << dlerror();
  auto info = reinterpret_cast<stride_plugin_info_fn>(dlsym(dl, "stride_plugin_info"));
  auto init = reinterpret_cast<stride_plugin_init_v1_fn>(dlsym(dl, "stride_plugin_init_v1"));
  ASSERT_TRUE(info && init);
  EXPECT_EQ(info()->abi_version, 1u);
  static int routes = 0;
  static std::string answered;
  LongerHostTable t{};
  t.v1.struct_size = sizeof(LongerHostTable);
  t.v1.set_error = [](stride_host_t*, const char*) {};
  t.v1.last_error = [](stride_host_t*) { return ""; };
  t.v1.route_add = [](stride_host_t*, const char*, const char*, const char*, int) {
    ++routes;
    return 0;
  };
  t.v1.subscribe = [](stride_host_t*, const char*, int) { return 0; };
  t.v1.kv_get = [](stride_host_t*, const char*, const char*, size_t, stride_sink_t*) {
    return STRIDE_E_NOT_FOUND;
  };
  t.v1.respond = [](stride_call_t*, int status, const char*, const char* body, size_t n) {
    answered = std::to_string(status) + " " + std::string(body, n);
    return 0;
  };
  static int docs = 0;
  t.v1.route_doc = [](stride_host_t*, int, const char* op) {
    docs += nlohmann::json::parse(op).contains("responses") ? 1 : 0;
    return 0;
  };
  t.added_in_v2 = [](stride_host_t*) {};
  t.added_in_v3 = [](stride_host_t*, const char*) { return 0; };
  stride_plugin_t* self = nullptr;
  const stride_plugin_api_t* api = nullptr;
  ASSERT_EQ(init(&t.v1, nullptr, &self, &api), 0);
  EXPECT_EQ(routes, 3);
  EXPECT_EQ(docs, 3);  // each route described, as the table has route_doc
  const std::string req = R"({"route_id":1,"user":null})";
  ASSERT_EQ(api->handle(self, nullptr, req.data(), req.size()), 0);
  EXPECT_EQ(answered.substr(0, 4), "200 ");
  EXPECT_NE(answered.find("\"hello\":\"world\""), std::string::npos);
  api->shutdown(self);
  // A table of v1's first release (up to subscribe, without the stream functions appended
  // since) is enough for hello, which uses none of them.
  LongerHostTable first = t;
  first.v1.struct_size = offsetof(stride_host_api_t, respond_stream);
  ASSERT_EQ(init(&first.v1, nullptr, &self, &api), 0);
  api->shutdown(self);
  // And a table shorter than v1 is refused by the plugin, cleanly.
  LongerHostTable shorter = t;
  shorter.v1.struct_size = sizeof(uint32_t) + sizeof(void*);
  EXPECT_NE(init(&shorter.v1, nullptr, &self, &api), 0);
  dlclose(dl);
}

TEST(PluginStream, HoldsEventsUntilAttachedThenSkipsWhatTheBacklogHad) {
  PluginStream s;
  for (uint64_t id = 1; id <= 5; ++id) EXPECT_TRUE(s.Offer(id, "e" + std::to_string(id) + ";"));
  s.SkipThrough(3);  // the answer's backlog went up to 3
  std::string got;
  bool open = true;
  s.Attach([&](std::string b) {
    got += b;
    return open;
  });
  EXPECT_EQ(got, "e4;e5;");
  EXPECT_TRUE(s.Offer(5, "again;"));  // already had: skipped
  EXPECT_TRUE(s.Offer(0, "no-id;"));  // events without an id always go
  EXPECT_TRUE(s.Offer(6, "e6;"));
  EXPECT_EQ(got, "e4;e5;no-id;e6;");
  open = false;
  EXPECT_FALSE(s.Offer(7, "e7;"));  // the client left: the subscription is over
  EXPECT_TRUE(s.over());
  EXPECT_FALSE(s.Offer(8, "e8;"));
  // A connection that never attaches cannot hold events without bound.
  PluginStream never;
  bool refused = false;
  for (size_t i = 0; i <= PluginStream::kMaxHeld && !refused; ++i)
    refused = !never.Offer(i + 1, "x");
  EXPECT_TRUE(refused);
  EXPECT_TRUE(never.over());
}

TEST(PluginStream, FormatsServerSentEvents) {
  EXPECT_EQ(FormatSse("milestone.reached", 7, R"({"a":1})"),
            "id: 7\nevent: milestone.reached\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(FormatSse(nullptr, 0, "two\nlines\r\nthree"),
            "data: two\ndata: lines\ndata: three\n\n");
  EXPECT_EQ(FormatSse("bad\nname", 1, ""), "id: 1\nevent: bad name\ndata: \n\n");
}

TEST(PluginAbi, TheChallengesLibraryExportsOnlyItsTwoSymbols) {
  void* dl = dlopen(CHALLENGES_SO, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(dl, nullptr) << dlerror();
  auto info = reinterpret_cast<stride_plugin_info_fn>(dlsym(dl, "stride_plugin_info"));
  ASSERT_NE(info, nullptr);
  EXPECT_STREQ(info()->name, "challenges");
  EXPECT_NE(dlsym(dl, "stride_plugin_init_v1"), nullptr);
  // Internal functions stay hidden.
  EXPECT_EQ(dlsym(dl, "_ZN6stride7plugins10challenges4InfoEv"), nullptr);
  dlclose(dl);
}

}  // namespace
}  // namespace stride::plugins
