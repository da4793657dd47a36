// SPDX-License-Identifier: Apache-2.0
//
// OpenStreetMap extracts into routes and the walkable trail network.
//
// Two passes over the inputs with libosmium (the inputs are one data set: objects present in
// several files count once):
//   1. relations: route relations runners search for (see osm_tags.hpp) and super-routes;
//   2. nodes and ways: node locations go into a location index (in memory below an estimated
//      200 M nodes, a file-backed sorted array in `scratch_dir` up to 2 G nodes, a file-backed
//      dense array beyond), and every way that is a route member or walkable is kept with its
//      node locations.
// Then, in parallel over `threads`: relation members are ordered into lines (line_assembly),
// named trails are assembled from connected trail ways sharing a name, each route gets its
// length, surface mix, difficulty and (with a DEM) elevation profile and climbing figures;
// walkable ways are split at junctions into trail edges. Results reach the MapSink in id
// order, so the same input always produces the same records; with more than one thread, a
// chunk of them is built while the sink takes the one before (the sink is one thread).
//
// Memory: the location index (in memory: ~8-16 bytes per node; file-backed: page cache)
// plus 16 bytes per node reference of a kept way; routes and edges stream to the sink.
//
// Thread-safety: one ImportOsm call at a time per sink; the DEM is shared across workers.
//
//   RocksDB-backed sink from index/store; dem from importers/dem/srtm.hpp.
//   Result<OsmImportStats> s = ImportOsm({.inputs = {"andorra.osm.pbf"}, .dem = dem}, sink);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/route/profile.hpp"
#include "engine/route/route_record.hpp"
#include "engine/route/route_store.hpp"
#include "engine/status.hpp"

namespace stride::importers {

struct ImportProgress {
  std::string phase;     // "relations", "nodes+ways", "routes", "trail graph"
  uint64_t objects = 0;  // objects handled in this phase so far
  double phase_s = 0;    // seconds since the phase began
  bool phase_done = false;
  // The share of the phase done (bytes of input read, for the passes over the input), or -1
  // when unknown; with it, eta_s: the seconds left (at the phase's rate so far, for the passes
  // over the input; engine::trail::ContractionSecondsLeft for the hierarchy).
  double fraction = -1;
  double eta_s = 0;
};

struct OsmImportOptions {
  std::vector<std::string> inputs;  // .osm.pbf, .osm, .osm.gz, .osm.bz2 (detected by content)
  // Inputs held in memory, read after `inputs` as files of those bytes would be (format from
  // the content; errors and the manifest name them `name`), without touching the disk: for
  // tests and fuzzing, where a file per input costs more than reading it. The bytes must
  // outlive the call. Default: none.
  struct Bytes {
    std::string name;
    std::string_view data;
  };
  std::vector<Bytes> input_bytes;
  // Elevation for profiles and edges. Default: nullptr (no elevation).
  const engine::ElevationSource* dem = nullptr;
  // Worker threads for decoding and assembly. Default: 0 = hardware concurrency.
  int threads = 0;
  // Named trails shorter than this are left out (a named footway across a square is not a
  // trail). Default: 200 m.
  double min_named_trail_m = 200;
  // libosmium node-location index ("flex_mem", "dense_file_array", "sparse_mem_array", ...).
  // Default: "" = chosen by the estimated node count (see the file comment).
  std::string node_index;
  // Where a file-backed index goes. Default: "" = the system temporary directory.
  std::string scratch_dir;
  // Called at most once per progress_interval_s per phase, and at the end of each phase.
  std::function<void(const ImportProgress&)> on_progress;
  double progress_interval_s = 0.5;  // Default: twice a second
};

struct OsmSourceManifest {
  std::string path;
  std::string format;  // "pbf", "osm", "osm.gz", "osm.bz2"
  uint64_t size_bytes = 0;
  std::string sha256;
  std::string replication_timestamp;  // from the file header; empty when it has none
  std::string generator;
};

struct OsmImportStats {
  std::vector<OsmSourceManifest> sources;
  std::string node_index;
  uint64_t nodes = 0, ways = 0, relations = 0;  // read
  uint64_t route_relations = 0, super_routes = 0;
  uint64_t routes = 0, named_trails = 0;  // written (routes includes named trails)
  uint64_t routes_with_gaps = 0, loops = 0, routes_without_elevation = 0;
  uint64_t routes_without_geometry = 0;  // relations none of whose members are in the input
  uint64_t missing_members = 0;
  uint64_t walkable_ways = 0, edges = 0;
  uint64_t missing_node_locations = 0;
  double route_length_m = 0, edge_length_m = 0;
  std::vector<std::pair<std::string, double>> phase_seconds;
};

// Reads the inputs and feeds `sink`. Errors name the file and what was wrong; on error the
// sink may have received part of the results (the caller discards them).
Result<OsmImportStats> ImportOsm(const OsmImportOptions& options, engine::MapSink& sink);

// The format of an OSM file from its first bytes: "pbf", "osm", "osm.gz", "osm.bz2"; an
// InvalidArgument status for anything else (the message says what was found).
Result<std::string> DetectOsmFormat(const std::string& path);
// The same from the bytes themselves (at least their first 64), `name` for the message.
Result<std::string> DetectOsmFormatOf(std::string_view bytes, const std::string& name);

// SHA-256 of a file, lowercase hex.
Result<std::string> Sha256File(const std::string& path);

}  // namespace stride::importers
