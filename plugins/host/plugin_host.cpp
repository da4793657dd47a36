// SPDX-License-Identifier: Apache-2.0
#include "plugins/host/plugin_host.hpp"

#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/sha256.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/number.hpp"
#include "engine/text/uri.hpp"
#include "engine/text/utf8.hpp"
#include "engine/threads.hpp"
#include "engine/time/time_zone.hpp"
#include "plugins/host/signing.hpp"

// The C side of the boundary: the host's context for a plugin, and one HTTP call. Errors are
// per thread (a plugin's calls run on several threads at once, each reports its own).
struct stride_host {
  stride::plugins::PluginHost* host = nullptr;
  stride::plugins::PluginHost::Loaded* plugin = nullptr;
  bool in_init = true;
};

namespace {
thread_local std::string t_error;  // the last error set or returned on this thread
}

struct stride_call {
  bool responded = false;
  int status = 0;
  std::string content_type;
  std::string body;
  std::shared_ptr<stride::plugins::PluginStream> stream;  // respond_stream
  uint64_t backlog_last_id = 0;
  stride::plugins::PluginHost* host = nullptr;
  std::string plugin;
};

namespace stride::plugins {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct PluginHost::Loaded {
  std::string name, version, origin, sha256;
  void* dl = nullptr;
  const stride_plugin_api_t* api = nullptr;
  stride_plugin_t* self = nullptr;
  stride_host ctx;
  engine::KeyValue* kv = nullptr;
  struct Route {
    std::string method, pattern, scope;  // pattern: the full path, "/v1/<name>/..."
    int id = 0;
    std::string doc;  // the OpenAPI operation given with route_doc; empty = none
  };
  std::vector<Route> routes;
  std::set<std::string> kinds;  // subscribed event kinds
  int daily_hour = 0;           // local hour of the "daily" tick
  std::atomic<uint64_t> calls{0}, failures{0}, events{0}, event_failures{0};
  mutable std::mutex counters_mu;
  std::map<std::string, double> counters;  // the plugin's own, via count()

  ~Loaded() {
    if (api && api->shutdown && self) api->shutdown(self);
    if (dl) dlclose(dl);
  }
};

struct PluginHost::Slot {
  std::shared_ptr<Loaded> current;
  std::shared_ptr<Loaded> previous;  // what `current` replaced: the rollback target
  std::string last_event;            // "loaded", "reloaded", "rolled back: ..."
};

namespace {

// An answer the host gives for a plugin (it was busy elsewhere, or failed), in the API's
// error shape.
PluginResponse HostError(int status, const std::string& code, const std::string& message) {
  PluginResponse r;
  r.status = status;
  r.body = engine::DumpJson(Json{{"error", {{"code", code}, {"message", message}}}});
  return r;
}

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot be read");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void WriteSink(stride_sink_t* sink, std::string_view data) {
  if (sink && sink->write) sink->write(sink->ctx, data.data(), data.size());
}

int Code(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return STRIDE_OK;
    case StatusCode::kInvalidArgument:
      return STRIDE_E_INVALID;
    case StatusCode::kNotFound:
      return STRIDE_E_NOT_FOUND;
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
      return STRIDE_E_IO;
    default:
      return STRIDE_E_INTERNAL;
  }
}

}  // namespace

// The host function table: plain C functions over stride_host.
struct HostCallbacks {
  static PluginHost::Loaded& P(stride_host_t* c) { return *c->plugin; }
  static int Fail(stride_host_t*, const Status& s) {
    if (!s.ok()) t_error = s.message();
    return Code(s);
  }
  static std::string Key(const char* user, const char* key, size_t size) {
    return PluginHost::StoredKey(user ? std::string_view(user) : std::string_view(),
                                 std::string_view(key, size));
  }

  static void SetError(stride_host_t*, const char* message) {
    t_error = message ? engine::ValidUtf8(message) : "";
  }
  static const char* LastError(stride_host_t*) { return t_error.c_str(); }
  static void LogFn(stride_host_t* c, int level, const char* message) {
    if (c && message) c->host->Log(P(c).name, level, message);
  }
  static void Count(stride_host_t* c, const char* name, double value) {
    if (!c || !name || !engine::IsValidNamespaceName(name) || !std::isfinite(value)) return;
    std::lock_guard lock(P(c).counters_mu);
    P(c).counters[name] += value;
  }
  static int64_t NowMs(stride_host_t* c) {
    const engine::Clock* clock =
        c->host->services_.clock ? c->host->services_.clock : &c->host->system_clock_;
    return static_cast<int64_t>(std::llround(clock->NowS() * 1000));
  }
  static int KvGet(stride_host_t* c, const char* user, const char* key, size_t key_size,
                   stride_sink_t* value) {
    if (!key || (user && !*user)) return Fail(c, Status::InvalidArgument("kv_get: bad key"));
    Result<std::optional<std::string>> v = P(c).kv->Get(Key(user, key, key_size));
    if (!v.ok()) return Fail(c, v.status());
    if (!v->has_value()) return Fail(c, Status::NotFound("no such key"));
    WriteSink(value, **v);
    return STRIDE_OK;
  }
  static int KvPut(stride_host_t* c, const char* user, const char* key, size_t key_size,
                   const char* value, size_t value_size) {
    if (!key || (user && !*user) || (!value && value_size)) {
      return Fail(c, Status::InvalidArgument("kv_put: bad key or value"));
    }
    return Fail(c, P(c).kv->Put(Key(user, key, key_size),
                                std::string_view(value ? value : "", value_size)));
  }
  static int KvDelete(stride_host_t* c, const char* user, const char* key, size_t key_size) {
    if (!key || (user && !*user)) return Fail(c, Status::InvalidArgument("kv_delete: bad key"));
    return Fail(c, P(c).kv->Delete(Key(user, key, key_size)));
  }
  static int KvScan(stride_host_t* c, const char* user, const char* prefix, size_t prefix_size,
                    int (*each)(void*, const char*, size_t, const char*, size_t), void* arg) {
    if (!each || (user && !*user)) return Fail(c, Status::InvalidArgument("kv_scan: bad call"));
    const std::string full = Key(user, prefix ? prefix : "", prefix ? prefix_size : 0);
    const size_t strip = full.size() - (prefix ? prefix_size : 0);
    return Fail(c, P(c).kv->Scan(full, [&](std::string_view k, std::string_view v) {
      return each(arg, k.data() + strip, k.size() - strip, v.data(), v.size()) == 0;
    }));
  }
  static int RunsList(stride_host_t* c, const char* user, const char* query, stride_sink_t* out) {
    if (!user || !*user) return Fail(c, Status::InvalidArgument("runs_list: no user"));
    Result<std::string> r = c->host->services_.runs_list(user, query ? query : "{}");
    if (!r.ok()) return Fail(c, r.status());
    WriteSink(out, *r);
    return STRIDE_OK;
  }
  static int RunGet(stride_host_t* c, const char* user, const char* run_id, stride_sink_t* out) {
    if (!user || !*user || !run_id) return Fail(c, Status::InvalidArgument("run_get: bad call"));
    Result<std::string> r = c->host->services_.run_get(user, run_id, false);
    if (!r.ok()) return Fail(c, r.status());
    WriteSink(out, *r);
    return STRIDE_OK;
  }
  static int RouteQuery(stride_host_t* c, const char* request, stride_sink_t* out) {
    if (!request) return Fail(c, Status::InvalidArgument("route_query: no request"));
    Result<std::string> r = c->host->services_.route_query(request);
    if (!r.ok()) return Fail(c, r.status());
    WriteSink(out, *r);
    return STRIDE_OK;
  }
  static int RouteAdd(stride_host_t* c, const char* method, const char* pattern, const char* scope,
                      int route_id) {
    if (!c->in_init) return Fail(c, Status::InvalidArgument("route_add: only during init"));
    const std::string m = method ? method : "";
    if (m != "GET" && m != "POST" && m != "PUT" && m != "DELETE" && m != "PATCH") {
      return Fail(c, Status::InvalidArgument("route_add: unknown method '" + m + "'"));
    }
    const std::string p = pattern ? pattern : "";
    if (!p.empty() && p.front() != '/') {
      return Fail(c, Status::InvalidArgument("route_add: the pattern must start with '/'"));
    }
    P(c).routes.push_back({m, "/v1/" + P(c).name + p, scope ? scope : "", route_id, ""});
    return STRIDE_OK;
  }
  static int Respond(stride_call_t* call, int status, const char* content_type, const char* body,
                     size_t body_size) {
    if (!call || call->responded || status < 100 || status > 599) return STRIDE_E_INVALID;
    call->responded = true;
    call->status = status;
    call->content_type = content_type ? content_type : "application/json";
    call->body.assign(body ? body : "", body ? body_size : 0);
    return STRIDE_OK;
  }
  static int RespondStream(stride_call_t* call, const char* topic) {
    if (!call || call->responded || !topic || !call->host) return STRIDE_E_INVALID;
    call->responded = true;
    call->status = 200;
    call->content_type = "text/event-stream";
    call->stream = std::make_shared<PluginStream>();
    // Subscribed now, before the plugin reads its backlog: nothing published from here on is
    // missed, and what the backlog also holds is skipped by id.
    call->host->AddStream(call->plugin, topic, call->stream);
    return STRIDE_OK;
  }
  static int StreamEvent(stride_call_t* call, const char* event, uint64_t id, const char* data,
                         size_t size) {
    if (!call || !call->stream || (!data && size)) return STRIDE_E_INVALID;
    call->body += FormatSse(event, id, std::string_view(data ? data : "", size));
    call->backlog_last_id = std::max(call->backlog_last_id, id);
    return STRIDE_OK;
  }
  static int Publish(stride_host_t* c, const char* topic, const char* event, uint64_t id,
                     const char* data, size_t size) {
    if (!c || !topic || (!data && size)) {
      return Fail(c, Status::InvalidArgument("publish: bad call"));
    }
    c->host->Publish(P(c).name, topic, id,
                     FormatSse(event, id, std::string_view(data ? data : "", size)));
    return STRIDE_OK;
  }
  static int ProfileGet(stride_host_t* c, const char* user, stride_sink_t* out) {
    if (!user || !*user) return Fail(c, Status::InvalidArgument("profile_get: no user"));
    Result<std::string> r = c->host->GetProfile(user);
    if (!r.ok()) return Fail(c, r.status());
    WriteSink(out, *r);
    return STRIDE_OK;
  }
  static int ReadinessList(stride_host_t* c, const char* user, const char* query,
                           stride_sink_t* out) {
    if (!user || !*user) return Fail(c, Status::InvalidArgument("readiness_list: no user"));
    const Json q = query && *query ? Json::parse(query, nullptr, false) : Json::object();
    if (!q.is_object()) return Fail(c, Status::InvalidArgument("readiness_list: bad query"));
    Result<std::string> r = c->host->ListReadiness(user, q.value("from", ""), q.value("to", ""));
    if (!r.ok()) return Fail(c, r.status());
    WriteSink(out, *r);
    return STRIDE_OK;
  }
  static int PluginGet(stride_host_t* c, const char* user, const char* path, stride_sink_t* out) {
    if (!user || !*user || !path) return Fail(c, Status::InvalidArgument("plugin_get: bad call"));
    bool known = false;
    std::string allowed;
    std::optional<PluginHost::Match> m = c->host->Resolve("GET", path, &known, &allowed);
    if (!m)
      return Fail(c, Status::NotFound(std::string("plugin_get: no plugin serves GET ") + path));
    if (m->plugin->name == P(c).name) {
      return Fail(c, Status::InvalidArgument("plugin_get: a plugin cannot call itself"));
    }
    if (m->scope != "runner:read") {
      return Fail(c, Status::InvalidArgument(std::string("plugin_get: ") + path + " needs scope " +
                                             m->scope));
    }
    const PluginResponse r = c->host->Call(*m, PluginRequest{"GET", path, {}, user, "", {}});
    if (r.status == 404) return Fail(c, Status::NotFound(r.body));
    if (r.status != 200 || r.stream) {
      return Fail(c, Status::Internal("plugin_get: " + std::string(path) + " answered " +
                                      std::to_string(r.status) + ": " + r.body));
    }
    WriteSink(out, r.body);
    return STRIDE_OK;
  }
  static int RouteDoc(stride_host_t* c, int route_id, const char* operation_json) {
    if (!c->in_init) return Fail(c, Status::InvalidArgument("route_doc: only during init"));
    const Json op = Json::parse(operation_json ? operation_json : "", nullptr, false);
    if (!op.is_object() || !op.contains("responses") || !op["responses"].is_object()) {
      return Fail(c, Status::InvalidArgument(
                         "route_doc: expected an OpenAPI operation object with \"responses\""));
    }
    bool found = false;
    for (auto& r : P(c).routes) {
      if (r.id != route_id) continue;
      r.doc = operation_json;
      found = true;
    }
    if (!found) {
      return Fail(c, Status::InvalidArgument("route_doc: no route " + std::to_string(route_id) +
                                             " (add it with route_add first)"));
    }
    return STRIDE_OK;
  }
  static int SyncPut(stride_host_t* c, const char* user, const char* collection, const char* id,
                     const char* json, size_t size) {
    if (!user || !*user || !collection || !id || (!json && size)) {
      return Fail(c, Status::InvalidArgument("sync_put: bad call"));
    }
    const std::string_view name(collection);
    bool good = !name.empty() && name.size() <= 32;
    for (char ch : name)
      good = good && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
    if (!good) {
      return Fail(c, Status::InvalidArgument("sync_put: collection must be [a-z0-9_]{1,32}"));
    }
    if (!c->host->services_.sync_put) {
      return Fail(c, Status::Unavailable("sync_put: this server keeps no sync log"));
    }
    std::optional<std::string> value;
    if (json) value.emplace(json, size);
    return Fail(c,
                c->host->services_.sync_put(user, P(c).name + "." + std::string(name), id, value));
  }
  static int Subscribe(stride_host_t* c, const char* kinds, int daily_hour) {
    if (!c->in_init) return Fail(c, Status::InvalidArgument("subscribe: only during init"));
    std::string all = kinds ? kinds : "";
    size_t b = 0;
    while (b <= all.size()) {
      const size_t e = std::min(all.find(',', b), all.size());
      const std::string k = all.substr(b, e - b);
      if (k != "run.stored" && k != "run.deleted" && k != "user.deleted" && k != "daily" &&
          k != "readiness.stored") {
        return Fail(c, Status::InvalidArgument("subscribe: unknown event kind '" + k + "'"));
      }
      if (k == "daily") {
        if (daily_hour < 0 || daily_hour > 23) {
          return Fail(c, Status::InvalidArgument("subscribe: daily_hour must be 0-23"));
        }
        P(c).daily_hour = daily_hour;
      }
      P(c).kinds.insert(k);
      b = e + 1;
    }
    return STRIDE_OK;
  }

  static const stride_host_api_t* Table() {
    static const stride_host_api_t table = {sizeof(stride_host_api_t),
                                            SetError,
                                            LastError,
                                            LogFn,
                                            Count,
                                            NowMs,
                                            KvGet,
                                            KvPut,
                                            KvDelete,
                                            KvScan,
                                            RunsList,
                                            RunGet,
                                            RouteQuery,
                                            RouteAdd,
                                            Respond,
                                            Subscribe,
                                            RespondStream,
                                            StreamEvent,
                                            Publish,
                                            ProfileGet,
                                            ReadinessList,
                                            PluginGet,
                                            SyncPut,
                                            RouteDoc};
    return &table;
  }
};

std::string FormatSse(const char* event, uint64_t id, std::string_view data) {
  std::string out;
  if (id != 0) out += "id: " + std::to_string(id) + "\n";
  if (event && *event) {
    std::string name = engine::ValidUtf8(event);
    std::replace(name.begin(), name.end(), '\n', ' ');
    std::replace(name.begin(), name.end(), '\r', ' ');
    out += "event: " + name + "\n";
  }
  const std::string text = engine::ValidUtf8(data);
  size_t at = 0;
  while (true) {
    const size_t end = text.find_first_of("\r\n", at);
    out += "data: " + text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    out += "\n";
    if (end == std::string::npos) break;
    at = end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1);
  }
  out += "\n";
  return out;
}

void PluginStream::SkipThrough(uint64_t id) {
  std::lock_guard lock(mu_);
  last_id_ = std::max(last_id_, id);
}

void PluginStream::Attach(std::function<bool(std::string)> push, std::function<bool()> alive) {
  std::lock_guard lock(mu_);
  push_ = std::move(push);
  alive_ = std::move(alive);
  for (auto& [id, bytes] : held_) {
    if (over_) break;
    if (id != 0 && id <= last_id_) continue;
    if (!push_(std::move(bytes))) over_ = true;
    last_id_ = std::max(last_id_, id);
  }
  held_.clear();
}

bool PluginStream::Offer(uint64_t id, const std::string& bytes) {
  std::lock_guard lock(mu_);
  if (over_) return false;
  if (!push_) {
    if (held_.size() >= kMaxHeld) {
      over_ = true;
      held_.clear();
      return false;
    }
    held_.emplace_back(id, bytes);
    return true;
  }
  if (id != 0 && id <= last_id_) return true;
  last_id_ = std::max(last_id_, id);
  if (!push_(bytes)) over_ = true;
  return !over_;
}

bool PluginStream::over() const {
  std::lock_guard lock(mu_);
  return over_ || (alive_ && !alive_());
}

std::string PluginHost::StoredKey(std::string_view user, std::string_view key) {
  std::string k(user);
  k.push_back('\0');
  k.append(key);
  return k;
}

PluginHost::PluginHost(PluginHostOptions options, PluginServices services,
                       std::vector<BundledPlugin> bundled)
    : options_(std::move(options)), services_(std::move(services)), bundled_(std::move(bundled)) {}

PluginHost::~PluginHost() {
  {
    std::lock_guard lock(event_mu_);
    stop_ = true;
  }
  event_cv_.notify_all();
  for (std::thread& t : deliverers_) {
    if (t.joinable()) t.join();
  }
  if (ticker_.joinable()) ticker_.join();
  {
    std::lock_guard lock(mu_);
    slots_.clear();  // shuts the plugins down
  }
  if (!private_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(private_dir_, ec);
  }
}

void PluginHost::Log(const std::string& plugin, int level, const std::string& message) const {
  if (!services_.log) return;
  static const char* kLevels[] = {"debug", "info", "warn", "error"};
  services_.log("plugin " + plugin + " " + kLevels[std::clamp(level, 0, 3)] + ": " +
                engine::EscapeForLog(message));
}

Result<std::shared_ptr<PluginHost::Loaded>> PluginHost::Init(std::shared_ptr<Loaded> p,
                                                             stride_plugin_init_v1_fn init) {
  Result<engine::KeyValue*> kv = services_.kv(p->name);
  if (!kv.ok()) return kv.status();
  p->kv = *kv;
  p->ctx.host = this;
  p->ctx.plugin = p.get();
  p->ctx.in_init = true;
  stride_plugin_t* self = nullptr;
  const stride_plugin_api_t* api = nullptr;
  t_error.clear();
  const int rc = init(HostCallbacks::Table(), &p->ctx, &self, &api);
  p->ctx.in_init = false;
  if (rc != 0 || !api || api->struct_size < sizeof(uint32_t) + sizeof(void*)) {
    // A failed init may have allocated; shutdown is the plugin's way to free it.
    if (api && self && api->shutdown) api->shutdown(self);
    return Status::InvalidArgument("init failed: " +
                                   (t_error.empty() ? "returned " + std::to_string(rc) : t_error));
  }
  p->api = api;
  p->self = self;
  return p;
}

void PluginHost::Install(std::shared_ptr<Loaded> p) {
  std::lock_guard lock(mu_);
  auto& slot = slots_[p->name];
  if (!slot) slot = std::make_shared<Slot>();
  slot->last_event = slot->current ? "reloaded" : "loaded";
  slot->previous = std::move(slot->current);
  slot->current = std::move(p);
  refused_.erase(slot->current->name);
}

Status PluginHost::LoadBundled(const BundledPlugin& b) {
  const stride_plugin_info_t* info = b.info ? b.info() : nullptr;
  if (!info || info->abi_version != STRIDE_PLUGIN_ABI_VERSION || !info->name ||
      !engine::IsValidNamespaceName(info->name) || std::string_view(info->name) == "host") {
    return Status::Internal("a bundled plugin has a bad stride_plugin_info()");
  }
  auto p = std::make_shared<Loaded>();
  p->name = info->name;
  p->version = info->version ? info->version : "";
  p->origin = "bundled";
  Result<std::shared_ptr<Loaded>> r = Init(p, b.init);
  if (!r.ok()) return Status::Internal("bundled plugin " + p->name + ": " + r.status().message());
  Install(*r);
  return Status::Ok();
}

Result<std::shared_ptr<PluginHost::Loaded>> PluginHost::LoadFromDir(const std::string& name,
                                                                    std::string* sha256) {
  const std::string base = options_.dir + "/" + name;
  Result<std::string> manifest_bytes = ReadAll(base + ".manifest.json");
  if (!manifest_bytes.ok()) return Status::NotFound("no manifest " + name + ".manifest.json");
  Result<std::string> sig = ReadAll(base + ".manifest.sig");
  if (sig.ok()) {
    std::string hex = *sig;
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
      hex.pop_back();
    }
    if (options_.public_key_hex.empty()) {
      if (!options_.dev) return Status::PermissionDenied("signed, but no --plugin-key to check it");
    } else {
      const Status v = VerifyEd25519(options_.public_key_hex, *manifest_bytes, hex);
      if (!v.ok()) return Status::PermissionDenied("bad signature: " + v.message());
    }
  } else if (!options_.dev) {
    return Status::PermissionDenied("unsigned (no " + name +
                                    ".manifest.sig; unsigned plugins only with --dev)");
  }
  const Json m = Json::parse(*manifest_bytes, nullptr, false);
  if (m.is_discarded() || !m.is_object() || !m.contains("library") || !m["library"].is_string() ||
      !m.contains("sha256") || !m["sha256"].is_string()) {
    return Status::InvalidArgument("manifest: expected {name, version, library, sha256}");
  }
  if (m.value("name", "") != name) return Status::InvalidArgument("manifest: name is not " + name);
  const std::string library = m["library"];
  if (library.empty() || library.find('/') != std::string::npos) {
    return Status::InvalidArgument("manifest: library must be a file name in the directory");
  }
  Result<std::string> lib = ReadAll(options_.dir + "/" + library);
  if (!lib.ok()) return Status::NotFound("library " + library + " not found");
  *sha256 = engine::Sha256Hex(*lib);
  if (*sha256 != m["sha256"].get<std::string>()) {
    return Status::PermissionDenied("library " + library + ": SHA-256 " + sha256->substr(0, 16) +
                                    "... is not the manifest's");
  }
  // The verified bytes, in a file of our own: what is checked is what is loaded.
  static std::atomic<uint64_t> serial{0};
  const std::string copy = private_dir_ + "/" + name + "-" + sha256->substr(0, 16) + "-" +
                           std::to_string(++serial) + ".so";
  {
    std::ofstream out(copy, std::ios::binary);
    out.write(lib->data(), static_cast<std::streamsize>(lib->size()));
    if (!out) return Status::IoError("cannot write " + copy);
  }
  auto p = std::make_shared<Loaded>();
  p->dl = dlopen(copy.c_str(), RTLD_NOW | RTLD_LOCAL);
  std::error_code ec;
  fs::remove(copy, ec);  // the mapping stays
  if (!p->dl) {
    const char* e = dlerror();
    return Status::InvalidArgument(std::string("dlopen: ") + (e ? e : "failed"));
  }
  auto info_fn = reinterpret_cast<stride_plugin_info_fn>(dlsym(p->dl, "stride_plugin_info"));
  if (!info_fn) return Status::InvalidArgument("no stride_plugin_info symbol");
  const stride_plugin_info_t* info = info_fn();
  if (!info || info->struct_size < sizeof(stride_plugin_info_t)) {
    return Status::InvalidArgument("stride_plugin_info() returned no info");
  }
  if (info->abi_version != STRIDE_PLUGIN_ABI_VERSION) {
    return Status::InvalidArgument("ABI version " + std::to_string(info->abi_version) +
                                   ", this host speaks " +
                                   std::to_string(STRIDE_PLUGIN_ABI_VERSION));
  }
  if (!info->name || name != info->name) {
    return Status::InvalidArgument("the library says it is '" +
                                   engine::ValidUtf8(info->name ? info->name : "") +
                                   "', the manifest " + name);
  }
  p->name = name;
  p->version = info->version ? engine::ValidUtf8(info->version) : "";
  if (m.contains("version") && m["version"].is_string() && m["version"] != p->version) {
    return Status::InvalidArgument("the library is version " + p->version + ", the manifest " +
                                   m["version"].get<std::string>());
  }
  p->origin = options_.dir + "/" + library;
  p->sha256 = *sha256;
  auto init = reinterpret_cast<stride_plugin_init_v1_fn>(dlsym(p->dl, "stride_plugin_init_v1"));
  if (!init) return Status::InvalidArgument("no stride_plugin_init_v1 symbol");
  return Init(std::move(p), init);
}

Status PluginHost::Start() {
  for (const BundledPlugin& b : bundled_) STRIDE_RETURN_IF_ERROR(LoadBundled(b));
  if (!options_.dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(options_.dir, ec)) {
      return Status::InvalidArgument("--plugins " + options_.dir + ": not a directory");
    }
    char tmpl[] = "/tmp/stride-plugins-XXXXXX";
    if (!mkdtemp(tmpl)) return Status::IoError("cannot create a directory for plugin copies");
    private_dir_ = tmpl;
    Reload();
  }
  size_t threads = options_.event_threads > 0
                       ? static_cast<size_t>(options_.event_threads)
                       : static_cast<size_t>(std::min(8, engine::ThreadsOrCores(0)));
  {
    std::lock_guard lock(event_mu_);
    shards_.resize(threads);
  }
  for (size_t i = 0; i < threads; ++i) deliverers_.emplace_back([this, i] { Deliver(i); });
  if (options_.tick_interval_s > 0 && services_.host_kv) {
    ticker_ = std::thread([this] {
      std::unique_lock lock(event_mu_);
      while (!stop_) {
        lock.unlock();
        Tick();
        lock.lock();
        event_cv_.wait_for(lock, std::chrono::duration<double>(options_.tick_interval_s),
                           [&] { return stop_; });
      }
    });
  }
  return Status::Ok();
}

std::string PluginHost::Reload() {
  Json report = Json::array();
  if (options_.dir.empty()) return engine::DumpJson(report);
  std::vector<std::string> allowed;
  if (Result<std::string> list = ReadAll(options_.dir + "/plugins.allow"); list.ok()) {
    size_t b = 0;
    while (b < list->size()) {
      size_t e = list->find('\n', b);
      if (e == std::string::npos) e = list->size();
      std::string line = list->substr(b, e - b);
      b = e + 1;
      line = line.substr(0, line.find('#'));
      while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t'))
        line.pop_back();
      while (!line.empty() && line.front() == ' ') line.erase(0, 1);
      if (!line.empty()) allowed.push_back(line);
    }
  }
  {
    std::lock_guard lock(mu_);
    allowed_ = allowed;
  }
  // Libraries in the directory that the allow-list does not name are refused, and said so.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string f = entry.path().filename().string();
    const std::string suffix = ".manifest.json";
    if (f.size() > suffix.size() &&
        f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const std::string n = f.substr(0, f.size() - suffix.size());
      if (std::find(allowed.begin(), allowed.end(), n) == allowed.end()) {
        std::lock_guard lock(mu_);
        refused_[n] = "not in plugins.allow";
        report.push_back({{"name", n}, {"result", "refused"}, {"why", "not in plugins.allow"}});
      }
    }
  }
  for (const std::string& name : allowed) {
    if (!engine::IsValidNamespaceName(name) || name == "host") {
      report.push_back(
          {{"name", name},
           {"result", "refused"},
           {"why", name == "host" ? "\"host\" is the host's own namespace" : "invalid name"}});
      continue;
    }
    std::string sha;
    std::shared_ptr<Loaded> serving;
    {
      std::lock_guard lock(mu_);
      auto it = slots_.find(name);
      if (it != slots_.end()) serving = it->second->current;
    }
    // Unchanged libraries are not reloaded.
    if (serving && !serving->sha256.empty()) {
      Result<std::string> mf = ReadAll(options_.dir + "/" + name + ".manifest.json");
      if (mf.ok()) {
        const Json m = Json::parse(*mf, nullptr, false);
        if (!m.is_discarded() && m.is_object() && m.value("sha256", "") == serving->sha256) {
          report.push_back(
              {{"name", name}, {"result", "unchanged"}, {"version", serving->version}});
          continue;
        }
      }
    }
    Result<std::shared_ptr<Loaded>> p = LoadFromDir(name, &sha);
    if (!p.ok()) {
      {
        std::lock_guard lock(mu_);
        refused_[name] = p.status().message();
      }
      Log(name, STRIDE_LOG_WARN, "refused: " + p.status().message());
      report.push_back({{"name", name},
                        {"result", "refused"},
                        {"why", p.status().message()},
                        {"serving", serving ? Json(serving->version) : Json(nullptr)}});
      continue;
    }
    const std::string version = (*p)->version;
    Install(*p);
    Log(name, STRIDE_LOG_INFO, "loaded version " + version);
    report.push_back(
        {{"name", name}, {"result", serving ? "reloaded" : "loaded"}, {"version", version}});
  }
  return engine::DumpJson(report);
}

std::vector<std::string> PluginHost::Names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [n, s] : slots_) {
    if (s->current) out.push_back(n);
  }
  return out;
}

std::string PluginHost::ListJson() const {
  std::lock_guard lock(mu_);
  Json loaded = Json::array();
  for (const auto& [n, s] : slots_) {
    if (!s->current) continue;
    const Loaded& p = *s->current;
    Json routes = Json::array();
    for (const auto& r : p.routes) {
      routes.push_back({{"method", r.method}, {"path", r.pattern}, {"scope", r.scope}});
    }
    loaded.push_back(
        {{"name", p.name},
         {"version", p.version},
         {"origin", p.origin},
         {"sha256", p.sha256.empty() ? Json(nullptr) : Json(p.sha256)},
         {"state", s->last_event},
         {"previous_version", s->previous ? Json(s->previous->version) : Json(nullptr)},
         {"calls", p.calls.load()},
         {"failures", p.failures.load()},
         {"events", p.events.load()},
         {"routes", routes},
         {"subscribes", std::vector<std::string>(p.kinds.begin(), p.kinds.end())}});
  }
  Json refused = Json::array();
  for (const auto& [n, why] : refused_) refused.push_back({{"name", n}, {"why", why}});
  return engine::DumpJson(Json{{"plugins", loaded}, {"refused", refused}, {"allowed", allowed_}});
}

std::vector<PluginHost::RouteDoc> PluginHost::RouteDocs() const {
  std::lock_guard lock(mu_);
  std::vector<RouteDoc> out;
  for (const auto& [n, s] : slots_) {
    if (!s->current) continue;
    for (const auto& r : s->current->routes) {
      out.push_back({s->current->name, r.method, r.pattern, r.scope, r.doc});
    }
  }
  return out;
}

std::optional<PluginHost::Match> PluginHost::Resolve(const std::string& method,
                                                     std::string_view raw_path, bool* path_known,
                                                     std::string* allowed) const {
  *path_known = false;
  allowed->clear();
  const std::vector<std::string_view> segs = engine::PathSegments(raw_path);
  if (segs.size() < 2 || segs[0] != "v1") return std::nullopt;
  std::shared_ptr<Loaded> p;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(std::string(segs[1]));
    if (it == slots_.end() || !it->second->current) return std::nullopt;
    p = it->second->current;
  }
  std::vector<std::string> decoded;
  for (std::string_view s : segs) decoded.push_back(engine::PercentDecode(s));
  std::vector<std::pair<std::string, std::string>> params;
  for (const Loaded::Route& r : p->routes) {
    if (!engine::MatchPathPattern(r.pattern, decoded, &params)) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      return Match{p, r.id, r.scope, std::move(params), r.method, r.pattern};
    }
    *path_known = true;
    if (allowed->find(r.method) == std::string::npos) {
      if (!allowed->empty()) *allowed += ", ";
      *allowed += r.method;
    }
  }
  return std::nullopt;
}

PluginResponse PluginHost::Call(const Match& match, const PluginRequest& request) {
  Loaded& p = *match.plugin;
  Json params = Json::object(), query = Json::object();
  for (const auto& [k, v] : match.params) params[k] = v;
  for (const auto& [k, v] : request.query) {
    if (!query.contains(k)) query[k] = v;
  }
  Json headers = Json::object();
  for (const auto& [k, v] : request.headers) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (name == "authorization" || name == "cookie" || headers.contains(name)) continue;
    headers[name] = engine::ValidUtf8(v);
  }
  const std::string req = engine::DumpJson(Json{
      {"method", request.method},
      {"path", request.path},
      {"route_id", match.route_id},
      {"params", params},
      {"query", query},
      // Only routes with a scope know their caller.
      {"user", request.user.empty() || match.scope.empty() ? Json(nullptr) : Json(request.user)},
      {"body", engine::ValidUtf8(request.body)},
      {"headers", headers}});
  stride_call call;
  call.host = this;
  call.plugin = p.name;
  ++p.calls;
  t_error.clear();
  int rc = STRIDE_E_INTERNAL;
  auto handle = [&] {
    if (p.api->handle) rc = p.api->handle(p.self, &call, req.data(), req.size());
  };
  if (services_.exclusive && request.method != "GET" && request.method != "HEAD") {
    const Status locked = services_.exclusive(p.name, handle);
    if (!locked.ok()) {
      return HostError(503, "unavailable", p.name + ": " + locked.message());
    }
  } else {
    handle();
  }
  PluginResponse out;
  if (rc != 0 || !call.responded) {
    ++p.failures;
    out = HostError(500, "plugin_error", p.name + ": " + (t_error.empty() ? "no answer" : t_error));
  } else {
    out.status = call.status;
    out.content_type = call.content_type;
    out.body = std::move(call.body);
    if (call.stream) {
      call.stream->SkipThrough(call.backlog_last_id);
      out.stream = std::move(call.stream);
    }
    if (out.status >= 500) ++p.failures;
  }
  // Rollback when this version keeps failing and there is one to go back to.
  const uint64_t calls = p.calls.load(), failures = p.failures.load();
  if (calls >= options_.rollback_min_calls &&
      static_cast<double>(failures) > options_.rollback_failure_rate * static_cast<double>(calls)) {
    std::lock_guard lock(mu_);
    auto it = slots_.find(p.name);
    if (it != slots_.end() && it->second->current.get() == &p && it->second->previous) {
      Slot& s = *it->second;
      s.last_event = "rolled back from " + p.version + " (" + std::to_string(failures) + " of " +
                     std::to_string(calls) + " calls failed)";
      s.current = std::move(s.previous);
      s.current->calls = 0;
      s.current->failures = 0;
      refused_[p.name] = "version " + p.version + " rolled back: " + std::to_string(failures) +
                         " of " + std::to_string(calls) + " calls failed";
      Log(p.name, STRIDE_LOG_ERROR, s.last_event);
    }
  }
  return out;
}

void PluginHost::AddStream(const std::string& plugin, const std::string& topic,
                           std::shared_ptr<PluginStream> stream) {
  std::lock_guard lock(streams_mu_);
  // Streams that are over go, on every topic: a topic published only once (a chat answer)
  // would otherwise keep its gone subscribers for good.
  for (auto it = streams_.begin(); it != streams_.end();) {
    std::erase_if(it->second, [](const auto& s) { return s->over(); });
    it = it->second.empty() ? streams_.erase(it) : std::next(it);
  }
  streams_[StoredKey(plugin, topic)].push_back(std::move(stream));
}

void PluginHost::Publish(const std::string& plugin, const std::string& topic, uint64_t id,
                         const std::string& bytes) {
  if (services_.fanout != nullptr) {
    const Status sent = services_.fanout->Send(plugin, topic, id, bytes);
    if (sent.ok()) return;  // it comes back through DeliverPublished, as on every server
    Log("host", STRIDE_LOG_WARN, "stream event for this server only: " + sent.message());
  }
  DeliverPublished(plugin, topic, id, bytes);
}

void PluginHost::DeliverPublished(const std::string& plugin, const std::string& topic, uint64_t id,
                                  const std::string& bytes) {
  // Under the lock, so two publishers' events reach every subscriber in the same order.
  std::lock_guard lock(streams_mu_);
  auto it = streams_.find(StoredKey(plugin, topic));
  if (it == streams_.end()) return;
  std::erase_if(it->second, [&](const auto& s) { return !s->Offer(id, bytes); });
  if (it->second.empty()) streams_.erase(it);
}

size_t PluginHost::StreamCount() const {
  std::lock_guard lock(streams_mu_);
  size_t n = 0;
  for (const auto& [k, subs] : streams_) {
    for (const auto& s : subs) n += !s->over();
  }
  return n;
}

void PluginHost::OnRunEvent(const engine::RunEvent& event) {
  if (event.kind == engine::RunEvent::Kind::kUserDeleted) {
    const Status s = DeleteUser(event.user_id);
    if (!s.ok()) Log("host", STRIDE_LOG_ERROR, "deleting the user's plugin data: " + s.message());
  }
  Enqueue({event, "", "", "", ""});
}

void PluginHost::Enqueue(Queued q) {
  {
    std::lock_guard lock(event_mu_);
    if (shards_.empty()) shards_.resize(1);  // before Start(): delivered once it runs
    std::deque<Queued>& shard = shards_[std::hash<std::string>{}(q.run.user_id) % shards_.size()];
    if (queued_ >= options_.max_event_queue) {
      // The oldest event of this user's shard (else of any) goes.
      std::deque<Queued>* from = &shard;
      for (auto& other : shards_) {
        if (from->empty()) from = &other;
      }
      if (!from->empty()) {
        from->pop_front();
        --queued_;
        ++events_dropped_;
      }
    }
    shard.push_back(std::move(q));
    ++queued_;
  }
  event_cv_.notify_all();
}

namespace {
constexpr std::string_view kProfileKey = "profile";
std::string DailyKey(const std::string& plugin) {
  return "daily/" + plugin;
}
}  // namespace

Result<std::string> PluginHost::GetProfile(const std::string& user) const {
  if (user.empty()) return Status::InvalidArgument("no user");
  Json profile = {{"time_zone", "UTC"}};
  if (services_.host_kv) {
    Result<std::optional<std::string>> v = services_.host_kv->Get(StoredKey(user, kProfileKey));
    if (!v.ok()) return v.status();
    if (v->has_value()) {
      const Json stored = Json::parse(**v, nullptr, false);
      if (stored.is_object()) profile.update(stored);
    }
  }
  return engine::DumpJson(profile);
}

namespace {

// One field of the athlete profile (null clears it): what it must be, in its error.
Status CheckProfileField(const std::string& key, const Json& v) {
  auto number = [&](double lo, double hi, bool whole = false) -> Status {
    if (v.is_number() && v.get<double>() >= lo && v.get<double>() <= hi &&
        (!whole || v.is_number_integer())) {
      return Status::Ok();
    }
    return Status::InvalidArgument(key + ": expected " + (whole ? "a whole number" : "a number") +
                                   " from " + engine::NumberForMessage(lo) + " to " +
                                   engine::NumberForMessage(hi));
  };
  if (v.is_null()) return Status::Ok();
  if (key == "time_zone") {
    if (!v.is_string() || !engine::TimeZone::Load(v.get<std::string>()).ok()) {
      return Status::InvalidArgument(
          "time_zone: expected an IANA time zone name such as \"Europe/Andorra\"");
    }
    return Status::Ok();
  }
  if (key == "birth_year") return number(1900, 2100, true);
  if (key == "max_hr_bpm") return number(100, 240);
  if (key == "rest_hr_bpm") return number(25, 120);
  if (key == "threshold_hr_bpm") return number(80, 230);
  if (key == "threshold_pace_s_per_km") return number(120, 900);
  if (key == "weekly_volume_km") return number(0, 400);
  if (key == "sex") {
    if (v == "male" || v == "female" || v == "unknown") return Status::Ok();
    return Status::InvalidArgument("sex: expected \"male\", \"female\" or \"unknown\"");
  }
  if (key == "availability") {
    static const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    const Status bad = Status::InvalidArgument(
        "availability: expected {\"days\": [\"mon\", ...] (1 to 7 of mon..sun), "
        "\"minutes_per_day\": 10 to 600}");
    if (!v.is_object() || !v.contains("days") || !v["days"].is_array() ||
        !v.contains("minutes_per_day") || !v["minutes_per_day"].is_number() || v.size() != 2) {
      return bad;
    }
    const double minutes = v["minutes_per_day"].get<double>();
    if (minutes < 10 || minutes > 600 || v["days"].empty() || v["days"].size() > 7) return bad;
    std::set<std::string> seen;
    for (const Json& d : v["days"]) {
      if (!d.is_string() ||
          std::find(kDays.begin(), kDays.end(), d.get<std::string>()) == kDays.end() ||
          !seen.insert(d.get<std::string>()).second) {
        return bad;
      }
    }
    return Status::Ok();
  }
  if (key == "goal") {
    const Status bad = Status::InvalidArgument(
        "goal: expected {\"distance_m\": 1000 to 250000, \"date\": \"YYYY-MM-DD\"[, "
        "\"target_time_s\": seconds]}, or null to stay fit");
    int64_t day = 0;
    if (!v.is_object() || !v.contains("distance_m") || !v["distance_m"].is_number() ||
        !v.contains("date") || !v["date"].is_string() ||
        !engine::ParseDate(v["date"].get<std::string>(), &day)) {
      return bad;
    }
    const double d = v["distance_m"].get<double>();
    if (d < 1000 || d > 250000) return bad;
    for (const auto& [gk, gv] : v.items()) {
      if (gk == "distance_m" || gk == "date") continue;
      if (gk != "target_time_s" || !gv.is_number() || gv.get<double>() < 60 ||
          gv.get<double>() > 172800) {
        return bad;
      }
    }
    return Status::Ok();
  }
  return Status::InvalidArgument(
      "profile: unknown field \"" + engine::ValidUtf8(key) +
      "\" (known: time_zone, birth_year, sex, max_hr_bpm, rest_hr_bpm, threshold_hr_bpm, "
      "threshold_pace_s_per_km, availability, weekly_volume_km, goal)");
}

}  // namespace

Result<std::string> PluginHost::PutProfile(const std::string& user, const std::string& json,
                                           bool dry_run) {
  if (!services_.host_kv) return Status::Unavailable("profiles need a user database (--runs)");
  const Json in = Json::parse(json, nullptr, false);
  if (!in.is_object()) return Status::InvalidArgument("profile: expected a JSON object");
  Result<std::string> current = GetProfile(user);
  if (!current.ok()) return current.status();
  Json profile = Json::parse(*current);
  for (const auto& [k, v] : in.items()) {
    STRIDE_RETURN_IF_ERROR(CheckProfileField(k, v));
    if (v.is_null()) {
      profile.erase(k);  // cleared (time_zone falls back to UTC)
    } else {
      profile[k] = v;
    }
  }
  if (profile.contains("rest_hr_bpm") && profile.contains("max_hr_bpm") &&
      profile["rest_hr_bpm"].get<double>() >= profile["max_hr_bpm"].get<double>()) {
    return Status::InvalidArgument("rest_hr_bpm: must be below max_hr_bpm");
  }
  if (!profile.contains("time_zone")) profile["time_zone"] = "UTC";
  const std::string text = engine::DumpJson(profile);
  if (dry_run) return text;
  STRIDE_RETURN_IF_ERROR(services_.host_kv->Put(StoredKey(user, kProfileKey), text));
  return text;
}

size_t PluginHost::Tick() {
  if (!services_.host_kv) return 0;
  std::lock_guard tick_lock(tick_mu_);
  std::vector<std::shared_ptr<Loaded>> daily;
  {
    std::lock_guard lock(mu_);
    for (const auto& [n, s] : slots_) {
      if (s->current && s->current->kinds.count("daily")) daily.push_back(s->current);
    }
  }
  if (daily.empty()) return 0;
  const engine::Clock* clock = services_.clock ? services_.clock : &system_clock_;
  const double now = clock->NowS();
  // One pass over the host namespace: every user with a profile (the key ends in
  // 0 ‖ "profile") and the dates already ticked (0 ‖ "daily/PLUGIN").
  std::vector<std::pair<std::string, std::string>> users;  // (user, time zone)
  std::map<std::string, std::string, std::less<>> ticked;  // stored key -> local date
  const std::string suffix = std::string(1, '\0') + std::string(kProfileKey);
  const std::string daily_infix = std::string(1, '\0') + DailyKey("");
  const Status scanned = services_.host_kv->Scan("", [&](std::string_view k, std::string_view v) {
    if (k.size() > suffix.size() && k.substr(k.size() - suffix.size()) == suffix) {
      const Json p = Json::parse(v, nullptr, false);
      users.emplace_back(std::string(k.substr(0, k.size() - suffix.size())),
                         p.is_object() ? p.value("time_zone", "UTC") : "UTC");
    } else if (k.find(daily_infix) != std::string_view::npos) {
      ticked.emplace(std::string(k), std::string(v));
    }
    return true;
  });
  if (!scanned.ok()) {
    Log("host", STRIDE_LOG_ERROR, "daily tick: " + scanned.message());
    return 0;
  }
  std::map<std::string, engine::TimeZone> zones;
  size_t queued = 0;
  for (const auto& [user, zone_name] : users) {
    auto z = zones.find(zone_name);
    if (z == zones.end()) {
      Result<engine::TimeZone> tz = engine::TimeZone::Load(zone_name);
      z = zones.emplace(zone_name, tz.ok() ? *tz : engine::TimeZone::Utc()).first;
    }
    const engine::TimeZone& tz = z->second;
    const double local_s = now + tz.OffsetAt(now);
    const int hour =
        static_cast<int>(std::floor((local_s - 86400 * std::floor(local_s / 86400)) / 3600));
    const std::string date = tz.LocalDate(now);
    for (const auto& p : daily) {
      if (hour < p->daily_hour) continue;
      const std::string key = StoredKey(user, DailyKey(p->name));
      const auto last = ticked.find(key);
      if (last != ticked.end() && last->second >= date) continue;
      // Compare and set: of several servers or workers ticking this minute, one ticks.
      const Result<bool> mine = services_.host_kv->PutIf(
          key, last == ticked.end() ? std::nullopt : std::optional<std::string>(last->second),
          date);
      if (!mine.ok() || !*mine) continue;
      engine::RunEvent none;
      none.user_id = user;
      Enqueue({none, p->name, date, zone_name, ""});
      ++queued;
    }
  }
  return queued;
}

std::string PluginHost::DeliverOne(const Queued& q) {
  const bool daily = !q.daily_plugin.empty();
  const engine::RunEvent& e = q.run;
  const std::string kind = daily             ? "daily"
                           : !q.kind.empty() ? q.kind
                                             : std::string(engine::RunEventName(e.kind));
  Json j = {{"type", kind}, {"user", e.user_id}};
  if (daily) {
    j["local_date"] = q.local_date;
    j["time_zone"] = q.time_zone;
  } else if (!q.kind.empty()) {
    j["local_date"] = q.local_date;
  }
  const bool run_event = !daily && q.kind.empty();
  if (run_event && e.run_id != 0) j["run_id"] = engine::RunIdText(e.run_id);
  if (run_event && e.kind == engine::RunEvent::Kind::kStored && services_.run_get) {
    Result<std::string> run = services_.run_get(e.user_id, engine::RunIdText(e.run_id), true);
    if (run.ok()) j["run"] = Json::parse(*run, nullptr, false);
  }
  const std::string text = engine::DumpJson(j);
  std::vector<std::shared_ptr<Loaded>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& [n, s] : slots_) {
      if (!s->current || !s->current->kinds.count(kind)) continue;
      if (daily && n != q.daily_plugin) continue;
      targets.push_back(s->current);
    }
  }
  std::string failed;
  for (const auto& p : targets) {
    ++p->events;
    t_error.clear();
    int rc = 0;
    auto deliver = [&] {
      if (p->api->on_event) rc = p->api->on_event(p->self, text.data(), text.size());
    };
    if (services_.exclusive) {
      const Status locked = services_.exclusive(p->name, deliver);
      if (!locked.ok()) {
        rc = STRIDE_E_IO;
        t_error = locked.message();
      }
    } else {
      deliver();
    }
    if (rc != 0) {
      ++p->event_failures;
      Log(p->name, STRIDE_LOG_WARN, kind + " failed: " + t_error);
      failed += (failed.empty() ? "" : ",") + p->name;
    }
  }
  return failed;
}

Status PluginHost::DeliverNow(const engine::RunEvent& event) {
  const std::string failed = DeliverOne({event, "", "", "", ""});
  if (failed.empty()) return Status::Ok();
  return Status::Unavailable(std::string(engine::RunEventName(event.kind)) +
                             " failed in plugin(s) " + failed);
}

void PluginHost::Deliver(size_t shard) {
  while (true) {
    Queued q;
    {
      std::unique_lock lock(event_mu_);
      std::deque<Queued>& mine = shards_[shard];
      event_cv_.wait(lock, [&] { return stop_ || !mine.empty(); });
      if (mine.empty()) return;  // stopping
      q = std::move(mine.front());
      mine.pop_front();
      --queued_;
      ++in_delivery_;
    }
    (void)DeliverOne(q);
    {
      std::lock_guard lock(event_mu_);
      --in_delivery_;
    }
    event_cv_.notify_all();
  }
}

void PluginHost::Drain() {
  std::unique_lock lock(event_mu_);
  event_cv_.wait(lock, [&] { return (queued_ == 0 && in_delivery_ == 0) || stop_; });
}

Status PluginHost::DeleteUser(const std::string& user) {
  if (user.empty()) return Status::InvalidArgument("no user");
  for (const std::string& name : Names()) {
    Result<engine::KeyValue*> kv = services_.kv(name);
    if (!kv.ok()) return kv.status();
    STRIDE_RETURN_IF_ERROR((*kv)->DeletePrefix(StoredKey(user, "")));
  }
  if (services_.host_kv)
    STRIDE_RETURN_IF_ERROR(services_.host_kv->DeletePrefix(StoredKey(user, "")));
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, std::string>>> PluginHost::ExportUser(
    const std::string& user) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> names = Names();
  if (services_.host_kv) names.push_back("host");
  for (const std::string& name : names) {
    Result<engine::KeyValue*> kv =
        name == "host" && services_.host_kv ? services_.host_kv : services_.kv(name);
    if (!kv.ok()) return kv.status();
    Json items = Json::array();
    const std::string prefix = StoredKey(user, "");
    STRIDE_RETURN_IF_ERROR((*kv)->Scan(prefix, [&](std::string_view k, std::string_view v) {
      const std::string key(k.substr(prefix.size()));
      const Json value = Json::parse(v, nullptr, false);
      items.push_back({{"key", engine::ValidUtf8(key)},
                       {"value", value.is_discarded() ? Json(engine::ValidUtf8(v)) : value}});
      return true;
    }));
    if (name == "host" && items.empty()) continue;  // a user without a profile: no file
    out.emplace_back(name,
                     engine::DumpJson(Json{{"plugin", name}, {"user", user}, {"keys", items}}, 1));
  }
  return out;
}

std::string PluginHost::MetricsText() const {
  std::string out = "stride_plugin_streams " + std::to_string(StreamCount()) + "\n";
  std::lock_guard lock(mu_);
  for (const auto& [n, s] : slots_) {
    if (!s->current) continue;
    const Loaded& p = *s->current;
    out +=
        "stride_plugin_calls_total{plugin=\"" + n + "\"} " + std::to_string(p.calls.load()) + "\n";
    out += "stride_plugin_failures_total{plugin=\"" + n + "\"} " +
           std::to_string(p.failures.load()) + "\n";
    out += "stride_plugin_events_total{plugin=\"" + n + "\"} " + std::to_string(p.events.load()) +
           "\n";
    std::lock_guard c(p.counters_mu);
    for (const auto& [name, v] : p.counters) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      out += "stride_plugin_" + name + "_total{plugin=\"" + n + "\"} " + buf + "\n";
    }
  }
  return out;
}

}  // namespace stride::plugins
