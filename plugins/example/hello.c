/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hello: the smallest useful Stride plugin, in plain C11, to copy from.
 *
 *   GET  /v1/hello                 public: {"hello":"world","plugin_version":...,"runs_seen":N}
 *   POST /v1/hello/notes           runner:write: stores the body as the caller's note (200)
 *   GET  /v1/hello/notes           runner:read: the caller's note, or 404
 * and on every run.stored it counts the user's runs in its key-value namespace (key "runs").
 *
 * Build: cc -std=c11 -shared -fPIC -fvisibility=hidden -I<stride> hello.c -o libhello.so
 * (README "Writing a plugin" shows the manifest and the signature). The compile-time switches
 * below make the variants the host's tests load: another version, a wrong ABI, an init that
 * fails, handlers that fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/api/stride_plugin.h"

#ifndef HELLO_VERSION
#define HELLO_VERSION "1.0.0"
#endif
#ifndef HELLO_ABI
#define HELLO_ABI STRIDE_PLUGIN_ABI_VERSION
#endif

#if defined(__GNUC__)
#define HELLO_EXPORT __attribute__((visibility("default")))
#else
#define HELLO_EXPORT
#endif

enum { kRouteHello = 1, kRoutePutNote = 2, kRouteGetNote = 3 };

struct stride_plugin {
  const stride_host_api_t* host;
  stride_host_t* ctx;
};

/* A growable buffer, as a sink for what the host returns. */
typedef struct {
  char* data;
  size_t size;
} buffer;

static void buffer_write(void* ctx, const char* data, size_t size) {
  buffer* b = (buffer*)ctx;
  char* grown = (char*)realloc(b->data, b->size + size + 1);
  if (!grown) return;
  memcpy(grown + b->size, data, size);
  b->data = grown;
  b->size += size;
  b->data[b->size] = '\0';
}

/* The string value of "key":"..." in a flat JSON text (no escapes in the value); NULL if none.
 * Enough for the host's request fields this plugin reads; a real plugin uses a JSON parser. */
static char* json_string(const char* json, const char* key) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
  const char* at = strstr(json, pattern);
  if (!at) return NULL;
  at += strlen(pattern);
  const char* end = strchr(at, '"');
  if (!end) return NULL;
  char* out = (char*)malloc((size_t)(end - at) + 1);
  if (!out) return NULL;
  memcpy(out, at, (size_t)(end - at));
  out[end - at] = '\0';
  return out;
}

static long json_long(const char* json, const char* key, long fallback) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char* at = strstr(json, pattern);
  return at ? strtol(at + strlen(pattern), NULL, 10) : fallback;
}

static long runs_seen(stride_plugin_t* self, const char* user) {
  buffer b = {NULL, 0};
  stride_sink_t sink = {&b, buffer_write};
  long n = 0;
  if (self->host->kv_get(self->ctx, user, "runs", 4, &sink) == STRIDE_OK && b.data) {
    n = strtol(b.data, NULL, 10);
  }
  free(b.data);
  return n;
}

static void respond_json(stride_plugin_t* self, stride_call_t* call, int status, const char* body) {
  self->host->respond(call, status, "application/json", body, strlen(body));
}

static int hello_handle(stride_plugin_t* self, stride_call_t* call, const char* request,
                        size_t size) {
  (void)size;
#ifdef HELLO_FAIL_HANDLER
  const int fail = 1;
#else
  const int fail = 0;
#endif
  if (fail || !request) {
    self->host->set_error(self->ctx, fail ? "this build fails on purpose" : "no request");
    return STRIDE_E_INTERNAL;
  }
  const long route = json_long(request, "route_id", 0);
  char* user = json_string(request, "user");
  int rc = STRIDE_OK;
  if (route == kRouteHello) {
    char body[256];
    snprintf(body, sizeof body, "{\"hello\":\"world\",\"plugin_version\":\"%s\",\"runs_seen\":%ld}",
             HELLO_VERSION, user ? runs_seen(self, user) : 0L);
    respond_json(self, call, 200, body);
  } else if (route == kRoutePutNote && user) {
    char* note = json_string(request, "body");
    const char* text = note ? note : "";
    rc = self->host->kv_put(self->ctx, user, "note", 4, text, strlen(text));
    if (rc == STRIDE_OK) respond_json(self, call, 200, "{\"stored\":true}");
    free(note);
  } else if (route == kRouteGetNote && user) {
    buffer b = {NULL, 0};
    stride_sink_t sink = {&b, buffer_write};
    if (self->host->kv_get(self->ctx, user, "note", 4, &sink) == STRIDE_OK) {
      self->host->respond(call, 200, "text/plain", b.data ? b.data : "", b.size);
    } else {
      respond_json(self, call, 404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no note\"}}");
    }
    free(b.data);
  } else {
    respond_json(self, call, 400, "{\"error\":{\"code\":\"invalid_argument\",\"message\":\"?\"}}");
  }
  free(user);
  return rc;
}

static int hello_on_event(stride_plugin_t* self, const char* event, size_t size) {
  (void)size;
  char* type = json_string(event, "type");
  char* user = json_string(event, "user");
  int rc = STRIDE_OK;
  if (type && user && strcmp(type, "run.stored") == 0) {
    char value[32];
    const int n = snprintf(value, sizeof value, "%ld", runs_seen(self, user) + 1);
    rc = self->host->kv_put(self->ctx, user, "runs", 4, value, (size_t)n);
  } else if (type && user && strcmp(type, "daily") == 0) {
    /* The morning tick: remember the user's local date. */
    char* date = json_string(event, "local_date");
    if (date) rc = self->host->kv_put(self->ctx, user, "last_daily", 10, date, strlen(date));
    free(date);
  }
  free(type);
  free(user);
  return rc;
}

static void hello_shutdown(stride_plugin_t* self) {
  free(self);
}

static const stride_plugin_api_t kApi = {sizeof(stride_plugin_api_t), hello_shutdown, hello_handle,
                                         hello_on_event};

static const stride_plugin_info_t kInfo = {sizeof(stride_plugin_info_t), HELLO_ABI, "hello",
                                           HELLO_VERSION};

HELLO_EXPORT const stride_plugin_info_t* stride_plugin_info(void) {
  return &kInfo;
}

HELLO_EXPORT int stride_plugin_init_v1(const stride_host_api_t* host, stride_host_t* ctx,
                                       stride_plugin_t** self, const stride_plugin_api_t** api) {
  /* Use only what the host's table has: it may be newer (longer) than this header's, or older
   * (without the functions appended since v1's first release, such as publish). Hello needs
   * only the first release's functions, up to subscribe. */
  if (!STRIDE_HOST_HAS(host, subscribe)) {
    host->set_error(ctx, "the host's table is older than ABI v1");
    return STRIDE_E_INVALID;
  }
#ifdef HELLO_FAIL_INIT
  host->set_error(ctx, "init fails on purpose");
  return STRIDE_E_INTERNAL;
#endif
  stride_plugin_t* p = (stride_plugin_t*)calloc(1, sizeof *p);
  if (!p) return STRIDE_E_INTERNAL;
  p->host = host;
  p->ctx = ctx;
  if (host->route_add(ctx, "GET", "", "", kRouteHello) != STRIDE_OK ||
      host->route_add(ctx, "POST", "/notes", "runner:write", kRoutePutNote) != STRIDE_OK ||
      host->route_add(ctx, "GET", "/notes", "runner:read", kRouteGetNote) != STRIDE_OK ||
      host->subscribe(ctx, "run.stored,daily", 6) != STRIDE_OK) {
    free(p);
    return STRIDE_E_INTERNAL;
  }
  /* The routes' contract for GET /v1/openapi.json, when the host takes it (appended to v1):
   * an OpenAPI operation each; the host adds the path, scope and common error answers. */
  if (STRIDE_HOST_HAS(host, route_doc) &&
      (host->route_doc(ctx, kRouteHello,
                       "{\"summary\":\"A greeting, and how many runs the caller stored\","
                       "\"responses\":{\"200\":{\"description\":\"OK\",\"content\":"
                       "{\"application/json\":{\"schema\":{\"type\":\"object\","
                       "\"required\":[\"hello\",\"plugin_version\",\"runs_seen\"],"
                       "\"properties\":{\"hello\":{\"type\":\"string\"},"
                       "\"plugin_version\":{\"type\":\"string\"},"
                       "\"runs_seen\":{\"type\":\"integer\"}}}}}}}}") != STRIDE_OK ||
       host->route_doc(ctx, kRoutePutNote,
                       "{\"summary\":\"Keep a note (the body, as text)\","
                       "\"requestBody\":{\"required\":true,\"content\":{\"text/plain\":"
                       "{\"schema\":{\"type\":\"string\"}}}},"
                       "\"responses\":{\"200\":{\"description\":\"stored\",\"content\":"
                       "{\"application/json\":{\"schema\":{\"type\":\"object\","
                       "\"required\":[\"stored\"],\"properties\":{\"stored\":"
                       "{\"type\":\"boolean\"}}}}}}}}") != STRIDE_OK ||
       host->route_doc(ctx, kRouteGetNote,
                       "{\"summary\":\"The note kept\",\"responses\":{\"200\":{"
                       "\"description\":\"the note\",\"content\":{\"text/plain\":"
                       "{\"schema\":{\"type\":\"string\"}}}}}}") != STRIDE_OK)) {
    free(p);
    return STRIDE_E_INTERNAL;
  }
  *self = p;
  *api = &kApi;
  return STRIDE_OK;
}
