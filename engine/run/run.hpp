// SPDX-License-Identifier: Apache-2.0
//
// A run: one user's uploaded recording, kept with what Stride made of it: the original file,
// the cleaned and smoothed track of each session, the analysis of each session (typed: the API
// renders it at the edge, as JSON with engine/track/analysis_json.hpp or as protobuf) and the
// routes it covered. RunStore is where runs live; index/store/run_db.hpp implements it over
// RocksDB, and a multi-node deployment may put it on another store.
//
// Run ids are 64-bit random numbers, written as 16 lowercase hex digits. A user id is the
// `sub` of the user's token: 1 to 128 bytes, no NUL.
//
// Thread-safety: RunStore implementations are safe to call from any number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.hpp"
#include "engine/track/analysis.hpp"
#include "engine/track/track.hpp"

namespace stride::engine {

// What a list of runs shows: fixed when the run is stored.
struct RunSummary {
  uint64_t id = 0;
  std::string user_id;
  double start_time_s = kNaN;  // of the first session; NaN when the file has no times
  double uploaded_at_s = 0;
  std::string sport;            // "run", "walk", ... (SportName); "multisport"
  std::string format;           // "gpx", "tcx", "fit"
  std::string file_name;        // as the client named it; may be empty
  uint64_t file_bytes = 0;      // of the original
  uint64_t points = 0;          // kept after cleaning, all sessions
  double distance_m = 0;        // all sessions
  double moving_time_s = kNaN;  // all sessions
  double elapsed_time_s = kNaN;
  double ascent_m = kNaN;
  std::string elevation_source;  // "barometric", "gps", "dem", "unknown"
  uint32_t sessions = 0;
  // The geofences (stride serve --geofences) the run touched, in the table's order; empty
  // when none or when the server has no table.
  std::vector<std::string> regions;
};

// A route the run followed (measured from its trail match, or by engine/route/coverage.hpp
// when it has none), with what the route database said of the route when the run was
// stored: a later import does not rewrite runs.
struct CoveredRoute {
  uint64_t id = 0;                // route id (RouteRef in the API)
  std::string osm;                // "relation/123", "trail/456"
  std::string name;               // empty when the route has none
  std::string type;               // hiking, foot, running, ...
  double length_m = 0;            // of the route
  double covered_m = 0;           // of the route, walked (see method)
  double share = 0;               // covered_m / length_m
  double first_reached_s = kNaN;  // Unix time; NaN when the track has no times
  uint32_t session = 1;           // 1-based
  // How it was measured: "trail match" (the metres of the route's trail-graph edges the
  // matched run walked, over the route's graph length) or "geometry" (the track within the
  // tolerance of the route's line, when the run was not matched); empty in runs stored
  // before coverage came from matching.
  std::string method;
};

// What map matching (engine/trail/match.hpp) found when the route database had a trail graph
// at upload: the ways walked in order (consecutive edges of one way merged) and the named
// routes walked end to end (segment efforts).
struct MatchedWay {
  uint64_t way_id = 0;
  std::string name;
  double distance_m = 0;
  double entry_s = kNaN, exit_s = kNaN;  // Unix time; NaN without times
  uint32_t session = 1;                  // 1-based
};
struct SegmentEffort {
  uint64_t route_id = 0;
  std::string osm, name;
  double distance_m = 0;  // of the route matched
  double start_s = kNaN;  // Unix time of the first entry onto it
  double elapsed_s = kNaN;
  uint32_t session = 1;
};
struct TrailMatch {
  bool matched = false;  // false: no trail graph at upload (or the run has no positions)
  double on_network_m = 0, off_network_m = 0;
  std::vector<MatchedWay> ways;
  std::vector<SegmentEffort> efforts;
};

struct Run {
  RunSummary summary;
  std::string original;  // the uploaded bytes
  // One per session, as Analyze() measured it; each one's `track` is empty (see `tracks`).
  std::vector<Analysis> sessions;
  std::vector<CoveredRoute> coverage;  // in the order the track reached them
  TrailMatch match;
  std::vector<Track> tracks;    // cleaned, smoothed: one per session (streams only)
  std::string idempotency_key;  // the upload's Idempotency-Key; empty when none
  // Runs stored by schema 1 kept their analysis and coverage only as rendered JSON: for those,
  // `sessions` and `coverage` are empty and these hold the JSON as stored. Empty otherwise.
  std::string schema1_analysis_json;
  std::string schema1_coverage_json;
};

// Which parts of a run Get() reads: the original and the tracks are the bulk.
struct RunParts {
  bool original = true;
  bool tracks = true;
};

// The summary of a run with these sessions (REQUIRES: !sessions.empty()): what Analyze()
// measured, totalled (engine::Totals); ids, user, upload time and file fields are left for the
// caller to fill.
RunSummary SummarizeSessions(const std::vector<Analysis>& sessions);

std::string RunIdText(uint64_t id);
// False unless `text` is 16 hex digits.
bool ParseRunId(std::string_view text, uint64_t* id);
// kInvalidArgument unless 1 to 128 bytes without NUL.
Status CheckUserId(std::string_view user_id);

class RunStore {
 public:
  virtual ~RunStore() = default;

  struct PutResult {
    uint64_t id = 0;
    bool existed = false;  // an earlier upload with the same idempotency key
  };
  // Stores `run` durably (it is in the write-ahead log when this returns). When
  // run.idempotency_key is not empty and the user has stored a run under it before, stores
  // nothing and returns that run's id with existed = true; `request_digest` must then equal
  // the earlier one (else kAlreadyExists: the key was used for a different file).
  virtual Result<PutResult> Put(const Run& run, std::string_view request_digest) = 0;

  // The run the user stored under idempotency `key`, if any; kAlreadyExists when that upload
  // had another request digest.
  virtual Result<std::optional<uint64_t>> FindByIdempotencyKey(
      std::string_view user_id, std::string_view key, std::string_view request_digest) const = 0;

  // kNotFound when the user has no run with that id (another user's run is not found).
  virtual Result<Run> Get(std::string_view user_id, uint64_t id, RunParts parts) const = 0;

  // The user's runs, newest start first, after `cursor` (empty: from the newest), at most
  // `limit`. `next_cursor` is empty after the last page.
  struct Page {
    std::vector<RunSummary> runs;
    std::string next_cursor;
  };
  virtual Result<Page> List(std::string_view user_id, std::string_view cursor,
                            size_t limit) const = 0;

  // Replaces what the analysis made of a stored run (stride reanalyze) in one atomic write:
  // `run` is the run as Get() read it in full (original, idempotency key, upload time), with
  // its summary, sessions, coverage, match and tracks made again; run.summary.id and user_id
  // name it. kNotFound when the run is gone (deleted meanwhile: nothing is written).
  virtual Status Replace(const Run& run) = 0;

  // Users with at least one stored run, in the store's order, after `after` (empty: from the
  // first), at most `limit` (stride reanalyze --all walks them).
  virtual Result<std::vector<std::string>> ListUsers(std::string_view after,
                                                     size_t limit) const = 0;

  // Deletes one run (and its idempotency key); false when the user had no such run.
  virtual Result<bool> Delete(std::string_view user_id, uint64_t id) = 0;
  // Deletes every record of the user; returns the ids of the runs deleted.
  virtual Result<std::vector<uint64_t>> DeleteUser(std::string_view user_id) = 0;
};

// Run events, for plugins: every store and delete goes through one RunEvents::Publish.
struct RunEvent {
  enum class Kind { kStored, kDeleted, kUserDeleted };
  Kind kind = Kind::kStored;
  std::string user_id;
  uint64_t run_id = 0;  // 0 for kUserDeleted
};
std::string_view RunEventName(RunEvent::Kind kind);  // "run.stored", "run.deleted", ...
bool ParseRunEventName(std::string_view name, RunEvent::Kind* kind);  // false: not one

class RunEvents {
 public:
  using Handler = std::function<void(const RunEvent&)>;
  // Handlers run on the publishing thread, in subscription order; an exception from one is
  // caught and counted, never reaches the publisher. Subscribe before serving.
  void Subscribe(Handler handler);
  void Publish(const RunEvent& event) const;
  uint64_t handler_failures() const;

 private:
  std::vector<Handler> handlers_;
  mutable std::atomic<uint64_t> failures_{0};
};

}  // namespace stride::engine
