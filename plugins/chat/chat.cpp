// SPDX-License-Identifier: Apache-2.0
#include "plugins/chat/chat.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/retrieval/documents.hpp"
#include "engine/retrieval/memory.hpp"
#include "engine/text/duration.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/round.hpp"
#include "engine/time/time_zone.hpp"
#include "plugins/api/plugin_call.hpp"
#include "plugins/api/plugin_query.hpp"
#include "plugins/api/plugin_state.hpp"
#include "plugins/api/plugin_store.hpp"
#include "plugins/chat/hnsw_index.hpp"
#include "plugins/chat/openai.hpp"

namespace stride::plugins::chat {
namespace {

using Json = nlohmann::json;
using engine::retrieval::DocKind;
using engine::retrieval::Document;
using engine::retrieval::kNoDay;
using engine::retrieval::Memory;
using engine::retrieval::Order;

constexpr size_t kMaxMessages = 50;
constexpr size_t kMaxQuestionBytes = 2000;
constexpr double kPlanMaxAgeS = 300;

enum Route { kRetrieve = 1, kAsk, kMessages, kForget, kMemoryStats };

struct Config {
  std::string embeddings = "hashed";
  OpenAiOptions embed;
  std::string driver = "none";
  OpenAiOptions chat;
  int64_t prompt_tokens = 3000;
  int64_t user_daily_tokens = 100000;
  int64_t daily_tokens = 5000000;
  size_t max_users = 1000;
  size_t memory_bytes = size_t{512} << 20;  // all users' memories together
  // "exact" (a scan), "hnsw" (hnswlib's graph) or "auto": exact up to exact_max documents at
  // build (a scan of 20,000 x 384 floats is ~2 ms; at 10,000 documents the graph's recall was
  // too low on near-duplicate runs: bench/scripts/chat_retrieval.sh), the graph beyond.
  std::string vector_index = "auto";
  size_t exact_max = 20000;
};

std::string Env(const char* name, const std::string& def = "") {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : def;
}
// A numeric setting: `def` when unset or empty, else a number in [lo, hi] (a whole one when
// `whole`). One that is not becomes `*error` (the first such), and the plugin refuses to load:
// STRIDE_CHAT_MEMORY_MB=1G or a budget written "100k" must not quietly become the default.
double EnvNumber(const char* name, double def, double lo, double hi, bool whole,
                 std::string* error) {
  const std::string v = Env(name);
  if (v.empty()) return def;
  Status bad;
  if (whole) {
    const Result<int64_t> n =
        engine::ParseWholeNumber(name, v, static_cast<int64_t>(lo), static_cast<int64_t>(hi));
    if (n.ok()) return static_cast<double>(*n);
    bad = n.status();
  } else {
    const Result<double> x = engine::ParseNumber(name, v, lo, hi);
    if (x.ok()) return *x;
    bad = x.status();
  }
  if (error->empty()) *error = bad.message();
  return def;
}

// The settings from the environment; `*error` names the first numeric one out of its range.
Config ReadConfig(std::string* error) {
  Config c;
  auto number = [error](const char* name, double def, double lo, double hi) {
    return EnvNumber(name, def, lo, hi, false, error);
  };
  auto whole = [error](const char* name, double def, double lo, double hi) {
    return EnvNumber(name, def, lo, hi, true, error);
  };
  const std::string key = Env("STRIDE_CHAT_API_KEY", Env("OPENAI_API_KEY"));
  c.embeddings = Env("STRIDE_CHAT_EMBEDDINGS", "hashed");
  c.embed.base_url = c.embeddings;
  c.embed.api_key = key;
  c.embed.model = Env("STRIDE_CHAT_EMBEDDINGS_MODEL", "text-embedding-3-small");
  c.embed.dimensions =
      static_cast<size_t>(whole("STRIDE_CHAT_EMBEDDINGS_DIMENSIONS", 384, 1, 16384));
  c.driver = Env("STRIDE_CHAT_DRIVER", "none");
  c.chat.base_url = c.driver;
  c.chat.api_key = key;
  c.chat.model = Env("STRIDE_CHAT_MODEL", "default");
  const double timeout_s = number("STRIDE_CHAT_TIMEOUT_S", 30, 0.1, 600);
  const auto retries = static_cast<int>(whole("STRIDE_CHAT_RETRIES", 2, 0, 10));
  const double backoff_s = number("STRIDE_CHAT_BACKOFF_S", 0.25, 0, 60);
  for (OpenAiOptions* o : {&c.embed, &c.chat}) {
    o->timeout_s = timeout_s;
    o->retries = retries;
    o->backoff_s = backoff_s;
  }
  c.chat.max_tokens = static_cast<int>(whole("STRIDE_CHAT_MAX_ANSWER_TOKENS", 512, 1, 1e6));
  c.prompt_tokens = static_cast<int64_t>(whole("STRIDE_CHAT_PROMPT_TOKENS", 3000, 100, 1e7));
  c.user_daily_tokens =
      static_cast<int64_t>(whole("STRIDE_CHAT_USER_DAILY_TOKENS", 100000, 0, 1e12));
  c.daily_tokens = static_cast<int64_t>(whole("STRIDE_CHAT_DAILY_TOKENS", 5000000, 0, 1e12));
  c.max_users = static_cast<size_t>(whole("STRIDE_CHAT_MAX_USERS", 1000, 1, 1e7));
  c.memory_bytes =
      static_cast<size_t>(number("STRIDE_CHAT_MEMORY_MB", 512, 0.01, 1048576) * 1048576);
  c.vector_index = Env("STRIDE_CHAT_VECTOR_INDEX", "auto");
  c.exact_max = static_cast<size_t>(whole("STRIDE_CHAT_EXACT_MAX", 20000, 0, 1e9));
  return c;
}

// One user's memory, built on first use.
struct UserMemory {
  std::unique_ptr<Memory> memory;
  engine::TimeZone zone = engine::TimeZone::Utc();
  std::string zone_name;
  double plan_read_at = -1e18;
  int64_t plan_day = kNoDay;
  double built_ms = 0;
  std::atomic<size_t> bytes{0};  // measured at build, plus an estimate per document since
  bool hnsw = false;             // the vector index: hnswlib's graph, else the exact scan
};

// The plugin's state behind the ABI's opaque stride_plugin_t (plugins/api/plugin_state.hpp).
struct State {
  const stride_host_api_t* host = nullptr;
  stride_host_t* ctx = nullptr;
  stride::plugins::chat::Config config;
  std::unique_ptr<stride::engine::retrieval::Embedder> embedder;
  std::unique_ptr<stride::plugins::chat::OpenAiClient> driver;  // null: "none"
  std::mutex users_mu;
  // Most recently used first.
  std::list<std::pair<std::string, std::shared_ptr<stride::plugins::chat::UserMemory>>> users;
  std::map<std::string, decltype(users)::iterator> by_user;
  std::mutex tokens_mu;  // budget read-modify-writes
  // One request or event per user at a time (users spread over the stripes): a memory is
  // built, read and updated under its user's stripe.
  std::array<std::mutex, 64> stripes;
  // Threads streaming a provider's answer; shutdown waits for them.
  std::mutex workers_mu;
  std::condition_variable workers_cv;
  int workers = 0;
};

double NumberOr(const Json& j, const char* key, double def = std::nan("")) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return def;
  return j[key].get<double>();
}

// The facts kept of a run (key r/<id>) from its JSON as GET /v1/runs/{id} answers it.
Json FactsOf(const Json& run) {
  const Json a = run.value("analysis", Json::object());
  Json efforts = Json::array();
  if (a.contains("best_efforts") && a["best_efforts"].is_array()) {
    for (const Json& e : a["best_efforts"]) {
      const double m = NumberOr(e, "distance_m"), s = NumberOr(e, "time_s");
      if (std::isfinite(m) && std::isfinite(s)) efforts.push_back({m, s});
    }
  }
  Json splits = Json::array();
  if (a.contains("splits") && a["splits"].is_array()) {
    for (const Json& s : a["splits"]) {
      const double t = NumberOr(s, "elapsed_time_s"), m = NumberOr(s, "distance_m");
      if (std::isfinite(t) && m >= 990 && splits.size() < 50) splits.push_back(t);
    }
  }
  Json places = Json::array();
  if (run.contains("route_coverage") && run["route_coverage"].is_array()) {
    for (const Json& c : run["route_coverage"]) {
      if (c.contains("name") && c["name"].is_string() &&
          (NumberOr(c, "covered_m", 0) >= 500 || NumberOr(c, "share", 0) >= 0.2) &&
          places.size() < 10) {
        places.push_back(c["name"]);
      }
    }
  }
  double start = std::nan("");
  if (run.contains("start_time") && run["start_time"].is_string()) {
    engine::ParseIsoTime(run["start_time"].get<std::string>(), &start);
  }
  const Json hr = a.value("heart_rate", Json::object());
  Json f = {{"start_s", std::isfinite(start) ? Json(start) : Json(nullptr)},
            {"sport", run.value("sport", std::string("run"))},
            {"distance_m", NumberOr(run, "distance_m", NumberOr(a, "distance_m", 0))},
            {"moving_s", NumberOr(run, "moving_time_s", NumberOr(a, "moving_time_s", 0))},
            {"efforts", efforts},
            {"splits", splits},
            {"places", places}};
  const double climb = NumberOr(run, "ascent_m", NumberOr(a, "ascent_m"));
  if (std::isfinite(climb)) f["climb_m"] = climb;
  if (std::isfinite(NumberOr(hr, "avg"))) f["avg_hr"] = NumberOr(hr, "avg");
  return f;
}

Document RunDoc(const std::string& id, const Json& f, const engine::TimeZone& zone) {
  engine::retrieval::RunFacts r;
  r.run_id = id;
  r.start_s = NumberOr(f, "start_s", 0);
  r.day = zone.LocalDay(r.start_s);
  r.local_hour = static_cast<int>(std::fmod(r.start_s + zone.OffsetAt(r.start_s), 86400.0) / 3600);
  r.sport = f.value("sport", std::string("run"));
  r.name = r.sport == "run" ? "Run" : r.sport;
  if (!r.name.empty())
    r.name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(r.name[0])));
  r.distance_m = NumberOr(f, "distance_m", 0);
  r.moving_s = NumberOr(f, "moving_s", 0);
  r.climb_m = NumberOr(f, "climb_m");
  r.avg_hr = NumberOr(f, "avg_hr");
  for (const Json& e : f.value("efforts", Json::array())) {
    if (e.is_array() && e.size() == 2)
      r.efforts.push_back({e[0].get<double>(), e[1].get<double>()});
  }
  for (const Json& s : f.value("splits", Json::array())) r.split_s.push_back(s.get<double>());
  for (const Json& p : f.value("places", Json::array())) r.places.push_back(p.get<std::string>());
  return engine::retrieval::RunDocument(r);
}

std::string DayText(int64_t day) {
  return day == kNoDay ? "" : engine::FormatDate(day);
}

// True when the request's Accept header asks for text/event-stream.
bool WantsEventStream(const Json& req) {
  const Json headers = req.value("headers", Json::object());
  return headers.is_object() && headers.contains("accept") && headers["accept"].is_string() &&
         headers["accept"].get<std::string>().find("text/event-stream") != std::string::npos;
}

class Chat {
 public:
  explicit Chat(State* p) : p_(p), kv_(p->host, p->ctx) {}

  // --- the host ---
  std::optional<std::string> Get(const std::string& user, const std::string& key) {
    return kv_.Get(user.c_str(), key);
  }
  void Put(const std::string& user, const std::string& key, const std::string& value) {
    kv_.Put(user.c_str(), key, value);
  }
  void Delete(const std::string& user, const std::string& key) { kv_.Delete(user.c_str(), key); }
  // "" for the plugin's own namespace.
  std::vector<std::pair<std::string, std::string>> Scan(const std::string& user,
                                                        const std::string& prefix) {
    return kv_.Scan(user.empty() ? nullptr : user.c_str(), prefix);
  }
  double Now() const { return static_cast<double>(p_->host->now_ms(p_->ctx)) / 1000; }

  Json Profile(const std::string& user) {
    const std::optional<std::string> text = kv_.Profile(user.c_str());
    const Json j = text ? Json::parse(*text, nullptr, false) : Json();
    return j.is_object() ? j : Json{{"time_zone", "UTC"}};
  }

  // Keeps a stored run's facts; nullopt when the host no longer has the run.
  std::optional<Json> StoreRun(const std::string& user, const std::string& run_id) {
    const std::optional<std::string> text = kv_.Run(user.c_str(), run_id);
    if (!text) return std::nullopt;
    const Json run = Json::parse(*text, nullptr, false);
    if (!run.is_object()) return std::nullopt;
    Json f = FactsOf(run);
    Put(user, "r/" + run_id, engine::DumpJson(f));
    return f;
  }

  // The runs stored before this plugin first served the user.
  void Backfill(const std::string& user) {
    if (Get(user, "seen")) return;
    kv_.ForEachStoredRun(user.c_str(), [&](const std::string& id) { StoreRun(user, id); });
    Put(user, "seen", "1");
  }

  // --- memory ---
  std::shared_ptr<UserMemory> Entry(const std::string& user) {
    std::lock_guard lock(p_->users_mu);
    auto it = p_->by_user.find(user);
    if (it != p_->by_user.end()) {
      p_->users.splice(p_->users.begin(), p_->users, it->second);
      return it->second->second;
    }
    p_->users.emplace_front(user, std::make_shared<UserMemory>());
    p_->by_user[user] = p_->users.begin();
    // The least recently used go while there are too many or they hold too much (a memory in
    // use elsewhere lives on until that request ends).
    size_t total = 0;
    for (const auto& [name, m] : p_->users) total += m->bytes.load();
    while (p_->users.size() > 1 &&
           (p_->users.size() > p_->config.max_users || total > p_->config.memory_bytes)) {
      total -= p_->users.back().second->bytes.load();
      p_->by_user.erase(p_->users.back().first);
      p_->users.pop_back();
    }
    return p_->users.front().second;
  }
  std::unique_lock<std::mutex> Lock(const std::string& user) {
    return std::unique_lock(p_->stripes[std::hash<std::string>()(user) % p_->stripes.size()]);
  }
  std::shared_ptr<UserMemory> Cached(const std::string& user) {
    std::lock_guard lock(p_->users_mu);
    auto it = p_->by_user.find(user);
    return it == p_->by_user.end() ? nullptr : it->second->second;
  }
  void Drop(const std::string& user) {
    std::lock_guard lock(p_->users_mu);
    auto it = p_->by_user.find(user);
    if (it == p_->by_user.end()) return;
    p_->users.erase(it->second);
    p_->by_user.erase(it);
  }

  std::vector<Document> MessageDocs(const std::vector<std::pair<std::string, std::string>>& rows,
                                    const engine::TimeZone& zone) {
    std::vector<Document> docs;
    std::string previous;
    for (const auto& [key, value] : rows) {
      const Json m = Json::parse(value, nullptr, false);
      if (!m.is_object()) continue;
      const double at = NumberOr(m, "at", 0);
      const std::string role = m.value("role", ""), text = m.value("text", "");
      docs.push_back(engine::retrieval::MessageDocument(m.value("seq", uint64_t{0}), role, text, at,
                                                        zone.LocalDay(at),
                                                        role == "assistant" ? previous : ""));
      previous = text;
    }
    return docs;
  }

  Document ProfileDoc(const Json& profile) {
    Document d;
    d.id = "profile";
    d.kind = DocKind::kProfile;
    std::string t = "My profile: time zone " + profile.value("time_zone", std::string("UTC"));
    if (profile.contains("goal") && profile["goal"].is_object()) {
      const Json& g = profile["goal"];
      char buf[160];
      std::snprintf(buf, sizeof buf, "; goal race %.1f km on %s",
                    NumberOr(g, "distance_m", 0) / 1000, g.value("date", std::string("?")).c_str());
      t += buf;
      if (g.contains("target_time_s") && g["target_time_s"].is_number()) {
        t += " in " + engine::FormatDuration(g["target_time_s"].get<double>());
      }
    }
    for (const char* k : {"max_hr_bpm", "rest_hr_bpm", "threshold_hr_bpm",
                          "threshold_pace_s_per_km", "weekly_volume_km", "birth_year"}) {
      if (profile.contains(k) && profile[k].is_number()) {
        t += std::string("; ") + k + " " + engine::DumpJson(profile[k]);
      }
    }
    if (profile.contains("availability"))
      t += "; availability " + engine::DumpJson(profile["availability"]);
    d.text = t + ".";
    return d;
  }

  // The plan's days (from the plans plugin), replacing those in memory.
  void RefreshPlan(const std::string& user, UserMemory& um, int64_t today, double now) {
    if (um.plan_day == today && now - um.plan_read_at < kPlanMaxAgeS) return;
    um.plan_day = today;
    um.plan_read_at = now;
    if (!STRIDE_HOST_HAS(p_->host, plugin_get)) return;
    std::string out;
    stride_sink_t sink = HostStore::Sink(&out);
    const int rc = p_->host->plugin_get(p_->ctx, user.c_str(), "/v1/plans/current", &sink);
    for (const Document* d : um.memory->All()) {
      if (d->kind != DocKind::kPlanDay) continue;
      Shrink(um, *d);
      um.memory->Remove(d->id);
    }
    if (rc != STRIDE_OK) return;  // no plans plugin, or no plan: nothing to tell
    const Json plan = Json::parse(out, nullptr, false);
    if (!plan.is_object() || !plan.contains("days") || !plan["days"].is_array()) return;
    std::vector<Document> docs;
    for (const Json& d : plan["days"]) {
      int64_t day = 0;
      if (!d.is_object() || !engine::ParseDate(d.value("date", ""), &day)) continue;
      if (d.value("type", "") == "run") continue;  // an extra run: the run's own document says it
      std::vector<std::string> reasons;
      if (d.contains("changed") && d["changed"].is_array()) {
        for (const Json& r : d["changed"]) {
          if (r.is_string()) reasons.push_back(r.get<std::string>());
        }
      }
      std::string desc = d.contains("phase") && d["phase"].is_string()
                             ? d["phase"].get<std::string>() + " phase"
                             : "";
      const std::string state = d.value("state", "");
      if (state == "done" || state == "missed") desc += ", " + state;
      docs.push_back(engine::retrieval::PlanDayDocument(
          day, d.value("type", ""), NumberOr(d, "distance_m", 0), desc, reasons));
    }
    for (const Document& d : docs) Grow(um, d);
    Status s = um.memory->Put(std::move(docs));
    if (!s.ok()) throw ApiError{502, "provider_failed", s.message()};
  }

  // What a document adds to a memory, roughly: its text twice (text and postings), its
  // vector, bookkeeping. Between builds the memory's bytes follow these estimates.
  size_t DocBytes(const Document& d) const {
    return 2 * d.text.size() + 4 * p_->embedder->Dimensions() + 256;
  }
  void Grow(UserMemory& um, const Document& d) { um.bytes += DocBytes(d); }
  void Shrink(UserMemory& um, const Document& d) {
    const size_t b = DocBytes(d), now = um.bytes.load();
    um.bytes = now > b ? now - b : 0;
  }
  void RemoveDoc(UserMemory& um, const std::string& id) {
    if (const Document* d = um.memory->Find(id)) {
      Shrink(um, *d);
      um.memory->Remove(id);
    }
  }
  void Forget(UserMemory& um) {
    um.memory.reset();  // rebuilt on the next request
    um.bytes = 0;
  }

  // The user's memory, built when not yet in memory; the user's stripe is held.
  void Build(const std::string& user, UserMemory& um) {
    if (um.memory) return;
    const auto t0 = std::chrono::steady_clock::now();
    const Json profile = Profile(user);
    um.zone_name = profile.value("time_zone", std::string("UTC"));
    Result<engine::TimeZone> zone = engine::TimeZone::Load(um.zone_name);
    um.zone = zone.ok() ? *zone : engine::TimeZone::Utc();
    Backfill(user);
    std::vector<Document> docs;
    for (const auto& [key, value] : Scan(user, "r/")) {
      const Json f = Json::parse(value, nullptr, false);
      if (f.is_object()) docs.push_back(RunDoc(key.substr(2), f, um.zone));
    }
    for (Document& d : MessageDocs(Scan(user, "m/"), um.zone)) docs.push_back(std::move(d));
    docs.push_back(ProfileDoc(profile));
    const std::string& kind = p_->config.vector_index;
    um.hnsw = kind == "hnsw" || (kind == "auto" && docs.size() > p_->config.exact_max);
    std::unique_ptr<engine::retrieval::VectorIndex> index;
    if (um.hnsw) {
      index = std::make_unique<HnswVectorIndex>(p_->embedder->Dimensions());
    } else {
      index = std::make_unique<engine::retrieval::ExactVectorIndex>(p_->embedder->Dimensions());
    }
    auto memory = std::make_unique<Memory>(p_->embedder.get(), std::move(index));
    Status s = memory->Put(std::move(docs));
    if (!s.ok())
      throw ApiError{s.code() == StatusCode::kUnavailable ? 504 : 502, "provider_failed",
                     s.message()};
    um.bytes = memory->MemoryBytes();
    um.memory = std::move(memory);
    um.plan_day = kNoDay;
    um.built_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  // --- events ---
  void OnEvent(const Json& e) {
    const std::string type = e.value("type", ""), user = e.value("user", "");
    if (user.empty()) return;
    if (type == "user.deleted") {
      Drop(user);  // the host deleted the keys
      return;
    }
    const std::string id = e.value("run_id", "");
    if (id.empty() || (type != "run.stored" && type != "run.deleted")) return;
    auto lock = Lock(user);
    std::shared_ptr<UserMemory> um = Cached(user);
    if (!Get(user, "seen")) return;  // the backfill will read it
    if (type == "run.stored") {
      std::optional<Json> f = StoreRun(user, id);
      if (um && um->memory && f) {
        Document d = RunDoc(id, *f, um->zone);
        if (const Document* old = um->memory->Find(d.id)) Shrink(*um, *old);
        Grow(*um, d);
        if (!um->memory->Put({std::move(d)}).ok()) Forget(*um);
        um->plan_day = kNoDay;  // the plan follows runs
      }
    } else {
      Delete(user, "r/" + id);
      if (um && um->memory) {
        RemoveDoc(*um, "run/" + id);
        um->plan_day = kNoDay;
      }
    }
  }

  // --- answers ---
  static std::string Question(const Json& body, size_t* k) {
    if (!body.is_object()) {
      throw ApiError{400, "invalid_argument", "body: expected a JSON object {\"question\",\"k\"}"};
    }
    if (!body.contains("question") || !body["question"].is_string()) {
      throw ApiError{400, "invalid_argument", "question: expected a string"};
    }
    std::string q = body["question"].get<std::string>();
    if (q.find_first_not_of(" \t\r\n") == std::string::npos) {
      throw ApiError{400, "invalid_argument", "question: empty"};
    }
    if (q.size() > kMaxQuestionBytes) {
      throw ApiError{400, "invalid_argument",
                     "question: " + std::to_string(q.size()) + " bytes, at most " +
                         std::to_string(kMaxQuestionBytes)};
    }
    *k = 5;
    if (body.contains("k")) {
      if (!body["k"].is_number_integer() || body["k"].get<int64_t>() < 1 ||
          body["k"].get<int64_t>() > 50) {
        throw ApiError{400, "invalid_argument", "k: expected an integer from 1 to 50"};
      }
      *k = static_cast<size_t>(body["k"].get<int64_t>());
    }
    return q;
  }

  static Json ItemJson(const engine::retrieval::Hit& h) {
    const Document& d = *h.doc;
    const size_t slash = d.id.find('/');
    Json ranks = Json::object();
    const char* names[] = {"words", "meaning", "question"};
    for (int m = 0; m < 3; ++m) {
      if (h.rank[m] > 0) ranks[names[m]] = h.rank[m];
    }
    return {{"kind", std::string(engine::retrieval::DocKindName(d.kind))},
            {"id", slash == std::string::npos ? d.id : d.id.substr(slash + 1)},
            {"date", d.day == kNoDay ? Json(nullptr) : Json(DayText(d.day))},
            {"score", engine::RoundTo(h.score, 1e-6)},
            {"ranks", ranks},
            {"why", h.why},
            {"text", d.text}};
  }

  static Json Understood(const engine::retrieval::Retrieval& r) {
    const engine::retrieval::Question& q = r.question;
    Json u = Json::object();
    if (q.kind) u["kind"] = std::string(engine::retrieval::DocKindName(*q.kind));
    if (!q.date_phrase.empty()) u["phrase"] = q.date_phrase;
    const int64_t from = r.race_day != kNoDay ? r.race_day + 1 : q.from_day;
    if (from != kNoDay) u["from"] = DayText(from);
    if (q.to_day != kNoDay) u["to"] = DayText(q.to_day);
    if (r.race_day != kNoDay) u["race"] = DayText(r.race_day);
    if (q.order != Order::kNone) u["order"] = std::string(engine::retrieval::OrderName(q.order));
    if (!std::isnan(q.effort_m)) u["effort_m"] = q.effort_m;
    if (q.total) u["total"] = true;
    u["matched"] = r.selection.size();
    return u;
  }

  // Retrieval for `user` at `now`; the user's stripe is held.
  engine::retrieval::Retrieval Retrieve(const std::string& user, UserMemory& um,
                                        const std::string& question, size_t k, double now) {
    Build(user, um);
    const int64_t today = um.zone.LocalDay(now);
    RefreshPlan(user, um, today, now);
    engine::retrieval::RetrieveOptions o;
    o.k = k;
    Result<engine::retrieval::Retrieval> r = um.memory->Retrieve(question, today, o);
    if (!r.ok()) {
      throw ApiError{r.status().code() == StatusCode::kUnavailable ? 504 : 502, "provider_failed",
                     "embeddings: " + r.status().message()};
    }
    return std::move(*r);
  }

  Json RetrieveAnswer(const std::string& user, const Json& body) {
    size_t k = 5;
    const std::string question = Question(body, &k);
    const double now = Now();
    auto lock = Lock(user);
    std::shared_ptr<UserMemory> um = Entry(user);
    const auto t0 = std::chrono::steady_clock::now();
    engine::retrieval::Retrieval r = Retrieve(user, *um, question, k, now);
    Json items = Json::array();
    for (const engine::retrieval::Hit& h : r.hits) items.push_back(ItemJson(h));
    p_->host->count(p_->ctx, "retrievals", 1);
    return {{"question", question},
            {"today", DayText(um->zone.LocalDay(now))},
            {"understood", Understood(r)},
            {"items", items},
            {"took_ms", engine::RoundTo(std::chrono::duration<double, std::milli>(
                                            std::chrono::steady_clock::now() - t0)
                                            .count(),
                                        0.001)},
            {"methods", Methods()}};
  }

  Json Methods() const {
    return {{"words", "BM25 (k1 1.2, b 0.75, Lucene IDF) over folded terms"},
            {"meaning", p_->embedder->Name() + " vectors, exact scan up to " +
                            std::to_string(p_->config.exact_max) +
                            " documents, an HNSW graph (hnswlib, M 16, ef 128) beyond"},
            {"question", "dates, orders, totals, places and kinds read from the question"},
            {"fusion",
             "reciprocal rank fusion, k 60; question list weight 2 (3 when ordered); "
             "an ordered question's answer first; named dates and kinds filter"}};
  }

  // --- messages ---
  // Offline clients sync the conversation (collection "chat.messages", id the message's
  // number): each message as GET /v1/chat/messages lists it, a tombstone when it leaves the
  // kept 50. A failure is logged; the message is still stored.
  void SyncMessage(const std::string& user, uint64_t seq, const std::string* json) {
    SyncPut(p_->host, p_->ctx, user, "messages", std::to_string(seq), json, "chat message");
  }
  uint64_t StoreMessage(const std::string& user, UserMemory& um, const std::string& role,
                        const std::string& text, double at, const std::string& in_reply_to) {
    const std::optional<std::string> next = Get(user, "m_next");
    const uint64_t seq = next ? std::strtoull(next->c_str(), nullptr, 10) : 1;
    char key[32];
    std::snprintf(key, sizeof key, "m/%016llu", static_cast<unsigned long long>(seq));
    const std::string message =
        engine::DumpJson(Json{{"seq", seq}, {"role", role}, {"text", text}, {"at", at}});
    Put(user, key, message);
    Put(user, "m_next", std::to_string(seq + 1));
    SyncMessage(user, seq, &message);
    if (um.memory) {
      Document d = engine::retrieval::MessageDocument(seq, role, text, at, um.zone.LocalDay(at),
                                                      in_reply_to);
      Grow(um, d);
      if (!um.memory->Put({std::move(d)}).ok()) Forget(um);
    }
    // The last 50 stay.
    std::vector<std::pair<std::string, std::string>> rows = Scan(user, "m/");
    for (size_t i = 0; i + kMaxMessages < rows.size(); ++i) {
      Delete(user, rows[i].first);
      SyncMessage(user, std::strtoull(rows[i].first.c_str() + 2, nullptr, 10), nullptr);
      if (um.memory) {
        RemoveDoc(
            um, "message/" + std::to_string(std::strtoull(rows[i].first.c_str() + 2, nullptr, 10)));
      }
    }
    return seq;
  }

  Json MessagesAnswer(const std::string& user, const Json& query) {
    const auto limit = static_cast<size_t>(WholeQuery(query, "limit", 20, 1, 50));
    const auto before = static_cast<uint64_t>(WholeQuery(query, "before", INT64_MAX, 0, INT64_MAX));
    const auto rows = Scan(user, "m/");
    Json out = Json::array();
    Json next = nullptr;
    for (size_t i = rows.size(); i-- > 0;) {
      Json m = Json::parse(rows[i].second, nullptr, false);
      if (!m.is_object() || m.value("seq", UINT64_MAX) >= before) continue;
      if (out.size() == limit) {
        next = std::to_string(out.back()["seq"].get<uint64_t>());
        break;
      }
      m["at"] = engine::FormatIsoTime(NumberOr(m, "at", 0));
      out.push_back(std::move(m));
    }
    return {{"messages", out}, {"next_before", next}};
  }

  Json ForgetAnswer(const std::string& user) {
    auto lock = Lock(user);
    std::shared_ptr<UserMemory> um = Entry(user);
    size_t n = 0;
    for (const auto& [key, value] : Scan(user, "m/")) {
      Delete(user, key);
      ++n;
      if (um->memory) {
        RemoveDoc(*um, "message/" + std::to_string(std::strtoull(key.c_str() + 2, nullptr, 10)));
      }
    }
    return {{"deleted", n}};
  }

  Json MemoryAnswer(const std::string& user) {
    auto lock = Lock(user);
    std::shared_ptr<UserMemory> um = Entry(user);
    const double now = Now();
    Build(user, *um);
    RefreshPlan(user, *um, um->zone.LocalDay(now), now);
    std::map<std::string, size_t> kinds;
    for (const Document* d : um->memory->All())
      ++kinds[std::string(engine::retrieval::DocKindName(d->kind))];
    size_t users = 0, all = 0;
    {
      std::lock_guard users_lock(p_->users_mu);
      users = p_->users.size();
      for (const auto& [name, m] : p_->users) all += m->bytes.load();
    }
    return {{"documents", kinds},
            {"bytes", um->memory->MemoryBytes()},
            {"users_in_memory", users},
            {"bytes_in_memory", all},
            {"memory_budget_bytes", p_->config.memory_bytes},
            {"built_ms", engine::RoundTo(um->built_ms, 0.001)},
            {"embedder", p_->embedder->Name()},
            {"vector_index", um->hnsw ? "hnsw" : "exact"},
            {"driver", p_->driver ? p_->config.chat.base_url : "none"}};
  }

  // --- asking ---
  std::string TokenKey(const std::string& date) { return "t/" + date; }
  // Tokens spent on `date` by `user`, or by everyone ("": the plugin's own namespace).
  int64_t Spent(const std::string& user, const std::string& date) {
    const std::optional<std::string> v =
        kv_.Get(user.empty() ? nullptr : user.c_str(), TokenKey(date));
    return v ? std::strtoll(v->c_str(), nullptr, 10) : 0;
  }
  void Spend(const std::string& user, const std::string& date, int64_t tokens) {
    std::lock_guard lock(p_->tokens_mu);
    Put(user, TokenKey(date), std::to_string(Spent(user, date) + tokens));
    kv_.Put(nullptr, TokenKey(date), std::to_string(Spent("", date) + tokens));
  }

  // The answer of the offline driver: the structured answer when the question was understood,
  // else what was found.
  static std::string OfflineAnswer(const engine::retrieval::Retrieval& r) {
    const engine::retrieval::Question& q = r.question;
    const std::string span = q.date_phrase.empty() ? "" : " " + q.date_phrase;
    if (q.total && q.kind == DocKind::kRun) {
      double m = 0, s = 0;
      for (const Document* d : r.selection) {
        if (std::isfinite(d->distance_m)) m += d->distance_m;
        if (std::isfinite(d->moving_s)) s += d->moving_s;
      }
      char buf[200];
      std::snprintf(buf, sizeof buf, "%s: %zu run%s, %.1f km in %s moving.",
                    span.empty() ? "In all" : span.substr(1).c_str(), r.selection.size(),
                    r.selection.size() == 1 ? "" : "s", m / 1000,
                    engine::FormatDuration(s).c_str());
      std::string out = buf;
      out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
      return out;
    }
    if (q.order != Order::kNone && !r.selection.empty()) {
      const Document& d = *r.selection[0];
      std::string what = std::string(engine::retrieval::OrderName(q.order));
      if (!std::isnan(q.effort_m)) {
        for (const auto& [m, s] : d.efforts) {
          if (std::fabs(m - q.effort_m) <= 0.01 * q.effort_m) {
            char buf[120];
            std::snprintf(buf, sizeof buf, "%s %.0f m%s: %s, in this run: ", what.c_str(),
                          q.effort_m, span.c_str(), engine::FormatDuration(s).c_str());
            what = buf;
          }
        }
        if (what.find(':') != std::string::npos) {
          what[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(what[0])));
          return what + d.text;
        }
      }
      what[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(what[0])));
      return what + span + " (of " + std::to_string(r.selection.size()) + "): " + d.text;
    }
    if (q.HasDates() && !r.selection.empty()) {  // "yesterday", "on Sunday", "tomorrow"
      std::string out = span.empty() ? std::string("Then") : span.substr(1);
      out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
      out += ":";
      for (size_t i = 0; i < r.selection.size() && i < 3; ++i) {
        out += (r.selection.size() == 1 ? " " : "\n- ") + r.selection[i]->text;
      }
      if (r.selection.size() > 3)
        out += "\n(and " + std::to_string(r.selection.size() - 3) + " more)";
      return out;
    }
    if (r.hits.empty()) return "I found nothing about that in your runs, plan or messages.";
    std::string out = "From your data:";
    for (size_t i = 0; i < r.hits.size() && i < 3; ++i) out += "\n- " + r.hits[i].doc->text;
    return out;
  }

  std::vector<ChatTurn> Prompt(const engine::retrieval::Retrieval& r, const std::string& question,
                               const std::string& today, int64_t* context_items) {
    std::string system =
        "You are a running coach. Answer the runner's question from their own data below: "
        "runs, plan days, messages and profile. Say so when the data does not answer it. Be "
        "brief. Today is " +
        today + ".\n\nData:\n";
    int64_t budget =
        p_->config.prompt_tokens - EstimateTokens(system) - EstimateTokens(question) - 16;
    *context_items = 0;
    for (const engine::retrieval::Hit& h : r.hits) {
      const std::string line = "- [" + std::string(engine::retrieval::DocKindName(h.doc->kind)) +
                               "] " + h.doc->text + "\n";
      const int64_t t = EstimateTokens(line);
      if (t > budget) break;
      budget -= t;
      system += line;
      ++*context_items;
    }
    return {{"system", system}, {"user", question}};
  }

  // (content type, body)
  // The tokens a completion used, against the budgets and in the counters (per model too:
  // stride_plugin_tokens_in_<model>_total, so the daily spend is one query).
  void Account(const std::string& user, const std::string& date, const Completion& c) {
    Spend(user, date, c.prompt_tokens + c.completion_tokens);
    std::string m;
    for (char ch : c.model) {
      m += std::isalnum(static_cast<unsigned char>(ch))
               ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
               : '_';
    }
    for (const std::string& suffix : {std::string(), "_" + m.substr(0, 21)}) {
      p_->host->count(p_->ctx, ("tokens_in" + suffix).c_str(),
                      static_cast<double>(c.prompt_tokens));
      p_->host->count(p_->ctx, ("tokens_out" + suffix).c_str(),
                      static_cast<double>(c.completion_tokens));
    }
  }

  // What a provider's failure is to the client: its status, code and, for a client that sees
  // no more (an event stream), the words that name no provider address or provider's words.
  struct ProviderFailure {
    int status;
    const char* code;
    const char* said;
  };
  static ProviderFailure ClassifyProviderFailure(const Status& s) {
    if (s.code() == StatusCode::kUnavailable) {
      return {504, "provider_timeout", "the model provider did not answer in time"};
    }
    return {502, "provider_failed", "the model provider failed"};
  }

  static ApiError ProviderError(const Status& s, uint64_t asked) {
    const ProviderFailure f = ClassifyProviderFailure(s);
    return ApiError{f.status, f.code,
                    s.message() + " (your message " + std::to_string(asked) + " was stored)"};
  }

  // With a provider and Accept: text/event-stream: answers with an event stream (the items
  // first, then each piece as the provider sends it, then done or error), the provider being
  // called on a thread of its own; false when the answer is not streamed this way.
  bool AskStream(const std::string& user, const Json& req, stride_call_t* call) {
    if (!WantsEventStream(req) || !p_->driver || !STRIDE_HOST_HAS(p_->host, publish)) return false;
    const Json body = Json::parse(req.value("body", std::string()), nullptr, false);
    size_t k = 5;
    const std::string question = Question(body, &k);
    const double now = Now();
    const std::string date = engine::FormatDate(static_cast<int64_t>(std::floor(now / 86400)));
    CheckBudgets(user, date);
    std::vector<ChatTurn> prompt;
    uint64_t asked = 0;
    Json items = Json::array();
    {
      auto lock = Lock(user);
      std::shared_ptr<UserMemory> um = Entry(user);
      Build(user, *um);
      asked = StoreMessage(user, *um, "user", question, now, "");
      engine::retrieval::Retrieval r = Retrieve(user, *um, question, k, now);
      for (const engine::retrieval::Hit& h : r.hits) items.push_back(ItemJson(h));
      int64_t context_items = 0;
      prompt = Prompt(r, question, DayText(um->zone.LocalDay(now)), &context_items);
    }
    const std::string topic = "ask/" + std::to_string(asked) + "/" + user;
    if (p_->host->respond_stream(call, topic.c_str()) != STRIDE_OK) {
      throw ApiError{500, "internal", "could not open the event stream"};
    }
    const std::string first = engine::DumpJson(items);
    p_->host->stream_event(call, "items", 1, first.data(), first.size());
    {
      std::lock_guard workers(p_->workers_mu);
      ++p_->workers;
    }
    State* p = p_;
    std::thread([p, user, topic, prompt, question, asked, date, now] {
      uint64_t id = 2;
      auto publish = [&](const char* event, const Json& data) {
        const std::string text = engine::DumpJson(data);
        p->host->publish(p->ctx, topic.c_str(), event, id++, text.data(), text.size());
      };
      try {
        Chat chat(p);
        Result<Completion> c = p->driver->Stream(prompt, [&](std::string_view piece) {
          publish("answer", Json{{"text", piece}});
        });
        if (!c.ok()) {
          p->host->count(p->ctx, "provider_failures", 1);
          // The event reaches the client as it is (no HTTP layer in between to hide it), so it
          // names no provider address or provider's words: those go to the server's log.
          const ProviderFailure f = ClassifyProviderFailure(c.status());
          p->host->log(
              p->ctx, STRIDE_LOG_ERROR,
              ("streamed answer to message " + std::to_string(asked) + ": " + c.status().message())
                  .c_str());
          publish("error",
                  Json{{"status", f.status},
                       {"code", f.code},
                       {"message", std::string(f.said) + " (your message " + std::to_string(asked) +
                                       " was stored; the detail is in the server's log)"}});
        } else {
          uint64_t answered = 0;
          {
            auto lock = chat.Lock(user);
            std::shared_ptr<UserMemory> um = chat.Entry(user);
            answered = chat.StoreMessage(user, *um, "assistant", c->text, now, question);
          }
          chat.Account(user, date, *c);
          p->host->count(p->ctx, "asks", 1);
          publish("done", Json{{"driver", "openai-compatible"},
                               {"model", c->model},
                               {"usage",
                                {{"prompt_tokens", c->prompt_tokens},
                                 {"completion_tokens", c->completion_tokens},
                                 {"attempts", c->attempts}}},
                               {"messages", {{"question", asked}, {"answer", answered}}}});
        }
      } catch (const ApiError& e) {
        publish("error", Json{{"status", e.status}, {"code", e.code}, {"message", e.message}});
      } catch (const std::exception& e) {
        publish("error", Json{{"status", 500}, {"code", "internal"}, {"message", e.what()}});
      }
      std::lock_guard workers(p->workers_mu);
      --p->workers;
      p->workers_cv.notify_all();
    }).detach();
    return true;
  }

  void CheckBudgets(const std::string& user, const std::string& date) {
    if (p_->driver) {
      const int64_t mine = Spent(user, date), all = Spent("", date);
      if (mine >= p_->config.user_daily_tokens) {
        throw ApiError{429, "budget_exhausted",
                       "your chat budget of " + std::to_string(p_->config.user_daily_tokens) +
                           " tokens for " + date + " (UTC) is spent (" + std::to_string(mine) +
                           ")"};
      }
      if (all >= p_->config.daily_tokens) {
        throw ApiError{429, "budget_exhausted",
                       "the service's chat budget of " + std::to_string(p_->config.daily_tokens) +
                           " tokens for " + date + " (UTC) is spent"};
      }
    }
  }

  std::pair<std::string, std::string> AskAnswer(const std::string& user, const Json& req) {
    const Json body = Json::parse(req.value("body", std::string()), nullptr, false);
    size_t k = 5;
    const std::string question = Question(body, &k);
    const bool sse = WantsEventStream(req);
    const double now = Now();
    const std::string date = engine::FormatDate(static_cast<int64_t>(std::floor(now / 86400)));
    CheckBudgets(user, date);
    auto lock = Lock(user);
    std::shared_ptr<UserMemory> um = Entry(user);
    Build(user, *um);
    // The user's message is stored whatever happens next.
    const uint64_t asked = StoreMessage(user, *um, "user", question, now, "");
    engine::retrieval::Retrieval r = Retrieve(user, *um, question, k, now);
    Json items = Json::array();
    for (const engine::retrieval::Hit& h : r.hits) items.push_back(ItemJson(h));
    std::string answer;
    Json usage = {{"prompt_tokens", 0}, {"completion_tokens", 0}};
    std::string model = "none";
    int64_t context_items = static_cast<int64_t>(r.hits.size());
    if (!p_->driver) {
      answer = OfflineAnswer(r);
    } else {
      const std::vector<ChatTurn> prompt =
          Prompt(r, question, DayText(um->zone.LocalDay(now)), &context_items);
      Result<Completion> c = p_->driver->Complete(prompt);
      if (!c.ok()) {
        p_->host->count(p_->ctx, "provider_failures", 1);
        throw ProviderError(c.status(), asked);
      }
      answer = c->text;
      model = c->model;
      usage = {{"prompt_tokens", c->prompt_tokens},
               {"completion_tokens", c->completion_tokens},
               {"attempts", c->attempts}};
      Account(user, date, *c);
    }
    const uint64_t answered = StoreMessage(user, *um, "assistant", answer, now, question);
    p_->host->count(p_->ctx, "asks", 1);
    Json out = {{"answer", answer},
                {"driver", p_->driver ? "openai-compatible" : "none"},
                {"model", model},
                {"usage", usage},
                {"context_items", context_items},
                {"understood", Understood(r)},
                {"items", items},
                {"messages", {{"question", asked}, {"answer", answered}}}};
    if (!sse) return {"application/json", engine::DumpJson(out)};
    // Server-Sent Events (the offline answer, all there at once): the items, the answer in
    // pieces of at most 200 bytes (whole UTF-8 characters), then done with the usage.
    auto event = [](const char* name, const Json& data) {
      return std::string("event: ") + name + "\ndata: " + engine::DumpJson(data) + "\n\n";
    };
    std::string stream = event("items", out["items"]);
    for (size_t i = 0; i < answer.size();) {
      size_t n = std::min<size_t>(200, answer.size() - i);
      while (i + n < answer.size() && (static_cast<unsigned char>(answer[i + n]) & 0xC0) == 0x80)
        --n;
      stream += event("answer", Json{{"text", answer.substr(i, n)}});
      i += n;
    }
    out.erase("items");
    out.erase("answer");
    stream += event("done", out);
    return {"text/event-stream", stream};
  }

 private:
  State* p_;
  HostStore kv_;
};

int HandleC(State* self, stride_call_t* call, const char* request, size_t size) {
  return HandleCall(self->host, self->ctx, call, [&] {
    const Json req = Json::parse(std::string_view(request, size));
    Chat chat(self);
    const std::string user = req.value("user", "");
    if (user.empty()) throw ApiError{401, "unauthenticated", "chat routes need a token"};
    const int route = req.value("route_id", 0);
    switch (route) {
      case kRetrieve:
        RespondJson(self->host, call, 200,
                    chat.RetrieveAnswer(
                        user, Json::parse(req.value("body", std::string()), nullptr, false)));
        break;
      case kAsk: {
        if (chat.AskStream(user, req, call)) break;
        const auto [type, body] = chat.AskAnswer(user, req);
        self->host->respond(call, 200, type.c_str(), body.data(), body.size());
        break;
      }
      case kMessages:
        RespondJson(self->host, call, 200,
                    chat.MessagesAnswer(user, req.value("query", Json::object())));
        break;
      case kForget:
        RespondJson(self->host, call, 200, chat.ForgetAnswer(user));
        break;
      case kMemoryStats:
        RespondJson(self->host, call, 200, chat.MemoryAnswer(user));
        break;
      default:
        throw ApiError{404, "not_found", "no such chat route"};
    }
  });
}

int OnEventC(State* self, const char* event, size_t size) {
  return HandleEvent(self->host, self->ctx,
                     [&] { Chat(self).OnEvent(Json::parse(std::string_view(event, size))); });
}

void ShutdownC(State* self) {
  {
    // Streamed answers in flight end first (each within the provider's timeouts).
    std::unique_lock lock(self->workers_mu);
    self->workers_cv.wait(lock, [self] { return self->workers == 0; });
  }
  delete self;
}

const stride_plugin_api_t kApi = PluginApi<State, ShutdownC, HandleC, OnEventC>();
const stride_plugin_info_t kInfo = {sizeof(stride_plugin_info_t), STRIDE_PLUGIN_ABI_VERSION, "chat",
                                    "0.1.0"};

}  // namespace

const stride_plugin_info_t* Info() {
  return &kInfo;
}

int InitV1(const stride_host_api_t* host, stride_host_t* ctx, stride_plugin_t** self,
           const stride_plugin_api_t** api) {
  if (!STRIDE_HOST_HAS(host, subscribe)) {
    host->set_error(ctx, "the host's function table is older than ABI v1");
    return STRIDE_E_INVALID;
  }
  auto p = std::make_unique<State>();
  p->host = host;
  p->ctx = ctx;
  std::string config_error;
  p->config = ReadConfig(&config_error);
  if (!config_error.empty()) {
    host->set_error(ctx, config_error.c_str());
    return STRIDE_E_INVALID;
  }
  if (p->config.embeddings == "hashed") {
    p->embedder = std::make_unique<engine::retrieval::HashedEmbedder>();
  } else if (p->config.embeddings.rfind("http://", 0) == 0 ||
             p->config.embeddings.rfind("https://", 0) == 0) {
    p->embedder = std::make_unique<OpenAiEmbedder>(p->config.embed);
  } else {
    host->set_error(ctx, ("STRIDE_CHAT_EMBEDDINGS: '" + p->config.embeddings +
                          "' is neither \"hashed\" nor an http(s):// URL")
                             .c_str());
    return STRIDE_E_INVALID;
  }
  if (p->config.vector_index != "auto" && p->config.vector_index != "exact" &&
      p->config.vector_index != "hnsw") {
    host->set_error(ctx, ("STRIDE_CHAT_VECTOR_INDEX: '" + p->config.vector_index +
                          "': expected auto, exact or hnsw")
                             .c_str());
    return STRIDE_E_INVALID;
  }
  if (p->config.driver.rfind("http://", 0) == 0 || p->config.driver.rfind("https://", 0) == 0) {
    p->driver = std::make_unique<OpenAiClient>(p->config.chat);
  } else if (p->config.driver != "none") {
    host->set_error(ctx, ("STRIDE_CHAT_DRIVER: '" + p->config.driver +
                          "' is neither \"none\" nor an http(s):// URL")
                             .c_str());
    return STRIDE_E_INVALID;
  }
  // Each route with its OpenAPI operation (GET /v1/openapi.json; the host adds the common
  // answers: 400, 401, 403, 404, 429, 500).
  const struct {
    const char* method;
    const char* pattern;
    const char* scope;
    int id;
    const char* doc;
  } routes[] = {
      {"POST", "/retrieve", "runner:read", kRetrieve,
       R"j({"summary": "What the coach would read to answer a question: the caller's runs, plan days, profile and messages, ranked",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "required": ["question"], "properties": {
            "question": {"type": "string"}, "k": {"type": "integer", "minimum": 1, "maximum": 50}}}}}},
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["question", "today", "items", "methods"], "properties": {
            "question": {"type": "string"}, "today": {"type": "string"},
            "understood": {"type": "object"}, "took_ms": {"type": "number"},
            "methods": {"type": "object"},
            "items": {"type": "array", "items": {"type": "object"}}}}}}}}})j"},
      {"POST", "/ask", "chat:ask", kAsk,
       R"j({"summary": "Ask the coach: an answer grounded in what retrieval found (streamed with Accept: text/event-stream)",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "required": ["question"], "properties": {
            "question": {"type": "string"}, "k": {"type": "integer", "minimum": 1, "maximum": 50}}}}}},
        "responses": {"200": {"description": "the answer", "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/event-stream": {"schema": {"type": "string"}}}},
          "429": "error: the caller's or the server's model budget is spent",
          "502": "error: the model provider failed",
          "504": "error: the model provider did not answer in time"}})j"},
      {"GET", "/messages", "runner:read", kMessages,
       R"j({"summary": "The conversation, newest first, paged",
        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50}},
          {"name": "before", "in": "query", "schema": {"type": "integer"}, "description": "next_before of the previous page"}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["messages", "next_before"], "properties": {
            "messages": {"type": "array", "items": {"type": "object",
              "required": ["seq", "role", "text", "at"], "properties": {
                "seq": {"type": "integer"}, "role": {"type": "string"},
                "text": {"type": "string"}, "at": {"type": "string"}}}},
            "next_before": {"type": ["integer", "null"]}}}}}}}})j"},
      {"DELETE", "/messages", "runner:write", kForget,
       R"j({"summary": "Forget the conversation",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["deleted"], "properties": {"deleted": {"type": "integer"}}}}}}}})j"},
      {"GET", "/memory", "runner:read", kMemoryStats,
       R"j({"summary": "The size of the retrieval index and what it holds",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
          "type": "object", "required": ["documents", "bytes"], "properties": {
            "documents": {"type": "object"}, "bytes": {"type": "integer"},
            "embedder": {"type": "string"}, "vector_index": {"type": "string"}}}}}}}})j"}};
  for (const auto& r : routes) {
    if (host->route_add(ctx, r.method, r.pattern, r.scope, r.id) != STRIDE_OK ||
        (STRIDE_HOST_HAS(host, route_doc) && host->route_doc(ctx, r.id, r.doc) != STRIDE_OK)) {
      return STRIDE_E_INTERNAL;
    }
  }
  if (host->subscribe(ctx, "run.stored,run.deleted,user.deleted", 0) != STRIDE_OK) {
    return STRIDE_E_INTERNAL;
  }
  *self = HandleOf(p.release());
  *api = &kApi;
  return STRIDE_OK;
}

}  // namespace stride::plugins::chat
