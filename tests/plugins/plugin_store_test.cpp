// SPDX-License-Identifier: Apache-2.0
//
// plugins/api/plugin_store.hpp over a host function table backed by a map, with failures on
// demand: every failure of the host is an ApiError 500 with the host's reason (a failed scan or
// delete used to read as "nothing there" in two plugins), pages of runs are followed to the end.
#include "plugins/api/plugin_store.hpp"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stride::plugins {
namespace {

using Json = nlohmann::json;

// The host's side. The context handle points here.
struct FakeHost {
  std::map<std::string, std::string> kv;  // "user|key" (user "-" for the plugin's own)
  std::vector<std::string> runs;          // ids, newest first
  std::vector<std::string> run_queries;   // what runs_list was asked
  bool failing = false;
  std::string error;
};

FakeHost* Of(stride_host_t* ctx) {
  return reinterpret_cast<FakeHost*>(ctx);
}
std::string Key(const char* user, const char* key, size_t size) {
  return std::string(user ? user : "-") + "|" + std::string(key, size);
}
int Fail(FakeHost* h) {
  h->error = "store: I/O error in 000042.sst";
  return STRIDE_E_INTERNAL;
}

int KvGet(stride_host_t* ctx, const char* user, const char* key, size_t size, stride_sink_t* out) {
  FakeHost* h = Of(ctx);
  if (h->failing) return Fail(h);
  const auto it = h->kv.find(Key(user, key, size));
  if (it == h->kv.end()) return STRIDE_E_NOT_FOUND;
  out->write(out->ctx, it->second.data(), it->second.size());
  return STRIDE_OK;
}
int KvPut(stride_host_t* ctx, const char* user, const char* key, size_t size, const char* value,
          size_t value_size) {
  FakeHost* h = Of(ctx);
  if (h->failing) return Fail(h);
  h->kv[Key(user, key, size)] = std::string(value, value_size);
  return STRIDE_OK;
}
int KvDelete(stride_host_t* ctx, const char* user, const char* key, size_t size) {
  FakeHost* h = Of(ctx);
  if (h->failing) return Fail(h);
  h->kv.erase(Key(user, key, size));
  return STRIDE_OK;
}
int KvScan(stride_host_t* ctx, const char* user, const char* prefix, size_t size,
           int (*each)(void*, const char*, size_t, const char*, size_t), void* arg) {
  FakeHost* h = Of(ctx);
  if (h->failing) return Fail(h);
  const std::string from = Key(user, prefix, size);
  const size_t strip = from.size() - size;  // the "user|" part
  for (auto it = h->kv.lower_bound(from); it != h->kv.end() && it->first.starts_with(from); ++it) {
    if (each(arg, it->first.data() + strip, it->first.size() - strip, it->second.data(),
             it->second.size()) != 0) {
      break;
    }
  }
  return STRIDE_OK;
}
int RunsList(stride_host_t* ctx, const char*, const char* query, stride_sink_t* out) {
  FakeHost* h = Of(ctx);
  if (h->failing) return Fail(h);
  h->run_queries.push_back(query);
  const Json q = Json::parse(query);
  const size_t limit = std::stoul(q.value("limit", "20"));
  size_t i = 0;
  if (q.contains("before")) {
    while (i < h->runs.size() && h->runs[i] != q["before"]) ++i;
    ++i;
  }
  Json page = {{"runs", Json::array()}, {"next_before", nullptr}};
  for (; i < h->runs.size() && page["runs"].size() < limit; ++i) {
    page["runs"].push_back({{"id", h->runs[i]}});
  }
  if (i < h->runs.size()) page["next_before"] = page["runs"].back()["id"];
  const std::string text = page.dump();
  out->write(out->ctx, text.data(), text.size());
  return STRIDE_OK;
}
const char* LastError(stride_host_t* ctx) {
  return Of(ctx)->error.c_str();
}

class PluginStore : public ::testing::Test {
 protected:
  void SetUp() override {
    // A v1 table without profile_get and what follows it: the store must not call it.
    api_.struct_size = offsetof(stride_host_api_t, profile_get);
    api_.kv_get = KvGet;
    api_.kv_put = KvPut;
    api_.kv_delete = KvDelete;
    api_.kv_scan = KvScan;
    api_.runs_list = RunsList;
    api_.last_error = LastError;
  }
  HostStore store() { return HostStore(&api_, reinterpret_cast<stride_host_t*>(&host_)); }

  stride_host_api_t api_{};
  FakeHost host_;
};

TEST_F(PluginStore, KeysPerUserAndThePluginsOwn) {
  HostStore kv = store();
  kv.Put("ana", "r/1", "one");
  kv.Put("ana", "r/2", "two");
  kv.Put("ana", "s", "seen");
  kv.Put("ben", "r/3", "three");
  kv.Put(nullptr, "r/9", "shared");
  EXPECT_EQ(kv.Get("ana", "r/2"), "two");
  EXPECT_EQ(kv.Get("ben", "r/2"), std::nullopt);
  EXPECT_EQ(kv.Get(nullptr, "r/9"), "shared");
  using Rows = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(kv.Scan("ana", "r/"), (Rows{{"r/1", "one"}, {"r/2", "two"}}));
  EXPECT_EQ(kv.Scan("ana", "r/", /*strip=*/true), (Rows{{"1", "one"}, {"2", "two"}}));
  kv.Delete("ana", "r/1");
  kv.Delete("ana", "r/404");  // not there: no failure
  EXPECT_EQ(kv.Scan("ana", "r/"), (Rows{{"r/2", "two"}}));
}

TEST_F(PluginStore, EveryFailureIsA500WithTheHostsReason) {
  HostStore kv = store();
  kv.Put("ana", "r/1", "one");
  host_.failing = true;
  auto expect_500 = [&](auto call, const char* what) {
    try {
      call();
      ADD_FAILURE() << what << " did not throw";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status, 500) << what;
      EXPECT_EQ(e.code, "internal") << what;
      EXPECT_EQ(e.message, "store: I/O error in 000042.sst") << what;
    }
  };
  expect_500([&] { (void)kv.Get("ana", "r/1"); }, "Get");
  expect_500([&] { kv.Put("ana", "r/2", "two"); }, "Put");
  expect_500([&] { kv.Delete("ana", "r/1"); }, "Delete");
  expect_500([&] { (void)kv.Scan("ana", "r/"); }, "Scan");  // not an empty list
  expect_500([&] { kv.ForEachStoredRun("ana", [](const std::string&) {}); }, "ForEachStoredRun");
}

TEST_F(PluginStore, StoredRunsAreFollowedPageByPage) {
  for (int i = 250; i > 0; --i) host_.runs.push_back("run" + std::to_string(i));
  std::vector<std::string> seen;
  store().ForEachStoredRun("ana", [&](const std::string& id) { seen.push_back(id); });
  EXPECT_EQ(seen, host_.runs);  // all 250, in the host's order, none twice
  ASSERT_EQ(host_.run_queries.size(), 3u);
  EXPECT_EQ(Json::parse(host_.run_queries[0]), (Json{{"limit", "100"}}));
  EXPECT_EQ(Json::parse(host_.run_queries[2]), (Json{{"limit", "100"}, {"before", "run51"}}));

  host_.run_queries.clear();
  seen.clear();
  store().ForEachStoredRun(
      "ana", [&](const std::string& id) { seen.push_back(id); }, 2);
  EXPECT_EQ(seen.size(), 200u);  // at most max_pages pages
}

TEST_F(PluginStore, AnOlderHostHasNoProfileToGive) {
  EXPECT_EQ(store().Profile("ana"), std::nullopt);
}

}  // namespace
}  // namespace stride::plugins
