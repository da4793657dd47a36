// SPDX-License-Identifier: Apache-2.0
//
// PluginHost: loads plugins (plugins/api/stride_plugin.h), gives each its services through the
// host function table, routes HTTP requests and run events to them, and keeps users' data
// whole across them.
//
// Loading. Bundled plugins are linked into the binary (so `stride serve` has them with no
// --plugins, and tests need no dlopen). A plugin directory adds libraries: DIR/plugins.allow
// names them (one per line, # comments), and each NAME comes as
//   DIR/NAME.manifest.json   {"name","version","library":"libNAME.so","sha256":"<hex>"}
//   DIR/NAME.manifest.sig    the Ed25519 signature (hex) of the manifest's bytes
// A library is refused (and the reason kept for GET /v1/admin/plugins) when it is not allowed,
// the signature does not verify with --plugin-key (unsigned only with --dev), its SHA-256 is
// not the manifest's, stride_plugin_info() reports another ABI version or name, or its init
// fails. The verified bytes are copied to a private directory and dlopen'ed from there, so the
// file cannot change between the check and the load, and two versions can be open at once.
//
// Reload (Reload(), from POST /v1/admin/plugins/reload and SIGHUP): every allowed library whose
// manifest changed is loaded beside the serving version and replaces it only after its init
// succeeded; a refusal leaves the serving version. Requests in flight finish on the version they
// started with (shared ownership). Rollback: a version whose calls fail (non-zero return, 5xx,
// no answer) more than `rollback_failure_rate` of at least `rollback_min_calls` calls is
// replaced by the version it replaced.
//
// Users' data. A plugin's key-value namespace is one engine::KeyValue (the user database's
// plugin.NAME family); the host prefixes every key by user (user ‖ 0x00 ‖ key; NUL ‖ key for a
// plugin's global keys), so DeleteUser() and ExportUser() cover every plugin without their help.
//
// Events (run.stored, run.deleted, user.deleted) are queued by OnRunEvent() on the publishing
// thread and delivered by the host's own threads (`event_threads`, a user's events always by
// the same one, in order), so a slow plugin never slows an upload. For
// user.deleted the host first deletes the user's keys in every namespace, synchronously.
//
// Daily ticks. A plugin that subscribes to "daily" at local hour H gets {"type":"daily",
// "user","local_date","time_zone"} once per user and local day, at the first Tick() at or after
// H:00 in the user's time zone, for every user who has a profile (PutProfile; the users a
// plugin serves set one: a plan needs the time zone anyway). Tick() runs every
// `tick_interval_s` on the host's ticker thread; the last date ticked per plugin and user is
// kept in the host's own namespace (services.host_kv), so a restart neither repeats nor skips
// a day. A server that was down at H catches the day up at its next tick (a missed day is not
// replayed: one tick per local day, the latest). The date is written with a compare and set
// (KeyValue::PutIf) before the tick is queued, so of several processes sharing the store
// (`stride worker`s) exactly one ticks a user on a day.
//
// Thread-safety: every public method may be called from any thread.
//
//   PluginHost host(options, services, {BundledChallenges()});
//   STRIDE_RETURN_IF_ERROR(host.Start());
//   if (auto m = host.Resolve("GET", "/v1/challenges/abc", &known, &allowed)) host.Call(*m, req);
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/run/run.hpp"
#include "engine/status.hpp"
#include "engine/store/key_value.hpp"
#include "plugins/api/stride_plugin.h"

namespace stride::plugins {

struct BundledPlugin {
  stride_plugin_info_fn info = nullptr;
  stride_plugin_init_v1_fn init = nullptr;
};

struct PluginHostOptions {
  std::string dir;             // plugin directory. Default: none (bundled plugins only)
  std::string public_key_hex;  // Ed25519 key that signs manifests; required with dir unless dev
  bool dev = false;            // accept manifests without a signature. Default: false
  double rollback_failure_rate = 0.5;  // Default: roll back past half of the calls failing...
  uint64_t rollback_min_calls = 20;    // ... once the version has answered at least 20
  size_t max_event_queue = 100000;     // events waiting for delivery; past it the oldest go
  double tick_interval_s = 60;         // how often daily ticks are looked for; 0 = only by Tick()
  // Threads delivering events; a user's events always go to the same one, in order. 0 = one
  // per hardware thread, at most 8.
  int event_threads = 0;
};

// Carries the plugins' stream events (the ABI's publish()) to every server, so a client
// streaming a topic from one server gets what a call or a run event on another published
// (server/redis_events.hpp: Redis pub/sub). Without one, a stream gets what its own server
// publishes.
class StreamFanout {
 public:
  using Receiver = std::function<void(const std::string& plugin, const std::string& topic,
                                      uint64_t id, const std::string& sse_bytes)>;
  virtual ~StreamFanout() = default;
  // Sends one event to every server's receiver, this one's included. Not ok: it was not sent
  // (the host then delivers it to this server's streams only).
  virtual Status Send(const std::string& plugin, const std::string& topic, uint64_t id,
                      const std::string& sse_bytes) = 0;
  // Where received events go from now on (null: nowhere); returns after any delivery to the
  // previous receiver finished.
  virtual void Listen(Receiver receiver) = 0;
};

// What the rest of Stride gives plugins; tools/ wires it. Every field is required unless it
// says otherwise.
struct PluginServices {
  std::function<Result<engine::KeyValue*>(const std::string& plugin)> kv;
  // {"runs":[summary,...],"next_before":...} for {"before":"...","limit":N}.
  std::function<Result<std::string>(const std::string& user, const std::string& query_json)>
      runs_list;
  // The run's JSON (as GET /v1/runs/{id}); `summary_only` leaves out analysis and coverage.
  std::function<Result<std::string>(const std::string& user, const std::string& run_id,
                                    bool summary_only)>
      run_get;
  std::function<Result<std::string>(const std::string& request_json)> route_query;
  const engine::Clock* clock = nullptr;  // Default: the system clock
  // What the host keeps per user (the profile that places the daily tick, the last tick dates),
  // keyed like a plugin's namespace. Default: none (no profiles, no daily ticks).
  engine::KeyValue* host_kv = nullptr;
  std::function<void(const std::string&)> log;  // Default: none
  // Delta sync (server/sync.hpp): a record of the user's in `collection` ("plugin.name") is
  // now `json` (nullopt: gone). Default: none (sync_put answers STRIDE_E_UNAVAILABLE).
  std::function<Status(const std::string& user, const std::string& collection,
                       const std::string& id, const std::optional<std::string>& json)>
      sync_put;
  // Stream events to and from the other servers. Default: none (this process only).
  StreamFanout* fanout = nullptr;
  // Runs `body` while no other process sharing the stores runs one for the same plugin
  // (PostgreSQL: Postgres::Exclusive), around every event a plugin handles and every call
  // that may change its data (any method but GET and HEAD): a plugin's in-process locks then
  // hold across servers and workers, and a state it caches is reloaded under the lock when
  // another process changed it. An error: the body did not run (the event fails, the call
  // answers 503). Default: none (one process holds the stores).
  std::function<Status(const std::string& plugin, const std::function<void()>& body)> exclusive;
};

struct PluginRequest {
  std::string method;
  std::string path;  // decoded
  std::vector<std::pair<std::string, std::string>> query;
  std::string user;  // the verified caller; empty on public routes
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as sent (Authorization, Cookie
                                                             // are not passed on)
};

// A client's subscription to a plugin's topic (respond_stream). Events published before the
// HTTP layer attaches the client's connection are held (up to `max_held`), then written in
// order; an event at or below the last id the client has is skipped.
class PluginStream {
 public:
  // The client has every event up to `id` already (the backlog sent with the answer).
  void SkipThrough(uint64_t id);
  // Where the bytes go: `push` returns false once the client is gone; `alive` (optional) says
  // whether the client is still there between pushes, so a stream whose topic is never
  // published again is found over too (and let go at the next subscription).
  void Attach(std::function<bool(std::string)> push, std::function<bool()> alive = nullptr);
  // Formats and offers one event; false when the subscription is over (the client left, or
  // more than max_held events waited for a connection that never attached).
  bool Offer(uint64_t id, const std::string& bytes);
  bool over() const;
  static constexpr size_t kMaxHeld = 10000;

 private:
  friend class PluginHost;
  friend struct HostCallbacks;
  mutable std::mutex mu_;
  uint64_t last_id_ = 0;  // the highest id the client has
  std::vector<std::pair<uint64_t, std::string>> held_;
  std::function<bool(std::string)> push_;
  std::function<bool()> alive_;
  bool over_ = false;
};

// One Server-Sent Event's bytes ("id: ..\nevent: ..\ndata: ..\n\n"; a data with line breaks
// becomes several data lines).
std::string FormatSse(const char* event, uint64_t id, std::string_view data);

struct PluginResponse {
  int status = 500;
  std::string content_type = "application/json";
  std::string body;
  // Set when the plugin answered with an event stream: `body` is the backlog, and the HTTP
  // layer attaches the client's connection to it.
  std::shared_ptr<PluginStream> stream;
};

class PluginHost {
 public:
  struct Loaded;  // one loaded version of a plugin

  PluginHost(PluginHostOptions options, PluginServices services,
             std::vector<BundledPlugin> bundled);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads the bundled plugins, then the directory's; refusals are recorded, not fatal. Fails
  // only when a bundled plugin cannot load (a build error) or the directory is unusable.
  Status Start();
  // Re-reads the directory (see above); returns the report as JSON.
  std::string Reload();
  // What is loaded (name, version, origin, sha256, routes, calls, failures) and what was
  // refused and why, as JSON.
  std::string ListJson() const;
  // Every route of the plugins serving now, with the OpenAPI operation each plugin gave for
  // it (route_doc; empty when none), for GET /v1/openapi.json.
  struct RouteDoc {
    std::string plugin, method, pattern, scope, operation_json;
  };
  std::vector<RouteDoc> RouteDocs() const;
  // Names of the plugins serving now.
  std::vector<std::string> Names() const;

  struct Match {
    std::shared_ptr<Loaded> plugin;
    int route_id = 0;
    std::string scope;
    std::vector<std::pair<std::string, std::string>> params;
    std::string method, pattern;  // the route's, as in RouteDocs ("GET", "/v1/plans/load")
  };
  // The plugin route for a request path under /v1/<plugin>/; nullopt when none. *path_known is
  // set when the path is a plugin's with another method (a 405), *allowed lists the methods.
  std::optional<Match> Resolve(const std::string& method, std::string_view raw_path,
                               bool* path_known, std::string* allowed) const;
  // Calls the plugin's handler; a failure is a 500 with the plugin's error, and counts toward
  // rollback.
  PluginResponse Call(const Match& match, const PluginRequest& request);

  // From engine::RunEvents (on the publisher's thread): queues the event for the plugins;
  // user.deleted first deletes the user's keys everywhere.
  void OnRunEvent(const engine::RunEvent& event);
  // Delivers a run event to every plugin subscribed to it on this thread, returning when they
  // have all handled it (`stride worker`, which acks the job afterwards). A plugin's failure is
  // counted and logged as for queued events, and returned (kUnavailable naming the plugins that
  // failed) after every plugin had the event: the worker then leaves the job for a retry, which
  // delivers it to every plugin again (they handle a run event as an upsert: the same event
  // twice leaves what once does). Does not delete a user's keys: the server that took
  // DELETE /v1/me did.
  Status DeliverNow(const engine::RunEvent& event);
  // The user's profile as JSON ({"time_zone":...}; defaults when never set).
  Result<std::string> GetProfile(const std::string& user) const;
  // Sets fields of the user's profile from a JSON object: "time_zone" (an IANA name). An
  // unknown field or a bad value is kInvalidArgument, naming it. Returns the stored profile.
  // `dry_run`: checks and answers as if stored, stores nothing (a sync push's first pass).
  Result<std::string> PutProfile(const std::string& user, const std::string& json,
                                 bool dry_run = false);
  // Readiness check-ins (plugins/host/readiness.cpp): stores one morning's check-in (a JSON
  // object: "date" (default: today in the profile's time zone; at most 60 days back, never
  // ahead), "hrv_rmssd_ms", "rest_hr_bpm", "sleep_h", "soreness", "rpe", "ill", "note"; one a
  // day, a second replaces the first) and answers it with its readiness (engine/training/
  // readiness.hpp: against the check-ins of the 60 days before and the profile's resting HR).
  // Subscribers get "readiness.stored". A bad field is kInvalidArgument naming it.
  Result<std::string> PutReadiness(const std::string& user, const std::string& json,
                                   bool dry_run = false);
  // {"check_ins":[...]} from `from` to `to` (YYYY-MM-DD, empty: the 28 days to today), newest
  // first, each with its readiness; at most 366 days.
  Result<std::string> ListReadiness(const std::string& user, const std::string& from,
                                    const std::string& to) const;
  // Queues the daily ticks that are due now; returns how many.
  size_t Tick();
  Status DeleteUser(const std::string& user);
  // (plugin name, JSON document of the user's keys and values) for every plugin namespace, and
  // ("host", the profile and tick dates) when the user has any there.
  Result<std::vector<std::pair<std::string, std::string>>> ExportUser(
      const std::string& user) const;
  // Blocks until every queued event was delivered (tests, shutdown).
  void Drain();
  // Prometheus lines: calls, failures, events, streams and the plugins' own counters.
  std::string MetricsText() const;
  // A stream event another server (or this one, through services.fanout) published: to this
  // server's subscribers of the topic.
  void DeliverPublished(const std::string& plugin, const std::string& topic, uint64_t id,
                        const std::string& sse_bytes);
  // Streams open now (subscriptions not yet found over), all plugins together.
  size_t StreamCount() const;

  // The key a plugin's key has in its namespace (user empty: the plugin's global keys).
  static std::string StoredKey(std::string_view user, std::string_view key);

 private:
  struct Slot;
  Status LoadBundled(const BundledPlugin& b);
  // Verifies and loads a library from the directory; the new version on success.
  Result<std::shared_ptr<Loaded>> LoadFromDir(const std::string& name, std::string* sha256);
  Result<std::shared_ptr<Loaded>> Init(std::shared_ptr<Loaded> p, stride_plugin_init_v1_fn init);
  void Install(std::shared_ptr<Loaded> p);
  void Deliver(size_t shard);
  struct Queued {
    engine::RunEvent run;
    std::string daily_plugin;  // set for a daily tick: only that plugin gets it
    std::string local_date, time_zone;
    std::string kind;  // set for an event that is neither a run's nor a tick ("readiness.stored")
  };
  // Delivers one event to its plugins on this thread (Deliver's threads, DeliverNow); the
  // names of the plugins that failed it, comma-separated (empty: none).
  std::string DeliverOne(const Queued& q);
  void Enqueue(Queued q);
  // Subscribes `stream` to the plugin's topic; Publish() sends to every live subscriber.
  void AddStream(const std::string& plugin, const std::string& topic,
                 std::shared_ptr<PluginStream> stream);
  void Publish(const std::string& plugin, const std::string& topic, uint64_t id,
               const std::string& bytes);
  void Log(const std::string& plugin, int level, const std::string& message) const;

  PluginHostOptions options_;
  PluginServices services_;
  std::vector<BundledPlugin> bundled_;
  engine::SystemClock system_clock_;
  std::string private_dir_;  // verified copies of the libraries

  mutable std::mutex mu_;  // slots_, refused_
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  std::map<std::string, std::string> refused_;  // name -> why (the last attempt)
  std::vector<std::string> allowed_;

  std::mutex event_mu_;
  std::condition_variable event_cv_;
  std::vector<std::deque<Queued>> shards_;  // by user: one per delivery thread
  size_t queued_ = 0;
  size_t in_delivery_ = 0;
  bool stop_ = false;
  uint64_t events_dropped_ = 0;
  std::vector<std::thread> deliverers_;
  std::thread ticker_;
  std::mutex tick_mu_;  // one Tick() at a time
  mutable std::mutex streams_mu_;
  // plugin ‖ 0x00 ‖ topic -> subscribers; the over ones are dropped as they are found.
  std::map<std::string, std::vector<std::shared_ptr<PluginStream>>> streams_;

  friend struct HostCallbacks;
};

}  // namespace stride::plugins
