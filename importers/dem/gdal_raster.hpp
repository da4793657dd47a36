// SPDX-License-Identifier: Apache-2.0
//
// Elevation from any raster GDAL reads — GeoTIFF above all (Copernicus GLO-30, national LiDAR
// DEMs), also VRT mosaics and SRTM .hgt — in any coordinate reference system: a WGS84 point is
// transformed into the raster's CRS with GDAL's OGR (PROJ underneath), then sampled bilinearly
// between the four surrounding pixel centres. The band's nodata value is honoured as SRTM voids
// are (srtm.hpp): a nodata pixel takes the inverse-distance mean of the nearest ring of valid
// pixels, up to 16 out; beyond that the point is not covered, and the next source is asked.
// The band's scale and offset are applied (elevation = stored * scale + offset).
//
// A folder is a tiled set: every *.tif, *.tiff and *.vrt file in it is one raster, and a point
// takes the first raster (in file-name order) that covers it. A raster's header is read when
// it is opened (size, geotransform, CRS, footprint in WGS84, so a point outside is rejected
// without a transformation); its pixels are read in whole, as 32-bit floats, the first time a
// point falls inside it (a 3600 x 3600 Copernicus tile: 52 MB).
//
// GDAL is not linked but loaded (dlopen) the first time a raster is opened: it brings about
// 110 shared libraries, which would add ~70 ms to every start of `stride` (analysing one run
// takes 5 ms). Without libgdal installed, Open says so and SRTM tiles still work.
//
// Thread-safety: ElevationAt may be called from any number of threads (pixels load once under
// a lock; coordinate transformations, which GDAL does not share between threads, come from a
// pool).
//
//   Result<std::unique_ptr<GdalElevation>> dem = GdalElevation::Open("dem/andorra_5m.tif");
//   double h; if ((*dem)->ElevationAt(42.5, 1.5, &h)) ...
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/route/profile.hpp"
#include "engine/status.hpp"

namespace stride::importers {

class GdalElevation : public engine::ElevationSource {
 public:
  // `path`: a raster file, or a folder of them. Fails when GDAL cannot be loaded, a file is
  // not a raster GDAL reads, has no CRS or geotransform, or is rotated; a folder without
  // rasters is an error too (a typo should not silently give routes without elevation).
  static Result<std::unique_ptr<GdalElevation>> Open(const std::string& path);
  ~GdalElevation() override;
  GdalElevation(const GdalElevation&) = delete;
  GdalElevation& operator=(const GdalElevation&) = delete;

  bool ElevationAt(double lat_deg, double lon_deg, double* elevation_m) const override;

  size_t num_rasters() const { return rasters_.size(); }
  // One line per raster: file, size, CRS name, pixel size.
  std::string Describe() const;
  // Rasters whose pixels could not be read when a point first fell inside them (a truncated
  // or corrupt file whose header was fine): GDAL's message for each. Those points got no
  // elevation from it; a caller that needs the elevation fails on these.
  std::vector<std::string> Unreadable() const override;

  struct Raster;

 private:
  GdalElevation() = default;
  std::vector<std::unique_ptr<Raster>> rasters_;
};

// Whether `name` ends like a raster GDAL reads for us (.tif, .tiff, .vrt; any case).
bool IsRasterFileName(const std::string& name);

}  // namespace stride::importers
