// SPDX-License-Identifier: Apache-2.0
//
// What `--dem` names: one or more elevation sources in priority order, comma-separated, e.g.
// `--dem lidar/,copernicus/,srtm/` (a fine national DEM first, SRTM to fill what it lacks).
// Each item is a folder or a file:
//   - a folder holding SRTM tiles (N42E001.hgt, .hgt.zip) is an SrtmElevation (srtm.hpp);
//   - a folder holding rasters (*.tif, *.tiff, *.vrt) is a GdalElevation (gdal_raster.hpp), in
//     any CRS; a folder with both gives the rasters first, then the tiles;
//   - a raster file is a GdalElevation of that file.
// A point takes its elevation from the first source that covers it.
//
// Thread-safety: ElevationAt from any number of threads, as each source allows.
//
//   Result<std::unique_ptr<ElevationStack>> dem = ElevationStack::Open("lidar.tif,srtm/");
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/route/profile.hpp"
#include "engine/status.hpp"

namespace stride::importers {

class ElevationStack : public engine::ElevationSource {
 public:
  // Fails on an item that does not exist or a malformed tile or raster (naming the item). A
  // folder with neither tiles nor rasters is valid and covers nothing (tiles_and_rasters()).
  static Result<std::unique_ptr<ElevationStack>> Open(const std::string& spec);

  bool ElevationAt(double lat_deg, double lon_deg, double* elevation_m) const override;

  size_t num_sources() const { return sources_.size(); }
  size_t tiles_and_rasters() const { return tiles_and_rasters_; }
  // One line per source, in priority order: "srtm/: SRTM, 3 tiles" or a raster's description.
  std::string Describe() const;
  // SRTM tiles that were asked for but are not in any SRTM folder ("N43E002"), sorted.
  std::vector<std::string> MissingTiles() const;
  // Tiles and rasters that were asked for and are there but could not be read (truncated,
  // corrupt): one message each. An import fails on any: its routes would quietly lack the
  // elevation the operator gave.
  std::vector<std::string> Unreadable() const override;

 private:
  struct Source {
    std::unique_ptr<engine::ElevationSource> source;
    std::string description;
    const class SrtmElevation* srtm = nullptr;  // when it is one: for MissingTiles
  };
  std::vector<Source> sources_;
  size_t tiles_and_rasters_ = 0;
};

}  // namespace stride::importers
