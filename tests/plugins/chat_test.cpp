// SPDX-License-Identifier: Apache-2.0
//
// The chat plugin through the real host and ABI with in-memory services: memory kept from run
// events and backfilled, retrieval answers and their reasons, messages (paged, the last 50,
// forgotten), the plan read from the plans plugin, users kept apart — and the
// OpenAI-compatible drivers against a real server on loopback written here (request shape,
// answers, usage, budgets, provider errors, retries, timeouts, embeddings).
#include "plugins/chat/chat.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "datasets/synthetic_chat.hpp"
#include "engine/retrieval/memory.hpp"
#include "engine/run/run.hpp"
#include "engine/text/iso_time.hpp"
#include "plugins/chat/hnsw_index.hpp"
#include "plugins/host/plugin_host.hpp"
#include "plugins/plan/plan.hpp"

namespace stride::plugins {
namespace {

using Json = nlohmann::json;

double At(int y, unsigned m, unsigned d, int h) {
  return static_cast<double>(engine::DaysFromCivil(y, m, d)) * 86400 + h * 3600;
}

// An OpenAI-compatible server on loopback: answers /v1/chat/completions and /v1/embeddings,
// records what it was sent, and fails or stalls on demand.
class FakeProvider {
 public:
  FakeProvider() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req,
                                                httplib::Response& res) {
      std::lock_guard lock(mu_);
      chat_requests.push_back(Json::parse(req.body, nullptr, false));
      auth = req.get_header_value("Authorization");
      if (fail_next > 0) {
        --fail_next;
        res.status = fail_status;
        res.set_content(R"({"error":{"message":"overloaded, try later","type":"server_error"}})",
                        "application/json");
        return;
      }
      if (stall_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(stall_s));
      const Json& msgs = chat_requests.back()["messages"];
      if (trickle_s > 0) {
        // Something every 0.1 s, well within any read timeout, for trickle_s; then a whole
        // answer. A stream's somethings are pieces of the answer; a plain answer's, the
        // blanks JSON allows before a value.
        const bool stream = chat_requests.back().value("stream", false);
        const double trickle = trickle_s;
        res.set_chunked_content_provider(
            stream ? "text/event-stream" : "application/json",
            [stream, trickle](size_t, httplib::DataSink& sink) {
              const auto start = std::chrono::steady_clock::now();
              const std::string piece =
                  stream ? "data: " +
                               Json{{"choices", {{{"index", 0}, {"delta", {{"content", "."}}}}}}}
                                   .dump() +
                               "\n\n"
                         : " ";
              while (std::chrono::steady_clock::now() - start <
                     std::chrono::duration<double>(trickle)) {
                if (!sink.write(piece.data(), piece.size())) return false;  // the client left
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
              }
              const std::string end =
                  stream ? "data: [DONE]\n\n"
                         : Json{{"model", "fake-coach"},
                                {"choices",
                                 {{{"index", 0},
                                   {"message", {{"role", "assistant"}, {"content", "Finally."}}}}}}}
                               .dump();
              sink.write(end.data(), end.size());
              sink.done();
              return true;
            });
        return;
      }
      if (chat_requests.back().value("stream", false)) {
        // Three pieces a little apart, the usage, then [DONE] (or a break after the first).
        const std::string q = msgs[1]["content"];
        const bool broken = break_stream;
        res.set_chunked_content_provider(
            "text/event-stream", [q, broken](size_t, httplib::DataSink& sink) {
              for (const std::string& piece : {std::string("Coach"), std::string(": "), q}) {
                const std::string chunk =
                    "data: " +
                    Json{{"choices", {{{"index", 0}, {"delta", {{"content", piece}}}}}}}.dump() +
                    "\n\n";
                sink.write(chunk.data(), chunk.size());
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                if (broken) return false;  // the connection drops
              }
              const std::string tail =
                  "data: " +
                  Json{{"choices", Json::array()},
                       {"model", "fake-coach"},
                       {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 3}}}}
                      .dump() +
                  "\n\ndata: [DONE]\n\n";
              sink.write(tail.data(), tail.size());
              sink.done();
              return true;
            });
        return;
      }
      res.set_content(
          Json{
              {"id", "c1"},
              {"object", "chat.completion"},
              {"model", "fake-coach"},
              {"choices",
               {{{"index", 0},
                 {"message",
                  {{"role", "assistant"},
                   {"content", "Coach: " + msgs[1]["content"].get<std::string>()}}},
                 {"finish_reason", "stop"}}}},
              {"usage", {{"prompt_tokens", 120}, {"completion_tokens", 30}, {"total_tokens", 150}}}}
              .dump(),
          "application/json");
    });
    server_.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      const Json j = Json::parse(req.body, nullptr, false);
      embedding_requests.push_back(j);
      Json data = Json::array();
      const size_t dims = j.value("dimensions", size_t{8});
      for (size_t i = 0; i < j["input"].size(); ++i) {
        // A vector per text from its words' first letters: the same text, the same vector.
        std::vector<float> v(dims, 0.01f);
        for (char c : j["input"][i].get<std::string>())
          v[static_cast<unsigned char>(c) % dims] += 1;
        data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", v}});
      }
      res.set_content(Json{{"object", "list"},
                           {"data", data},
                           {"model", j["model"]},
                           {"usage", {{"prompt_tokens", 5}, {"total_tokens", 5}}}}
                          .dump(),
                      "application/json");
    });
    port = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeProvider() {
    server_.stop();
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port) + "/v1"; }
  std::vector<Json> Chats() {
    std::lock_guard lock(mu_);
    return chat_requests;
  }

  int port = 0;
  std::atomic<int> fail_next{0};
  int fail_status = 503;
  double stall_s = 0;
  double trickle_s = 0;
  bool break_stream = false;
  std::string auth;
  std::vector<Json> chat_requests, embedding_requests;

 private:
  std::mutex mu_;
  httplib::Server server_;
  std::thread thread_;
};

// Environment for one test: set now, restored when it ends.
class ScopedEnv {
 public:
  void Set(const char* name, const std::string& value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

class Chat : public ::testing::Test {
 protected:
  void Start(bool with_plans = false) {
    PluginServices s;
    s.kv = [this](const std::string&) -> Result<engine::KeyValue*> { return &kv_; };
    s.host_kv = &host_kv_;
    s.runs_list = [this](const std::string& user, const std::string&) -> Result<std::string> {
      Json runs = Json::array();
      for (const auto& [id, r] : runs_) {
        if (r.first == user) runs.push_back({{"id", id}});
      }
      return Json{{"runs", runs}, {"next_before", nullptr}}.dump();
    };
    s.run_get = [this](const std::string& user, const std::string& id,
                       bool) -> Result<std::string> {
      auto it = runs_.find(id);
      if (it == runs_.end() || it->second.first != user) return Status::NotFound("no run " + id);
      return it->second.second;
    };
    s.clock = &clock_;
    s.log = [this](const std::string& line) {
      std::lock_guard lock(log_mu_);
      log_ += line + "\n";
    };
    PluginHostOptions options;
    options.tick_interval_s = 0;
    std::vector<BundledPlugin> bundled = {{chat::Info, chat::InitV1}};
    if (with_plans) bundled.push_back({plan::Info, plan::InitV1});
    host_ = std::make_unique<PluginHost>(options, s, bundled);
    const Status st = host_->Start();
    ASSERT_TRUE(st.ok()) << st.message();
  }

  PluginResponse Call(const std::string& method, const std::string& path, const std::string& user,
                      const std::string& body = "",
                      std::vector<std::pair<std::string, std::string>> query = {},
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    bool known = false;
    std::string allowed;
    std::optional<PluginHost::Match> m = host_->Resolve(method, path, &known, &allowed);
    if (!m) return {known ? 405 : 404, "", "", nullptr};
    return host_->Call(*m, PluginRequest{method, path, query, user, body, headers});
  }
  // What the plugins logged so far.
  std::string Log() {
    std::lock_guard lock(log_mu_);
    return log_;
  }
  Json Retrieve(const std::string& user, const std::string& question, int k = 5) {
    const PluginResponse r =
        Call("POST", "/v1/chat/retrieve", user, Json{{"question", question}, {"k", k}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return Json::parse(r.body, nullptr, false);
  }
  PluginResponse Ask(const std::string& user, const std::string& question,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Call("POST", "/v1/chat/ask", user, Json{{"question", question}}.dump(), {}, headers);
  }

  // A run as GET /v1/runs/{id} shows it; `announce` sends run.stored (else it is a run from
  // before the plugin, found by the backfill).
  std::string Store(const std::string& user, double start, double distance_m, double moving_s,
                    const std::string& place, bool announce = true) {
    const std::string id = engine::RunIdText(++next_run_);
    const Json analysis = {
        {"distance_m", distance_m},
        {"moving_time_s", moving_s},
        {"ascent_m", 120},
        {"heart_rate", {{"avg", 150}}},
        {"splits", {{{"distance_m", 1000}, {"elapsed_time_s", 300}}}},
        {"best_efforts", distance_m >= 5000
                             ? Json::array({{{"name", "5k"},
                                             {"distance_m", 5000},
                                             {"time_s", moving_s / distance_m * 5000}}})
                             : Json::array()}};
    runs_[id] = {
        user, Json{{"id", id},
                   {"start_time", engine::FormatIsoTime(start)},
                   {"sport", "run"},
                   {"distance_m", distance_m},
                   {"moving_time_s", moving_s},
                   {"analysis", analysis},
                   {"route_coverage",
                    {{{"id", "r1"}, {"name", place}, {"covered_m", distance_m}, {"share", 0.9}}}}}
                  .dump()};
    if (announce) {
      host_->OnRunEvent({engine::RunEvent::Kind::kStored, user, next_run_});
      host_->Drain();
    }
    return id;
  }
  void Delete(const std::string& user, const std::string& id) {
    runs_.erase(id);
    host_->OnRunEvent({engine::RunEvent::Kind::kDeleted, user, std::stoull(id, nullptr, 16)});
    host_->Drain();
  }

  engine::MemoryKeyValue kv_, host_kv_;
  std::map<std::string, std::pair<std::string, std::string>> runs_;
  uint64_t next_run_ = 0;
  engine::ManualClock clock_{At(2026, 11, 30, 12)};  // a Monday
  std::unique_ptr<PluginHost> host_;
  std::mutex log_mu_;
  std::string log_;
};

TEST_F(Chat, RetrievesTheRunnersOwnRunsAndSaysWhy) {
  Start();
  // Two runs from before the plugin served Ann (backfilled), then two announced.
  const std::string sunday = Store("ann", At(2026, 11, 29, 8), 21000, 6300, "Pine Ridge", false);
  const std::string tuesday =
      Store("ann", At(2026, 11, 24, 18), 8000, 2640, "Riverside Loop", false);
  const std::string old = Store("ann", At(2026, 10, 4, 8), 30000, 9600, "Pine Ridge");
  const std::string thursday = Store("ann", At(2026, 11, 26, 7), 10000, 2900, "Castle Hill");

  Json r = Retrieve("ann", "How did my long run go on Sunday?");
  EXPECT_EQ(r["today"], "2026-11-30");
  EXPECT_EQ(r["understood"]["from"], "2026-11-29");
  ASSERT_FALSE(r["items"].empty());
  EXPECT_EQ(r["items"][0]["kind"], "run");
  EXPECT_EQ(r["items"][0]["id"], sunday);
  EXPECT_EQ(r["items"][0]["date"], "2026-11-29");
  EXPECT_NE(r["items"][0]["why"].get<std::string>().find("question #1"), std::string::npos);
  EXPECT_NE(r["items"][0]["text"].get<std::string>().find("21.0 km"), std::string::npos);

  r = Retrieve("ann", "What was my longest run at Pine Ridge?");
  EXPECT_EQ(r["items"][0]["id"], old);  // 30 km in October beats 21 km on Sunday
  EXPECT_EQ(r["understood"]["order"], "longest");
  EXPECT_EQ(r["understood"]["matched"], 2);

  r = Retrieve("ann", "How far did I run last week?", 10);
  EXPECT_EQ(r["understood"]["matched"], 3);  // Tue, Thu, Sun of 23-29 November
  std::set<std::string> ids;
  for (const Json& i : r["items"]) {
    if (i["kind"] == "run") ids.insert(i["id"].get<std::string>());
  }
  EXPECT_EQ(ids, (std::set<std::string>{sunday, tuesday, thursday}));

  // A deleted run leaves the memory; a new one joins it.
  Delete("ann", old);
  r = Retrieve("ann", "What was my longest run at Pine Ridge?");
  EXPECT_EQ(r["items"][0]["id"], sunday);
  const std::string today = Store("ann", At(2026, 11, 30, 7), 5000, 1400, "Castle Hill");
  r = Retrieve("ann", "How was my run today?");
  EXPECT_EQ(r["items"][0]["id"], today);

  // Another runner sees none of it.
  r = Retrieve("bob", "What was my longest run at Pine Ridge?");
  for (const Json& i : r["items"]) EXPECT_NE(i["kind"], "run") << i.dump();

  const Json mem = Json::parse(Call("GET", "/v1/chat/memory", "ann").body);
  EXPECT_EQ(mem["documents"]["run"], 4);
  EXPECT_EQ(mem["documents"]["profile"], 1);
  EXPECT_EQ(mem["vector_index"], "exact");  // "auto" at 5 documents
  EXPECT_GT(mem["bytes"].get<double>(), 0);
}

TEST_F(Chat, MemoriesOverTheBudgetGoAndAreRebuiltWhenAskedAgain) {
  ScopedEnv env;
  env.Set("STRIDE_CHAT_MEMORY_MB", "0.15");  // 157 KB: room for one runner of these (~105 KB)
  Start();
  for (const char* user : {"ann", "bob", "cyd"}) {
    for (int d = 1; d <= 20; ++d) {
      Store(user, At(2026, 11, static_cast<unsigned>(d), 7), 5000 + 100 * d, 1500, "Pine Ridge");
    }
  }
  const Json first = Retrieve("ann", "What was my longest run?");
  Json mem = Json::parse(Call("GET", "/v1/chat/memory", "ann").body);
  EXPECT_EQ(mem["users_in_memory"], 1);
  const double one = mem["bytes_in_memory"].get<double>();
  EXPECT_GT(one, 0);
  Retrieve("bob", "What was my longest run?");
  Retrieve("cyd", "What was my longest run?");
  mem = Json::parse(Call("GET", "/v1/chat/memory", "cyd").body);
  // Cyd's arrival pushed the total over: Ann (the least recent) went, Bob stayed.
  EXPECT_EQ(mem["users_in_memory"], 2) << mem.dump();
  EXPECT_LE(mem["bytes_in_memory"].get<double>(), 2.1 * one);
  // Ann's memory went; asked again, it is rebuilt with the same answer.
  const Json again = Retrieve("ann", "What was my longest run?");
  EXPECT_EQ(again["items"][0]["id"], first["items"][0]["id"]);
  EXPECT_EQ(again["items"][0]["text"], first["items"][0]["text"]);
}

TEST_F(Chat, BadRequestsSayWhatWasExpected) {
  Start();
  auto post = [&](const std::string& body) {
    return Call("POST", "/v1/chat/retrieve", "ann", body);
  };
  EXPECT_EQ(post("not json").status, 400);
  EXPECT_EQ(post(R"({"k":3})").status, 400);
  EXPECT_EQ(post(R"({"question":"  "})").status, 400);
  EXPECT_EQ(post(R"({"question":"x","k":0})").status, 400);
  EXPECT_EQ(post(R"({"question":"x","k":51})").status, 400);
  EXPECT_EQ(post(R"({"question":"x","k":"5"})").status, 400);
  const PluginResponse big = post(Json{{"question", std::string(2001, 'a')}}.dump());
  EXPECT_EQ(big.status, 400);
  EXPECT_NE(big.body.find("at most 2000"), std::string::npos) << big.body;
  EXPECT_EQ(Call("GET", "/v1/chat/messages", "ann", "", {{"limit", "0"}}).status, 400);
  EXPECT_EQ(Call("GET", "/v1/chat/messages", "ann", "", {{"before", "x"}}).status, 400);
  // Whole numbers, all of the text: strtol took " 5" and "+5", strtoull took "-1" as 2^64 - 1.
  for (const char* bad : {" 5", "+5", "5 ", "5.0", "0x5", "-1", "99999999999999999999"}) {
    const PluginResponse r = Call("GET", "/v1/chat/messages", "ann", "", {{"before", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("before: "), std::string::npos) << r.body;
    EXPECT_EQ(Call("GET", "/v1/chat/messages", "ann", "", {{"limit", bad}}).status, 400) << bad;
  }
  EXPECT_EQ(Call("GET", "/v1/chat/messages", "ann", "", {{"limit", "50"}, {"before", "0"}}).status,
            200);
  EXPECT_EQ(Call("GET", "/v1/chat/retrieve", "ann").status, 405);
}

TEST_F(Chat, OfflineAskAnswersFromTheDataAndKeepsTheLast50Messages) {
  Start();
  Store("ann", At(2026, 11, 24, 18), 8000, 2640, "Riverside Loop");
  Store("ann", At(2026, 11, 29, 8), 21000, 6300, "Pine Ridge");
  PluginResponse a = Ask("ann", "How far did I run last week?");
  ASSERT_EQ(a.status, 200) << a.body;
  Json j = Json::parse(a.body);
  EXPECT_EQ(j["driver"], "none");
  EXPECT_EQ(j["answer"], "Last week: 2 runs, 29.0 km in 2:29:00 moving.");
  EXPECT_EQ(j["messages"]["question"], 1);
  EXPECT_EQ(j["messages"]["answer"], 2);
  a = Ask("ann", "How was my run on Tuesday?");
  EXPECT_EQ(Json::parse(a.body)["answer"].get<std::string>().rfind(
                "Tuesday: Run on Tuesday 24 November 2026", 0),
            0u)
      << a.body;
  a = Ask("ann", "What was my longest run last week?");
  EXPECT_NE(Json::parse(a.body)["answer"].get<std::string>().find(
                "Longest last week (of 2): Run on Sunday 29 November 2026"),
            std::string::npos)
      << a.body;

  // What was said is remembered: the question and, through it, the coach's answer.
  Ask("ann", "my left knee hurts after hill repeats");
  const Json r = Retrieve("ann", "What did I say about my knee?");
  ASSERT_GE(r["items"].size(), 2u);
  EXPECT_EQ(r["items"][0]["kind"], "message");
  EXPECT_EQ(r["understood"]["kind"], "message");

  // Server-Sent Events on request.
  a = Ask("ann", "How far did I run last week?", {{"Accept", "text/event-stream"}});
  EXPECT_EQ(a.content_type, "text/event-stream");
  EXPECT_EQ(a.body.rfind("event: items\ndata: [", 0), 0u) << a.body;
  EXPECT_NE(a.body.find("event: answer\ndata: {\"text\":\"Last week: 2 runs"), std::string::npos);
  EXPECT_NE(a.body.find("event: done\ndata: {"), std::string::npos);

  for (int i = 0; i < 25; ++i) ASSERT_EQ(Ask("ann", "question " + std::to_string(i)).status, 200);
  // 5 + 25 asks = 60 messages: the last 50 are kept (11 to 60), newest first, paged.
  Json page = Json::parse(Call("GET", "/v1/chat/messages", "ann", "", {{"limit", "30"}}).body);
  ASSERT_EQ(page["messages"].size(), 30u);
  EXPECT_EQ(page["messages"][0]["seq"], 60);
  EXPECT_EQ(page["messages"][0]["role"], "assistant");
  EXPECT_EQ(page["messages"][1]["text"], "question 24");
  EXPECT_EQ(page["next_before"], "31");
  page = Json::parse(
      Call("GET", "/v1/chat/messages", "ann", "", {{"limit", "30"}, {"before", "31"}}).body);
  ASSERT_EQ(page["messages"].size(), 20u);
  EXPECT_EQ(page["messages"].back()["seq"], 11);
  EXPECT_TRUE(page["next_before"].is_null());
  EXPECT_EQ(Json::parse(Call("GET", "/v1/chat/memory", "ann").body)["documents"]["message"], 50);

  EXPECT_EQ(Json::parse(Call("DELETE", "/v1/chat/messages", "ann").body)["deleted"], 50);
  EXPECT_TRUE(Json::parse(Call("GET", "/v1/chat/messages", "ann").body)["messages"].empty());
  EXPECT_FALSE(
      Json::parse(Call("GET", "/v1/chat/memory", "ann").body)["documents"].contains("message"));

  // Deleting the user leaves nothing of theirs in the plugin's namespace.
  ASSERT_TRUE(host_->DeleteUser("ann").ok());
  size_t left = 0;
  (void)kv_.Scan(PluginHost::StoredKey("ann", ""), [&](std::string_view, std::string_view) {
    ++left;
    return true;
  });
  EXPECT_EQ(left, 0u);
}

TEST_F(Chat, ThePlanComesFromThePlansPlugin) {
  Start(/*with_plans=*/true);
  ASSERT_TRUE(host_
                  ->PutProfile("ann", R"({"availability":{"days":["tue","thu","sat","sun"],)"
                                      R"("minutes_per_day":100},"max_hr_bpm":190,"rest_hr_bpm":50,)"
                                      R"("goal":{"distance_m":10000,"date":"2027-02-14"}})")
                  .ok());
  for (int64_t day = engine::DaysFromCivil(2026, 11, 1); day <= engine::DaysFromCivil(2026, 11, 29);
       ++day) {
    const int wd = static_cast<int>((day + 3) % 7);
    if (wd != 1 && wd != 3 && wd != 5 && wd != 6) continue;
    Store("ann", static_cast<double>(day) * 86400 + 7 * 3600, wd == 6 ? 12000 : 8000,
          wd == 6 ? 3960 : 2640, "Riverside Loop", false);
  }
  const Json plan = Json::parse(Call("GET", "/v1/plans/current", "ann").body);
  std::string tuesday_type;
  for (const Json& d : plan["days"]) {
    if (d["date"] == "2026-12-01") tuesday_type = d["type"].get<std::string>();
  }
  ASSERT_FALSE(tuesday_type.empty()) << plan.dump();
  const Json r = Retrieve("ann", "What is planned for tomorrow?");
  ASSERT_FALSE(r["items"].empty());
  EXPECT_EQ(r["items"][0]["kind"], "plan_day");
  EXPECT_EQ(r["items"][0]["id"], "2026-12-01");
  EXPECT_NE(r["items"][0]["text"].get<std::string>().find(": " + tuesday_type), std::string::npos)
      << r["items"][0]["text"];
  const Json mem = Json::parse(Call("GET", "/v1/chat/memory", "ann").body);
  EXPECT_GE(mem["documents"]["plan_day"].get<int>(), 28);
}

TEST_F(Chat, AnOpenAiCompatibleDriverAnswersWithinBudgets) {
  FakeProvider provider;
  ScopedEnv env;
  env.Set("STRIDE_CHAT_DRIVER", provider.Url());
  env.Set("STRIDE_CHAT_MODEL", "fake-coach");
  env.Set("STRIDE_CHAT_API_KEY", "sk-test");
  env.Set("STRIDE_CHAT_USER_DAILY_TOKENS", "400");  // 150 an answer: the fourth is refused
  env.Set("STRIDE_CHAT_BACKOFF_S", "0.01");
  Start();
  Store("ann", At(2026, 11, 29, 8), 21000, 6300, "Pine Ridge");
  Store("bob", At(2026, 11, 29, 9), 7000, 2100, "Secret Garden");

  PluginResponse a = Ask("ann", "How was my long run on Sunday?");
  ASSERT_EQ(a.status, 200) << a.body;
  Json j = Json::parse(a.body);
  EXPECT_EQ(j["answer"], "Coach: How was my long run on Sunday?");
  EXPECT_EQ(j["model"], "fake-coach");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 120);
  EXPECT_EQ(j["usage"]["completion_tokens"], 30);
  // The request: model, a system prompt holding the run, the question, the key.
  const Json sent = provider.Chats().back();
  EXPECT_EQ(sent["model"], "fake-coach");
  EXPECT_EQ(sent["stream"], false);
  ASSERT_EQ(sent["messages"].size(), 2u);
  EXPECT_EQ(sent["messages"][0]["role"], "system");
  EXPECT_NE(sent["messages"][0]["content"].get<std::string>().find("Pine Ridge"),
            std::string::npos);
  EXPECT_EQ(sent["messages"][1]["content"], "How was my long run on Sunday?");
  EXPECT_EQ(provider.auth, "Bearer sk-test");
  // No prompt ever holds another runner's data.
  ASSERT_EQ(Ask("bob", "Which runs did I do at Pine Ridge?").status, 200);
  const std::string bobs = provider.Chats().back()["messages"][0]["content"];
  EXPECT_EQ(bobs.find("at Pine Ridge."), std::string::npos);
  EXPECT_EQ(bobs.find("21.0 km"), std::string::npos);
  EXPECT_NE(bobs.find("Secret Garden"), std::string::npos);

  // Retries: two 503s, then an answer.
  provider.fail_next = 2;
  a = Ask("ann", "second question");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(Json::parse(a.body)["usage"]["attempts"], 3);
  // Budget: 3 x 150 tokens spent, over 400: refused with the budget in the message.
  a = Ask("ann", "third question");
  ASSERT_EQ(a.status, 200) << a.body;
  a = Ask("ann", "fourth question");
  EXPECT_EQ(a.status, 429);
  EXPECT_NE(a.body.find("budget of 400 tokens"), std::string::npos) << a.body;
  const std::string metrics = host_->MetricsText();
  EXPECT_NE(metrics.find("stride_plugin_tokens_in_total{plugin=\"chat\"} 480"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("stride_plugin_tokens_out_total{plugin=\"chat\"} 120"), std::string::npos);
  EXPECT_NE(metrics.find("stride_plugin_tokens_in_fake_coach_total{plugin=\"chat\"} 480"),
            std::string::npos);

  // A provider that keeps failing: 502 with its message, the question still stored.
  provider.fail_next = 10;
  a = Ask("bob", "will this fail?");
  EXPECT_EQ(a.status, 502);
  EXPECT_NE(a.body.find("overloaded, try later"), std::string::npos) << a.body;
  const Json msgs = Json::parse(Call("GET", "/v1/chat/messages", "bob").body);
  EXPECT_EQ(msgs["messages"][0]["text"], "will this fail?");
  provider.fail_next = 0;
  provider.fail_status = 400;  // not retried
  provider.fail_next = 1;
  const size_t before = provider.Chats().size();
  EXPECT_EQ(Ask("bob", "bad request").status, 502);
  EXPECT_EQ(provider.Chats().size(), before + 1);
}

// Collects what a streamed answer sends until `until` appears (or 10 s pass); the client is
// there until *gone.
std::string Collect(const PluginResponse& r, const std::string& until,
                    std::shared_ptr<std::atomic<bool>> gone = nullptr) {
  auto got = std::make_shared<std::string>(r.body);
  auto mu = std::make_shared<std::mutex>();
  if (!gone) gone = std::make_shared<std::atomic<bool>>(false);
  r.stream->Attach(
      [got, mu](std::string bytes) {
        std::lock_guard lock(*mu);
        *got += bytes;
        return true;
      },
      [gone] { return !gone->load(); });
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard lock(*mu);
      if (got->find(until) != std::string::npos) return *got;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard lock(*mu);
  return *got;
}

TEST_F(Chat, AProvidersAnswerIsStreamedPieceByPiece) {
  FakeProvider provider;
  ScopedEnv env;
  env.Set("STRIDE_CHAT_DRIVER", provider.Url());
  env.Set("STRIDE_CHAT_BACKOFF_S", "0.01");
  Start();
  Store("ann", At(2026, 11, 29, 8), 21000, 6300, "Pine Ridge");
  const PluginResponse r = Ask("ann", "How was Sunday?", {{"Accept", "text/event-stream"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(r.stream);
  EXPECT_EQ(r.content_type, "text/event-stream");
  EXPECT_EQ(r.body.rfind("id: 1\nevent: items\ndata: [{\"date\":\"2026-11-29\"", 0), 0u) << r.body;
  auto gone = std::make_shared<std::atomic<bool>>(false);
  const std::string all = Collect(r, "event: done", gone);
  const size_t a = all.find("id: 2\nevent: answer\ndata: {\"text\":\"Coach\"}");
  const size_t b = all.find("id: 3\nevent: answer\ndata: {\"text\":\": \"}");
  const size_t c = all.find("id: 4\nevent: answer\ndata: {\"text\":\"How was Sunday?\"}");
  const size_t d = all.find("id: 5\nevent: done\ndata: {");
  ASSERT_NE(a, std::string::npos) << all;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  EXPECT_NE(all.find("\"completion_tokens\":3"), std::string::npos) << all;
  EXPECT_TRUE(provider.Chats().back()["stream"].get<bool>());
  EXPECT_TRUE(provider.Chats().back()["stream_options"]["include_usage"].get<bool>());
  // The whole answer was stored after the question.
  const Json msgs = Json::parse(Call("GET", "/v1/chat/messages", "ann").body);
  ASSERT_EQ(msgs["messages"].size(), 2u);
  EXPECT_EQ(msgs["messages"][0]["text"], "Coach: How was Sunday?");
  EXPECT_NE(host_->MetricsText().find("stride_plugin_tokens_out_total{plugin=\"chat\"} 3"),
            std::string::npos);
  // The answer's topic is never published again: the stream is over once its client is gone.
  EXPECT_EQ(host_->StreamCount(), 1u);
  *gone = true;
  EXPECT_EQ(host_->StreamCount(), 0u);

  // A stream that breaks after its first piece ends with an error event, and is not retried.
  provider.break_stream = true;
  const size_t before = provider.Chats().size();
  const PluginResponse broken = Ask("ann", "And Monday?", {{"Accept", "text/event-stream"}});
  ASSERT_TRUE(broken.stream);
  const std::string got = Collect(broken, "event: error");
  EXPECT_NE(got.find("event: error\ndata: {\"code\":\"provider_timeout\""), std::string::npos)
      << got;
  // The client is told what happened, not the provider's address: that is in the log.
  EXPECT_NE(got.find("the model provider did not answer in time (your message 3 was stored"),
            std::string::npos)
      << got;
  EXPECT_EQ(got.find("127.0.0.1"), std::string::npos) << got;
  EXPECT_NE(
      Log().find("plugin chat error: streamed answer to message 3: provider http://127.0.0.1:"),
      std::string::npos)
      << Log();
  EXPECT_NE(Log().find("stopped streaming"), std::string::npos) << Log();
  EXPECT_EQ(provider.Chats().size(), before + 1);
  // A provider failing before any piece: retried, then an error event with its message.
  provider.break_stream = false;
  provider.fail_next = 5;
  const PluginResponse failed = Ask("ann", "Tuesday?", {{"Accept", "text/event-stream"}});
  const std::string why = Collect(failed, "event: error");
  EXPECT_NE(why.find("the model provider failed (your message"), std::string::npos) << why;
  EXPECT_EQ(why.find("overloaded, try later"), std::string::npos) << why;
  EXPECT_NE(why.find("\"status\":502"), std::string::npos) << why;
  EXPECT_NE(Log().find("overloaded, try later"), std::string::npos) << Log();
}

// The chat plugin against `provider`: tries of `timeout_s`, one retry, almost no backoff.
void AgainstSlowProvider(const FakeProvider& provider, const char* timeout_s, ScopedEnv* env) {
  env->Set("STRIDE_CHAT_DRIVER", provider.Url());
  env->Set("STRIDE_CHAT_TIMEOUT_S", timeout_s);
  env->Set("STRIDE_CHAT_RETRIES", "1");
  env->Set("STRIDE_CHAT_BACKOFF_S", "0.01");
}

TEST_F(Chat, AProviderThatStallsGets504) {
  FakeProvider provider;
  provider.stall_s = 1.5;
  ScopedEnv env;
  AgainstSlowProvider(provider, "0.3", &env);
  Start();
  const PluginResponse a = Ask("ann", "hello?");
  EXPECT_EQ(a.status, 504) << a.body;
  EXPECT_NE(a.body.find("did not answer"), std::string::npos) << a.body;
  EXPECT_EQ(provider.Chats().size(), 2u);  // tried twice
}

// A provider that keeps sending a little, within each read timeout, held the request (and its
// thread) for as long as it liked: a whole try is now bounded by STRIDE_CHAT_TIMEOUT_S, a
// streamed one by ten times it.
TEST_F(Chat, AProviderThatNeverFinishesIsCutAtItsDeadline) {
  FakeProvider provider;
  provider.trickle_s = 5;
  ScopedEnv env;
  AgainstSlowProvider(provider, "0.25", &env);
  Start();
  const PluginResponse a = Ask("ann", "hello?");
  EXPECT_EQ(a.status, 504) << a.body;
  EXPECT_EQ(provider.Chats().size(), 2u);  // a deadline is a timeout: tried again
  // (Through the HTTP layer the client gets an incident id instead; this goes to the log.)
  EXPECT_NE(a.body.find("did not answer within 0.25 s (its answer was still coming)"),
            std::string::npos)
      << a.body;
  // Streamed, it sends a piece every 0.1 s: cut after 2.5 s, with an error event, not retried
  // (the client has pieces already).
  const PluginResponse s = Ask("ann", "and now?", {{"Accept", "text/event-stream"}});
  ASSERT_TRUE(s.stream);
  const std::string got = Collect(s, "event: error");
  EXPECT_NE(got.find("event: error\ndata: {\"code\":\"provider_timeout\""), std::string::npos)
      << got;
  EXPECT_NE(Log().find("stopped streaming: not done within 2.5 s"), std::string::npos) << Log();
  EXPECT_EQ(provider.Chats().size(), 3u);
}

TEST_F(Chat, EmbeddingsFromAnOpenAiCompatibleProvider) {
  FakeProvider provider;
  ScopedEnv env;
  env.Set("STRIDE_CHAT_EMBEDDINGS", provider.Url());
  env.Set("STRIDE_CHAT_EMBEDDINGS_MODEL", "fake-embed");
  env.Set("STRIDE_CHAT_EMBEDDINGS_DIMENSIONS", "16");
  env.Set("STRIDE_CHAT_VECTOR_INDEX", "hnsw");
  Start();
  Store("ann", At(2026, 11, 29, 8), 21000, 6300, "Pine Ridge");
  const Json r = Retrieve("ann", "longest run at Pine Ridge");
  EXPECT_EQ(r["items"][0]["kind"], "run");
  EXPECT_NE(r["items"][0]["why"].get<std::string>().find("meaning #"), std::string::npos);
  ASSERT_GE(provider.embedding_requests.size(), 2u);  // the memory, then the question
  EXPECT_EQ(provider.embedding_requests[0]["model"], "fake-embed");
  EXPECT_EQ(provider.embedding_requests[0]["dimensions"], 16);
  EXPECT_EQ(provider.embedding_requests.back()["input"][0], "longest run at Pine Ridge");
  EXPECT_EQ(Json::parse(Call("GET", "/v1/chat/memory", "ann").body)["vector_index"], "hnsw");
}

TEST_F(Chat, BadConfigurationIsRefusedAtLoad) {
  // A typo in a setting stops the server from starting, naming the setting: before, the
  // numeric ones quietly fell back to their defaults (a budget of "100k" was 100,000 tokens,
  // "1G" of memory was 512 MB, 0 dimensions broke every embedding).
  const struct {
    const char* name;
    const char* value;
    const char* message;
  } cases[] = {
      {"STRIDE_CHAT_DRIVER", "gpt-please", "STRIDE_CHAT_DRIVER: 'gpt-please'"},
      {"STRIDE_CHAT_MEMORY_MB", "1G", "STRIDE_CHAT_MEMORY_MB: '1G' is not a number"},
      {"STRIDE_CHAT_USER_DAILY_TOKENS", "100k",
       "STRIDE_CHAT_USER_DAILY_TOKENS: '100k' is not a whole number"},
      {"STRIDE_CHAT_EMBEDDINGS_DIMENSIONS", "0",
       "STRIDE_CHAT_EMBEDDINGS_DIMENSIONS: 0 is out of range [1, 16384]"},
      {"STRIDE_CHAT_RETRIES", " 2", "STRIDE_CHAT_RETRIES: ' 2' is not a whole number"},
      {"STRIDE_CHAT_TIMEOUT_S", "nan", "STRIDE_CHAT_TIMEOUT_S: 'nan' is not a number"},
      {"STRIDE_CHAT_MAX_USERS", "2.5", "STRIDE_CHAT_MAX_USERS: 2.5 is not a whole number"},
  };
  PluginServices s;
  s.kv = [this](const std::string&) -> Result<engine::KeyValue*> { return &kv_; };
  s.runs_list = [](const std::string&, const std::string&) -> Result<std::string> {
    return std::string("{}");
  };
  s.run_get = [](const std::string&, const std::string&, bool) -> Result<std::string> {
    return Status::NotFound("x");
  };
  s.route_query = [](const std::string&) -> Result<std::string> { return Status::NotFound("x"); };
  for (const auto& c : cases) {
    ScopedEnv env;
    env.Set(c.name, c.value);
    PluginHost host(PluginHostOptions{}, s, {{chat::Info, chat::InitV1}});
    const Status st = host.Start();
    EXPECT_FALSE(st.ok()) << c.name << "=" << c.value;
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
  }
  // The same settings in range load.
  ScopedEnv env;
  env.Set("STRIDE_CHAT_MEMORY_MB", "0.5");
  env.Set("STRIDE_CHAT_USER_DAILY_TOKENS", "0");
  env.Set("STRIDE_CHAT_RETRIES", "2");
  PluginHost host(PluginHostOptions{}, s, {{chat::Info, chat::InitV1}});
  const Status st = host.Start();
  EXPECT_TRUE(st.ok()) << st.message();
}

// hnswlib's graph against the exact scan on the synthetic runner's documents.
TEST(HnswVectorIndex, RecallAgainstTheExactScan) {
  const datasets::ChatHistory h = datasets::SyntheticChatHistory({.extra_runs_per_day = 4});
  engine::retrieval::HashedEmbedder e;
  chat::HnswVectorIndex hnsw(e.Dimensions());
  engine::retrieval::ExactVectorIndex exact(e.Dimensions());
  std::vector<std::vector<float>> v;
  for (uint32_t i = 0; i < h.docs.size(); ++i) {
    v.push_back(e.EmbedOne(h.docs[i].text));
    hnsw.Put(i, v.back());
    exact.Put(i, v.back());
  }
  ASSERT_GT(h.docs.size(), 1500u);  // past the initial capacity: the graph grew
  for (uint32_t i = 0; i < h.docs.size(); i += 3) hnsw.Remove(i), exact.Remove(i);
  size_t found = 0, wanted = 0;
  for (const datasets::ChatQuestion& q : h.questions) {
    const std::vector<float> qv = e.EmbedOne(q.text);
    // Ties at the tenth score make several right answers: any slot scoring at least the
    // exact tenth counts.
    const std::vector<engine::retrieval::Scored> truth = exact.Search(qv, 10);
    for (const auto& s : hnsw.Search(qv, 10)) {
      found += s.score >= truth.back().score - 1e-6;
      EXPECT_NE(s.slot % 3, 0u);  // removed slots never come back
    }
    wanted += truth.size();
  }
  const double recall = static_cast<double>(found) / static_cast<double>(wanted);
  std::printf("hnsw recall@10 against the exact scan: %.4f (%zu documents, %zu questions)\n",
              recall, h.docs.size(), h.questions.size());
  EXPECT_GE(recall, 0.95);
  EXPECT_EQ(hnsw.failures(), 0u);
  EXPECT_EQ(hnsw.size(), exact.size());
}

}  // namespace
}  // namespace stride::plugins
