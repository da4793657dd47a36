/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stride as a library: the C API, version 1.
 *
 * What an app that cannot use a server embeds: the analysis `stride analyze` gives (GPX, TCX and
 * FIT, from a file or from memory) and the queries `stride serve` answers over a route database
 * (routes in a box, nearest routes, a route and its profile, directions, loops and map matching
 * on the trail graph). Answers are the same JSON, byte for byte, as `stride analyze --json` and
 * the HTTP API v1 give; the cleaned streams of an analysis are also plain arrays of doubles.
 *
 *   #include <stride/stride.h>
 *
 *   stride_analysis_t* a = NULL;
 *   if (stride_analyze_file("run.fit", NULL, &a) != STRIDE_OK) {
 *     fprintf(stderr, "%s\n", stride_last_error());
 *     return 1;
 *   }
 *   puts(stride_analysis_json(a, NULL));
 *   stride_analysis_free(a);
 *
 * Build against it with `pkg-config --cflags --libs stride` (`--static` for libstride.a) or
 * CMake's `find_package(stride)` and the target `stride::stride` (`stride::stride_static`).
 *
 * Rules of the boundary, the same as the plugin ABI's (plugins/api/stride_plugin.h):
 *   - Only plain C types and opaque handles cross it; no exception ever leaves a function.
 *   - Versions: STRIDE_API_VERSION is the version this header describes, stride_api_version()
 *     the one of the library loaded at run time. Within a version functions are only added and
 *     option structs only grow by appending; each starts with struct_size, so a library reads
 *     only the fields the caller's header had. A program built against version 1 keeps working
 *     with any later library of version 1.
 *   - Text is UTF-8 and NUL-terminated. Answers are JSON text.
 *   - Ownership: every handle a stride_*_open / stride_analyze_* call gives is the caller's
 *     until passed to its stride_*_close / stride_*_free. Text returned through a `char**` is
 *     the caller's, freed with stride_free(). Pointers returned as `const` (stride_analysis_json,
 *     stride_analysis_stream) belong to the handle and live as long as it does.
 *   - Errors: functions return STRIDE_OK (0) or a STRIDE_E_* code; stride_last_error() then says
 *     what went wrong and where (the parameter, the file's line or byte), as the CLI would.
 *   - Threads: stated per function. Handles are immutable once made: one stride_db_t or
 *     stride_dem_t may be queried from any number of threads at once.
 */
#ifndef STRIDE_STRIDE_H_
#define STRIDE_STRIDE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRIDE_API_VERSION 1

/* Return codes. The first five are those of the plugin ABI (same names, same values). */
#ifndef STRIDE_OK
#define STRIDE_OK 0
#define STRIDE_E_INVALID 1   /* bad argument, or input that is not what was expected */
#define STRIDE_E_NOT_FOUND 2 /* no such file, route, or no path / loop / trail near a point */
#define STRIDE_E_IO 3        /* a file or the database could not be read */
#define STRIDE_E_INTERNAL 4  /* anything else (a bug: please report the message) */
#endif
#define STRIDE_E_TOO_LARGE 5   /* over a limit: file size, points, query size */
#define STRIDE_E_UNAVAILABLE 6 /* the database lacks what the query needs (no trail graph) */
#define STRIDE_E_CORRUPT 7     /* the database is damaged */

/* The API version of the library loaded at run time. Thread-safe. */
int stride_api_version(void);
/* The library's release, e.g. "0.1.0". Thread-safe; static text. */
const char* stride_version(void);

/* The message of the last call on this thread that returned an error; "" when the last call
 * succeeded. Valid until the next stride_* call on this thread. Thread-safe (per thread). */
const char* stride_last_error(void);

/* Frees text the library returned through a char** (NULL is fine). Thread-safe. */
void stride_free(void* text);

/* Keeps up to `bytes` of freed memory in the process for the next analysis instead of giving it
 * back to the kernel after each one (glibc's trim threshold and top pad): analysing many
 * recordings held in memory (stride_analyze_buffer) in a row is about a third faster, at the
 * price of that memory staying resident. Blocks up to 32 MiB then come from the heap too, and
 * each thread's first analysis asks the kernel for transparent huge pages for 16 MiB of that
 * thread's heap (fewer page faults; up to 2 MiB more resident per thread). Process-wide; 0 sets
 * glibc's default values back. For batch work, not a long-running server. Call before starting
 * threads that analyse. STRIDE_OK, or STRIDE_E_UNAVAILABLE when the allocator takes no such setting
 * (not glibc's, e.g. under a sanitizer). Since API version 1 (appended). */
int stride_keep_freed_memory(size_t bytes);

/* ---- Elevation model ------------------------------------------------------------------- */

typedef struct stride_dem stride_dem_t;

/* Opens what `--dem` takes: folders of SRTM .hgt tiles or of GeoTIFF / VRT rasters (any CRS),
 * or raster files, comma-separated in priority order (tiles and pixels are read when first
 * needed). Thread-safe. */
int stride_dem_open(const char* dir, stride_dem_t** out);
/* Closes it; no analysis that uses it may be running. NULL is fine. */
void stride_dem_close(stride_dem_t* dem);
/* The files of `dem` that could not be read when an analysis needed them (damaged, cut
 * short): a JSON array of messages, each naming the file and why ("[]" when none). Those
 * analyses took their elevation from the recordings, which `stride analyze` reports as an
 * error (exit status 1); a program should say so too. *json is the caller's (stride_free);
 * *size gets its length when size is not NULL. Thread-safe. Since API version 1 (appended). */
int stride_dem_unreadable(const stride_dem_t* dem, char** json, size_t* size);

/* ---- Analysis of recordings -------------------------------------------------------------- */

typedef struct stride_analyze_options {
  uint32_t struct_size; /* sizeof(stride_analyze_options_t); stride_analyze_options_init sets it */
  /* "run", "walk", "hike" or "ride": overrides the sport in the file. NULL (default): the
   * file's, or inferred from the recording (the analysis says why). */
  const char* sport;
  /* Maximum heart rate for zones and TRIMP; 0 (default): estimated. */
  double max_hr_bpm;
  /* Resting heart rate for TRIMP; default 60. */
  double rest_hr_bpm;
  /* Lower bounds of heart-rate zones 2-5 (bpm, increasing); all 0 (default): 60/70/80/90 %
   * of the maximum. */
  double hr_zone_bounds_bpm[4];
  /* Elevation model for tracks without barometric altitude; NULL (default): none. Borrowed:
   * it must outlive the call. */
  const stride_dem_t* dem;
  /* The "file" the JSON names; NULL (default): the path, or "" for a buffer. */
  const char* name;
} stride_analyze_options_t;

/* The defaults above. */
void stride_analyze_options_init(stride_analyze_options_t* options);

typedef struct stride_analysis stride_analysis_t;

/* Reads a GPX, TCX or FIT file (the format is told from the content) and analyses each
 * session in it. `options` may be NULL (the defaults). On success *out is a new analysis;
 * on error *out is NULL. Thread-safe: files may be analysed on any number of threads. */
int stride_analyze_file(const char* path, const stride_analyze_options_t* options,
                        stride_analysis_t** out);
/* The same over `size` bytes in memory (borrowed for the call). */
int stride_analyze_buffer(const void* data, size_t size, const stride_analyze_options_t* options,
                          stride_analysis_t** out);
void stride_analysis_free(stride_analysis_t* analysis);

/* The analysis as `stride analyze --json` prints it (without the newline). Owned by the
 * analysis; *size (when size is not NULL) gets its length. */
const char* stride_analysis_json(const stride_analysis_t* analysis, size_t* size);
/* Sessions in the file (a multi-sport FIT file has several). */
size_t stride_analysis_session_count(const stride_analysis_t* analysis);
/* The file's format: "gpx", "tcx" or "fit". */
const char* stride_analysis_format(const stride_analysis_t* analysis);

/* Streams of the cleaned and smoothed track a session's figures were measured on: parallel
 * arrays, one value per kept point, NaN where the recording has no value. */
#define STRIDE_STREAM_TIME 0        /* seconds since 1970-01-01T00:00:00Z */
#define STRIDE_STREAM_LAT 1         /* degrees, WGS84, smoothed */
#define STRIDE_STREAM_LON 2         /* degrees, WGS84, smoothed */
#define STRIDE_STREAM_ELEVATION 3   /* metres above sea level, smoothed */
#define STRIDE_STREAM_HEART_RATE 4  /* beats per minute */
#define STRIDE_STREAM_CADENCE 5     /* revolutions (strides per foot) per minute */
#define STRIDE_STREAM_SPEED 6       /* metres per second, as the device recorded it */
#define STRIDE_STREAM_POWER 7       /* watts */
#define STRIDE_STREAM_DISTANCE 8    /* metres from the start, as measured */
#define STRIDE_STREAM_TEMPERATURE 9 /* degrees Celsius */
#define STRIDE_STREAM_COUNT 10

/* "time", "lat", "lon", "elevation", "heart_rate", "cadence", "speed", "power", "distance",
 * "temperature"; NULL for a number that is no stream. */
const char* stride_stream_name(int stream);
/* *values gets the stream (owned by the analysis) and *count its length (the same for every
 * stream of a session). STRIDE_E_INVALID for a session or stream out of range. */
int stride_analysis_stream(const stride_analysis_t* analysis, size_t session, int stream,
                           const double** values, size_t* count);

/* ---- Route database ---------------------------------------------------------------------- */

typedef struct stride_db stride_db_t;

/* Opens a database `stride import` made, read-only: loads the spatial index of its routes and
 * its trail graph (which takes a while and the memory `stride serve` would use). Any number
 * of processes may open the same database. Thread-safe. */
int stride_db_open(const char* path, stride_db_t** out);
/* Closes it; no query on it may be running. NULL is fine. */
void stride_db_close(stride_db_t* db);

/* Queries. Each answers the JSON of the HTTP endpoint named beside it, written to *json (the
 * caller's, freed with stride_free; *size gets its length when size is not NULL); on error
 * *json is NULL and stride_last_error() says which parameter was wrong and why.
 *
 * `query` holds the endpoint's other parameters in URL query syntax, percent-encoded, e.g.
 * "limit=20&type=hiking,foot&min_length_m=5000" (NULL or "" for none): filters, paging
 * cursors, formats and routing options, with the names, defaults and limits of the HTTP API
 * (README: "HTTP API"). Parameters given as arguments may not be repeated in it, nor may any
 * parameter appear twice; a name the endpoint does not know is ignored, as over HTTP.
 * Thread-safe: any number of queries may run on one database at once. */

/* GET /v1/routes?bbox=min_lon,min_lat,max_lon,max_lat&... */
int stride_db_routes(const stride_db_t* db, double min_lon, double min_lat, double max_lon,
                     double max_lat, const char* query, char** json, size_t* size);
/* GET /v1/routes/nearest?lat=&lon=&... */
int stride_db_nearest(const stride_db_t* db, double lat, double lon, const char* query, char** json,
                      size_t* size);
/* GET /v1/routes/{id}?... : `id` as the HTTP API takes it ("123", "r123", "w456"). */
int stride_db_route(const stride_db_t* db, const char* id, const char* query, char** json,
                    size_t* size);
/* GET /v1/routes/{id}/profile */
int stride_db_profile(const stride_db_t* db, const char* id, char** json, size_t* size);
/* GET /v1/directions?from=lat,lon&to=lat,lon&... (via=, format=, avoid_steps=, ...) */
int stride_db_directions(const stride_db_t* db, double from_lat, double from_lon, double to_lat,
                         double to_lon, const char* query, char** json, size_t* size);
/* GET /v1/loops?lat=&lon=&distance_m=&... (alternatives=, seed=, ...) */
int stride_db_loop(const stride_db_t* db, double lat, double lon, double distance_m,
                   const char* query, char** json, size_t* size);
/* POST /v1/match: `data` is a GPX, TCX or FIT file or a GeoJSON LineString, borrowed. */
int stride_db_match(const stride_db_t* db, const void* data, size_t data_size, const char* query,
                    char** json, size_t* size);

#ifdef __cplusplus
}
#endif

#endif /* STRIDE_STRIDE_H_ */
