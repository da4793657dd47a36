// SPDX-License-Identifier: Apache-2.0
//
// `stride import --osm FILE [--osm FILE ...] --db DIR [--dem DIR] [--threads N]
//                [--min-trail-length M] [--node-index TYPE] [--memory-mb MB] [--quiet]`
//
// Builds a route database from OSM extracts and SRTM tiles (importers/osm, importers/dem,
// index/store). Progress goes to stderr, a summary to stdout. The database is built beside
// DIR and switched in only on success: a failed import prints one error line, exits 1 and
// leaves DIR as it was. Exit code 2: bad command line.
//
// `stride inspect --db DIR [--route ID]`
//
// Prints what a database holds: schema, import manifests, counts (by type); or one route as
// JSON. ID: the numeric route id, relation/N (or rN), trail/N (or wN, the trail's first way).
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/status.hpp"
#include "importers/osm/osm_import.hpp"
#include "index/store/route_db.hpp"

namespace stride::tools {

int RunImport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// One database build, as `stride import` and `stride update` run it: elevation from dem_dir,
// the import, the trail graph and its hierarchy, meta (import, counts, manifests, extra_meta),
// the switch into place, the summary. `prepare` runs in the new build directory before the
// import (it may change the inputs); on any error nothing is switched in. Returns the exit
// code (0, or 1 with one error line on `err`).
struct BuildRequest {
  importers::OsmImportOptions options;  // inputs, threads, min trail length, node index
  std::string db_path;
  std::string dem_dir;
  bool quiet = false;
  std::string command = "import";  // for messages: "stride <command>: ..."
  std::function<Status(const std::string& build_dir, importers::OsmImportOptions& options)> prepare;
  std::string prepare_phase = "preparing the inputs";  // what prepare does, for --memory-mb's error
  std::vector<std::pair<std::string, std::string>> extra_meta;
  std::string source_label;  // when set, the manifests' source (not the build directory's path)
  // --memory-mb: the most the process may hold resident (tools/memory_budget.hpp); 0: no limit.
  uint64_t memory_mb = 0;
  // The database's lock (index::DbLock) when the caller took it already (stride update, before
  // it reads what was applied); otherwise BuildRouteDb takes it first.
  std::optional<index::DbLock> lock;
  // RouteDbBuilder::InheritHierarchyOrder's bound (stride update); 0: order by priority.
  double max_order_drift = 0;
};
int BuildRouteDb(BuildRequest& req, std::ostream& out, std::ostream& err);

// For `stride import` and `stride update` in their own process: SIGINT, SIGTERM and SIGHUP
// (Ctrl-C, kill, a closed terminal) remove the unfinished database (index::AbandonBuilds)
// instead of leaving DIR.import-PID behind, say so on stderr, and exit 128 + the signal; DIR
// stays as it was. A signal the process was started ignoring stays ignored. Blocks those
// signals in the calling thread and every thread started after it, and waits for them on a
// thread of its own: call it first thing in main(), once.
void RemoveBuildsOnInterrupt(const std::string& command);
int RunInspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace stride::tools
