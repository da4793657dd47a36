// SPDX-License-Identifier: Apache-2.0
//
// `stride import --osm FILE [--osm FILE ...] --db DIR [--dem DIR] [--threads N]
//                [--min-trail-length M] [--node-index TYPE] [--quiet]`
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

#include <iosfwd>
#include <string>
#include <vector>

namespace stride::tools {

int RunImport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunInspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace stride::tools
