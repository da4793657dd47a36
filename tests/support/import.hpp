// SPDX-License-Identifier: Apache-2.0
//
// Builds a route database from an OSM file the way `stride import` does (RouteDbBuilder,
// ImportOsm, Commit), for tests that need a real database on disk.
#pragma once

#include <string>

#include "importers/osm/osm_import.hpp"
#include "index/store/route_db.hpp"

namespace stride::testing {

// `dem` may be null (no elevation).
inline Result<importers::OsmImportStats> ImportToDb(const std::string& osm, const std::string& db,
                                                    const engine::ElevationSource* dem) {
  Result<std::unique_ptr<index::RouteDbBuilder>> b = index::RouteDbBuilder::Create(db);
  if (!b.ok()) return b.status();
  importers::OsmImportOptions o;
  o.inputs = {osm};
  o.dem = dem;
  o.scratch_dir = (*b)->build_dir();
  Result<importers::OsmImportStats> s = importers::ImportOsm(o, **b);
  if (!s.ok()) return s.status();
  const Status c = (*b)->Commit({});
  if (!c.ok()) return c;
  return s;
}

}  // namespace stride::testing
