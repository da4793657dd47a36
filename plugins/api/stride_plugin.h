/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Stride plugin ABI, version 1: the only contract between `stride serve` and a plugin.
 *
 * A plugin is a shared library (or a static part of the host) with two C symbols:
 *
 *   const stride_plugin_info_t* stride_plugin_info(void);
 *       Read right after dlopen, before any other plugin code runs: the ABI version the
 *       plugin was built against, its name and its own version. It must do nothing else.
 *   int stride_plugin_init_v1(const stride_host_api_t* host, stride_host_t* ctx,
 *                             stride_plugin_t** self, const stride_plugin_api_t** api);
 *       Receives the host's function table and its context for this plugin; returns 0 and
 *       sets *self (the plugin's state, opaque to the host) and *api (the plugin's table), or
 *       non-zero after host->set_error(ctx, "why"). Until init returns 0 the plugin serves
 *       nothing.
 *
 * Rules of the boundary (so a plugin built today keeps loading tomorrow):
 *   - Only plain C types, opaque handles and function tables cross it. No exception may leave
 *     a plugin function, and no C++ type crosses.
 *   - Every table starts with its own size (struct_size). Tables only grow, by appending: a
 *     side reads a field only when struct_size says the other side has it. A v1 plugin keeps
 *     working with a host whose table has more functions.
 *   - Text is UTF-8 and NUL-terminated unless a length is given; JSON travels as such text.
 *   - Memory: what the host passes is borrowed for the duration of the call. What the host
 *     returns to a plugin is written into a stride_sink_t the plugin provides, so each side
 *     allocates and frees only its own memory.
 *   - Errors: functions return 0 on success and a STRIDE_E_* code otherwise; the host's
 *     functions explain through last_error(ctx), a plugin's through set_error(ctx, message).
 *   - Threads: the host may call handle() and on_event() from several threads at once; a
 *     plugin keeps its state safe (its key-value store is the natural place for it).
 *
 * Users: every call that touches user data names the user (the verified `sub` of the caller's
 * token, or the user of an event). The key-value namespace is per plugin AND per user, so the
 * host can export and delete one user's data in every plugin without the plugins' help.
 */
#ifndef STRIDE_PLUGIN_H_
#define STRIDE_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRIDE_PLUGIN_ABI_VERSION 1

/* Return codes. */
#define STRIDE_OK 0
#define STRIDE_E_INVALID 1   /* bad argument */
#define STRIDE_E_NOT_FOUND 2 /* no such key, run, route */
#define STRIDE_E_IO 3        /* the store failed */
#define STRIDE_E_INTERNAL 4  /* anything else */

typedef struct stride_host stride_host_t;     /* the host's context for one plugin */
typedef struct stride_plugin stride_plugin_t; /* the plugin's own state */
typedef struct stride_call stride_call_t;     /* one HTTP request being answered */

typedef struct stride_plugin_info {
  uint32_t struct_size;
  uint32_t abi_version; /* STRIDE_PLUGIN_ABI_VERSION the plugin was built with */
  const char* name;     /* [a-z][a-z0-9_]{0,31}: its routes live under /v1/<name>/ */
  const char* version;  /* the plugin's own version, e.g. "1.2.0" */
} stride_plugin_info_t;

/* Where the host writes what it returns: called once or more with pieces of the answer. */
typedef struct stride_sink {
  void* ctx;
  void (*write)(void* ctx, const char* data, size_t size);
} stride_sink_t;

/* Log levels. */
#define STRIDE_LOG_DEBUG 0
#define STRIDE_LOG_INFO 1
#define STRIDE_LOG_WARN 2
#define STRIDE_LOG_ERROR 3

typedef struct stride_host_api {
  uint32_t struct_size;

  /* --- errors, logs, metrics, time --- */
  void (*set_error)(stride_host_t* ctx, const char* message);
  const char* (*last_error)(stride_host_t* ctx); /* of the host's last failed call */
  void (*log)(stride_host_t* ctx, int level, const char* message);
  /* Adds `value` to the Prometheus counter stride_plugin_<name>_total{plugin="<plugin>"}. */
  void (*count)(stride_host_t* ctx, const char* name, double value);
  /* Milliseconds since the Unix epoch, from the host's clock (tests can set it). */
  int64_t (*now_ms)(stride_host_t* ctx);

  /* --- the plugin's key-value namespace, per user --- */
  int (*kv_get)(stride_host_t* ctx, const char* user, const char* key, size_t key_size,
                stride_sink_t* value);
  int (*kv_put)(stride_host_t* ctx, const char* user, const char* key, size_t key_size,
                const char* value, size_t value_size);
  int (*kv_delete)(stride_host_t* ctx, const char* user, const char* key, size_t key_size);
  /* Calls `each` for every key of the user starting with `prefix`, in key order, until it
   * returns non-zero. */
  int (*kv_scan)(stride_host_t* ctx, const char* user, const char* prefix, size_t prefix_size,
                 int (*each)(void* arg, const char* key, size_t key_size, const char* value,
                             size_t value_size),
                 void* arg);

  /* --- read access to the user's runs and to route queries (JSON answers) --- */
  /* {"runs":[summary...],"next_before":...}: the user's runs, newest first. `query_json`:
   * {"before":"...","limit":N} or NULL. */
  int (*runs_list)(stride_host_t* ctx, const char* user, const char* query_json,
                   stride_sink_t* out_json);
  /* The run as GET /v1/runs/{id} answers it (summary, analysis, route coverage). */
  int (*run_get)(stride_host_t* ctx, const char* user, const char* run_id, stride_sink_t* out_json);
  /* A route query, as JSON:
   *   {"op":"route","id":"r123"}          the route with its geometry ([[lon,lat],...]) and
   *                                       length; {"op":"profile","id":...} its profile;
   *   {"op":"along","id":...,"distance_m":D}  the point D metres along it:
   *                                       {"lat","lon","elevation_m","distance_m"};
   *   {"op":"bbox","bbox":[minlon,minlat,maxlon,maxlat],"limit":N},
   *   {"op":"nearest","lat":..,"lon":..,"k":N}   as the public endpoints answer them. */
  int (*route_query)(stride_host_t* ctx, const char* request_json, stride_sink_t* out_json);

  /* --- HTTP: routes under /v1/<name>/, answered through handle() --- */
  /* Registers `METHOD /v1/<name><pattern>` ({id}-style segments) requiring `scope` (a token
   * scope, or "" for a public route), answered by handle() with `route_id`. Only during init. */
  int (*route_add)(stride_host_t* ctx, const char* method, const char* pattern, const char* scope,
                   int route_id);
  /* Answers a call: status, content type (NULL: application/json) and body. Once per call.
   * A 5xx answer reaches the client as its status, its {"error":{"code"}} and an incident id;
   * the body goes to the server's log under that id (it may quote a store or an upstream). */
  int (*respond)(stride_call_t* call, int status, const char* content_type, const char* body,
                 size_t body_size);

  /* --- events --- */
  /* Asks for on_event() calls: a comma-separated list of "run.stored", "run.deleted",
   * "user.deleted", "daily" (a tick per user per day at local `daily_hour`) and, with
   * readiness_list, "readiness.stored". Only during init. */
  int (*subscribe)(stride_host_t* ctx, const char* kinds, int daily_hour);

  /* --- appended: event streams to clients (Server-Sent Events). Check STRIDE_HOST_HAS(host,
   * publish) before using them: a host older than this part of v1 does not have them. --- */
  /* Answers a call with a long-lived event stream on the plugin's `topic` (any text, e.g.
   * "challenge/abc"; topics are per plugin). The client is subscribed from this moment; events
   * given with stream_event() during this call are sent first (the backlog, e.g. those after
   * the client's Last-Event-ID), then every event published on the topic. A published event
   * whose id is at or below the last backlog id is skipped, so a plugin that scans its backlog
   * after subscribing neither loses nor repeats an event. Instead of respond(), once per call. */
  int (*respond_stream)(stride_call_t* call, const char* topic);
  /* One backlog event for a stream answered with respond_stream(): `event` is its name (may be
   * NULL), `id` its id (ids increase per topic; 0 = none), `data` its text (UTF-8, usually JSON).
   */
  int (*stream_event)(stride_call_t* call, const char* event, uint64_t id, const char* data,
                      size_t data_size);
  /* Sends an event to every client streaming `topic` of this plugin, in the order of the calls.
   * Publish after the event is stored, so a client that reconnects finds it in the backlog. */
  int (*publish)(stride_host_t* ctx, const char* topic, const char* event, uint64_t id,
                 const char* data, size_t data_size);

  /* --- appended: the athlete profile. Check STRIDE_HOST_HAS(host, profile_get). --- */
  /* The user's profile as GET /v1/me/profile answers it: {"time_zone", and whichever of
   * "birth_year", "sex", "max_hr_bpm", "rest_hr_bpm", "threshold_hr_bpm",
   * "threshold_pace_s_per_km", "availability", "weekly_volume_km", "goal" the user set}. */
  int (*profile_get)(stride_host_t* ctx, const char* user, stride_sink_t* out_json);

  /* --- appended: readiness check-ins. Check STRIDE_HOST_HAS(host, readiness_list). --- */
  /* The user's check-ins as GET /v1/me/readiness answers them: {"check_ins":[{"date",
   * "hrv_rmssd_ms","rest_hr_bpm","sleep_h","soreness","rpe","ill","note", "readiness":{"score",
   * "band","signals","red","reasons"}}...]}, newest first. `query_json`: {"from":"YYYY-MM-DD",
   * "to":"YYYY-MM-DD"} (either may be left out; default the 28 days to today) or NULL. A
   * plugin that subscribes to "readiness.stored" gets {"type":"readiness.stored","user",
   * "local_date"} after each check-in. */
  int (*readiness_list)(stride_host_t* ctx, const char* user, const char* query_json,
                        stride_sink_t* out_json);

  /* --- appended: other plugins' answers. Check STRIDE_HOST_HAS(host, plugin_get). --- */
  /* GETs `path` ("/v1/<plugin>/...", no query) of another plugin as `user` would, on a route
   * of scope runner:read, and writes its JSON answer (e.g. the chat plugin reads the plan with
   * "/v1/plans/current"). STRIDE_E_NOT_FOUND when no other plugin serves the path with GET
   * (or it answers 404), STRIDE_E_INVALID for another scope or the plugin's own routes,
   * STRIDE_E_INTERNAL when it fails. */
  int (*plugin_get)(stride_host_t* ctx, const char* user, const char* path,
                    stride_sink_t* out_json);

  /* --- appended: delta sync for offline clients. Check STRIDE_HOST_HAS(host, sync_put). --- */
  /* Publishes the current state of one of the user's records to GET /v1/sync/pull, in the
   * collection "<plugin>.<collection>" ([a-z0-9_]{1,32}; e.g. "plans.days"): `json` is the
   * whole record (a JSON object: what a client shows; it replaces the previous one), or NULL
   * when the record is gone (a tombstone is kept). `id`: [A-Za-z0-9_.:-]{1,128}. Publishing
   * the same record again changes nothing. Clients cannot write these collections. */
  int (*sync_put)(stride_host_t* ctx, const char* user, const char* collection, const char* id,
                  const char* json, size_t json_size);

  /* --- appended: the API contract. Check STRIDE_HOST_HAS(host, route_doc). --- */
  /* Describes a route added with route_add (the same `route_id`; after it, only during init)
   * for GET /v1/openapi.json: `operation_json` is an OpenAPI 3.1 Operation Object with at
   * least "summary" and "responses" (and "parameters", "requestBody", "description" as the
   * route has them). Schemas are JSON Schema 2020-12, inline or "$ref" to the host's shared
   * ones ("#/components/schemas/Error", ".../RouteSummary", ...). The host adds the path
   * parameters left out, the operationId, the security of the route's scope and the answers
   * every route can give (400, 401, 403, 404, 413, 429, 500). A value that is a string is a
   * shorthand: in "responses", a shared schema's name ("" = no body, "error: why" = an error
   * answer with the shared Error schema); in "parameters", a shared
   * parameter's name ("limit", "lat", ...); "requestBody": a shared schema's name of a JSON
   * body. A route left undescribed is listed as "x-undocumented". STRIDE_E_INVALID when the
   * text is not such an object or no route has the id. */
  int (*route_doc)(stride_host_t* ctx, int route_id, const char* operation_json);
} stride_host_api_t;

/* True when the host's table has `field` (tables only grow; see the rules above). */
#define STRIDE_HOST_HAS(host, field) \
  ((host)->struct_size >= offsetof(stride_host_api_t, field) + sizeof(void*))

typedef struct stride_plugin_api {
  uint32_t struct_size;
  /* Frees the plugin's state; no call follows. */
  void (*shutdown)(stride_plugin_t* self);
  /* An HTTP request on one of the plugin's routes. `request_json`:
   *   {"method","path","route_id","params":{name:value},"query":{name:value},"user":...,
   *    "body":"...","headers":{lower-case name:value}} (user null on public routes; headers
   *   without Authorization and Cookie). Answer with host->respond(call, ...);
   *   return non-zero (after set_error) for a 500. */
  int (*handle)(stride_plugin_t* self, stride_call_t* call, const char* request_json,
                size_t request_size);
  /* An event: {"type":"run.stored","user":...,"run_id":...,"run":{summary}} and
   * {"type":"daily","user":...,"local_date":"YYYY-MM-DD"}. Called off the request thread. */
  int (*on_event)(stride_plugin_t* self, const char* event_json, size_t event_size);
} stride_plugin_api_t;

/* The two symbols a plugin exports. */
typedef const stride_plugin_info_t* (*stride_plugin_info_fn)(void);
typedef int (*stride_plugin_init_v1_fn)(const stride_host_api_t* host, stride_host_t* ctx,
                                        stride_plugin_t** self, const stride_plugin_api_t** api);

#ifdef __cplusplus
}
#endif

#endif /* STRIDE_PLUGIN_H_ */
