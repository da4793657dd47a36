/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stride's C API in one page: analyse recordings, read their cleaned streams, and ask a route
 * database for the routes nearest a point.
 *
 *   stride_example_analyze run.gpx ride.fit
 *   stride_example_analyze --db /srv/stride/db 42.5063 1.5218
 *
 * Build it against an installed Stride:
 *   cc -std=c11 analyze.c $(pkg-config --cflags --libs stride) -o analyze
 */
#include <stdio.h>
#include <stdlib.h>
#include <stride/stride.h>
#include <string.h>

/* Prints what a program usually wants from a recording: its length, its time and its JSON. */
static int analyze(const char* path) {
  stride_analysis_t* a = NULL;
  if (stride_analyze_file(path, NULL, &a) != STRIDE_OK) {
    fprintf(stderr, "error: %s\n", stride_last_error());
    return 1;
  }
  for (size_t s = 0; s < stride_analysis_session_count(a); ++s) {
    const double* t = NULL;
    const double* along = NULL;
    size_t n = 0, m = 0;
    if (stride_analysis_stream(a, s, STRIDE_STREAM_TIME, &t, &n) != STRIDE_OK ||
        stride_analysis_stream(a, s, STRIDE_STREAM_DISTANCE, &along, &m) != STRIDE_OK) {
      fprintf(stderr, "error: %s\n", stride_last_error());
      stride_analysis_free(a);
      return 1;
    }
    printf("%s session %zu (%s): %zu points, %.1f m", path, s + 1, stride_analysis_format(a), n,
           m > 0 ? along[m - 1] : 0.0);
    if (n > 1 && t[0] == t[0]) printf(" in %.0f s", t[n - 1] - t[0]); /* t[0] == t[0]: not NaN */
    printf("\n");
  }
  size_t size = 0;
  const char* json = stride_analysis_json(a, &size);
  printf("%.*s\n", (int)size, json);
  stride_analysis_free(a);
  return 0;
}

static int nearest(const char* dir, double lat, double lon) {
  stride_db_t* db = NULL;
  if (stride_db_open(dir, &db) != STRIDE_OK) {
    fprintf(stderr, "error: %s\n", stride_last_error());
    return 1;
  }
  char* json = NULL;
  const int code = stride_db_nearest(db, lat, lon, "k=3", &json, NULL);
  if (code == STRIDE_OK) {
    printf("%s\n", json);
  } else {
    fprintf(stderr, "error %d: %s\n", code, stride_last_error());
  }
  stride_free(json);
  stride_db_close(db);
  return code == STRIDE_OK ? 0 : 1;
}

int main(int argc, char** argv) {
  if (stride_api_version() != STRIDE_API_VERSION) {
    fprintf(stderr, "built for the Stride C API %d, running with %d\n", STRIDE_API_VERSION,
            stride_api_version());
    return 1;
  }
  if (argc == 5 && strcmp(argv[1], "--db") == 0) {
    return nearest(argv[2], atof(argv[3]), atof(argv[4]));
  }
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE... | --db DIR LAT LON  (Stride %s)\n", argv[0],
            stride_version());
    return 2;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) status |= analyze(argv[i]);
  return status;
}
