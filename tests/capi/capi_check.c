/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A C11 program against the installed C API (tests/capi/installed_test.sh builds it with
 * pkg-config and with CMake, shared and static): analyses FILE, checks its streams and errors,
 * queries the route database DB, and prints the analysis JSON for the script to compare with
 * `stride analyze --json FILE`. Exit status 0 when every check held; each failed check prints
 * a line on stderr.
 *
 *   capi_check FILE DB
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Both public headers together, as a program that embeds Stride and writes a plugin would. */
#include <stride/stride.h>
#include <stride/stride_plugin.h>

static int failures = 0;

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              stride_last_error());                                                            \
      ++failures;                                                                              \
    }                                                                                          \
  } while (0)

/* The number after "key": in the JSON text, NAN when absent. */
static double json_number(const char* json, const char* key) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char* p = strstr(json, pattern);
  return p == NULL ? NAN : strtod(p + strlen(pattern), NULL);
}

static void check_analysis(const char* file) {
  stride_analyze_options_t options;
  stride_analyze_options_init(&options);
  CHECK(options.struct_size == sizeof options);
  stride_analysis_t* a = NULL;
  CHECK(stride_analyze_file(file, &options, &a) == STRIDE_OK);
  if (a == NULL) return;
  CHECK(strcmp(stride_last_error(), "") == 0);
  CHECK(stride_analysis_session_count(a) == 1);
  size_t size = 0;
  const char* json = stride_analysis_json(a, &size);
  CHECK(json != NULL && strlen(json) == size);
  const double* t = NULL;
  const double* along = NULL;
  size_t n = 0, m = 0;
  CHECK(stride_analysis_stream(a, 0, STRIDE_STREAM_TIME, &t, &n) == STRIDE_OK);
  CHECK(stride_analysis_stream(a, 0, STRIDE_STREAM_DISTANCE, &along, &m) == STRIDE_OK);
  CHECK(n == m && n > 100);
  if (n == m && n > 100) {
    CHECK(fabs(along[n - 1] - json_number(json, "distance_m")) < 0.051);
    for (size_t i = 1; i < n; ++i) {
      if (!(t[i] > t[i - 1])) {
        CHECK(t[i] > t[i - 1]);
        break;
      }
    }
  }
  for (int s = 0; s < STRIDE_STREAM_COUNT; ++s) {
    const double* v = NULL;
    size_t k = 0;
    CHECK(stride_analysis_stream(a, 0, s, &v, &k) == STRIDE_OK && k == n);
    CHECK(stride_stream_name(s) != NULL);
  }
  const double* v = NULL;
  size_t k = 0;
  CHECK(stride_analysis_stream(a, 0, STRIDE_STREAM_COUNT, &v, &k) == STRIDE_E_INVALID);
  CHECK(strstr(stride_last_error(), "no stream") != NULL);
  printf("%.*s\n", (int)size, json);
  stride_analysis_free(a);

  /* Errors: a code, NULL out, and a message naming the file. */
  a = (stride_analysis_t*)&options; /* any non-NULL value: the call must reset it */
  CHECK(stride_analyze_file("/no/such/file.gpx", NULL, &a) == STRIDE_E_NOT_FOUND);
  CHECK(a == NULL);
  CHECK(strstr(stride_last_error(), "/no/such/file.gpx") != NULL);
  static const char broken[] = "<gpx>\n<trk><trkseg>\n<trkpt lat=\"x\" lon=\"1\"/>";
  CHECK(stride_analyze_buffer(broken, sizeof broken - 1, NULL, &a) == STRIDE_E_INVALID);
  CHECK(strstr(stride_last_error(), "line 3") != NULL);
  options.sport = "swim";
  CHECK(stride_analyze_file(file, &options, &a) == STRIDE_E_INVALID);
}

static void check_db(const char* dir) {
  stride_db_t* db = NULL;
  CHECK(stride_db_open(dir, &db) == STRIDE_OK);
  if (db == NULL) return;
  char* json = NULL;
  size_t size = 0;
  CHECK(stride_db_routes(db, -180, -85, 180, 85, "limit=3&type=hiking", &json, &size) == STRIDE_OK);
  CHECK(json != NULL && strlen(json) == size && strncmp(json, "{\"routes\":[{\"id\":", 17) == 0);
  if (json != NULL && strncmp(json, "{\"routes\":[{\"id\":", 17) == 0) {
    char id[32];
    snprintf(id, sizeof id, "%llu", strtoull(json + 17, NULL, 10));
    char* route = NULL;
    CHECK(stride_db_route(db, id, "format=polyline6", &route, NULL) == STRIDE_OK);
    CHECK(route != NULL && strstr(route, "\"geometry\"") != NULL);
    stride_free(route);
    char* profile = NULL;
    CHECK(stride_db_profile(db, id, &profile, NULL) == STRIDE_OK);
    CHECK(profile != NULL && strstr(profile, "\"elevation_m\"") != NULL);
    stride_free(profile);
  }
  stride_free(json);
  json = NULL;
  CHECK(stride_db_route(db, "r999999999", NULL, &json, NULL) == STRIDE_E_NOT_FOUND);
  CHECK(json == NULL);
  CHECK(strcmp(stride_last_error(), "no route r999999999") == 0);
  CHECK(stride_db_nearest(db, 95, 0, NULL, &json, NULL) == STRIDE_E_INVALID);
  CHECK(strstr(stride_last_error(), "lat") != NULL);
  stride_db_close(db);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE DB\n", argv[0]);
    return 2;
  }
  CHECK(stride_api_version() == STRIDE_API_VERSION);
  CHECK(STRIDE_PLUGIN_ABI_VERSION == 1);
  check_analysis(argv[1]);
  check_db(argv[2]);
  return failures == 0 ? 0 : 1;
}
