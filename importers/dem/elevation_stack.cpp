// SPDX-License-Identifier: Apache-2.0
#include "importers/dem/elevation_stack.hpp"

#include <algorithm>
#include <filesystem>

#include "importers/dem/gdal_raster.hpp"
#include "importers/dem/srtm.hpp"

namespace stride::importers {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> SplitItems(const std::string& spec) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const size_t end = comma == std::string::npos ? spec.size() : comma;
    if (end > start) items.push_back(spec.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

}  // namespace

Result<std::unique_ptr<ElevationStack>> ElevationStack::Open(const std::string& spec) {
  auto stack = std::make_unique<ElevationStack>();
  const std::vector<std::string> items = SplitItems(spec);
  if (items.empty()) return Status::InvalidArgument("--dem: no folder or file given");
  for (const std::string& item : items) {
    std::error_code ec;
    if (fs::is_regular_file(item, ec)) {
      if (!IsRasterFileName(item)) {
        return Status::InvalidArgument(
            "--dem " + item +
            ": expected a folder of SRTM tiles or a raster (.tif, .tiff, .vrt); for one .hgt "
            "tile, give its folder");
      }
      Result<std::unique_ptr<GdalElevation>> g = GdalElevation::Open(item);
      if (!g.ok()) return g.status();
      std::string d = (*g)->Describe();
      stack->tiles_and_rasters_ += (*g)->num_rasters();
      stack->sources_.push_back({std::move(g).value(), std::move(d), nullptr});
      continue;
    }
    if (!fs::is_directory(item, ec)) {
      return Status::NotFound("--dem " + item + ": no such folder or file");
    }
    bool rasters = false, tiles = false;
    for (const auto& e : fs::directory_iterator(item, ec)) {
      const std::string name = e.path().filename().string();
      int lat0 = 0, lon0 = 0;
      bool zipped = false;
      rasters |= IsRasterFileName(name);
      tiles |= ParseSrtmTileName(name, &lat0, &lon0, &zipped);
    }
    if (rasters) {
      Result<std::unique_ptr<GdalElevation>> g = GdalElevation::Open(item);
      if (!g.ok()) return g.status();
      std::string d = (*g)->Describe();
      stack->tiles_and_rasters_ += (*g)->num_rasters();
      stack->sources_.push_back({std::move(g).value(), std::move(d), nullptr});
    }
    if (tiles || !rasters) {
      Result<std::unique_ptr<SrtmElevation>> s = SrtmElevation::Open(item);
      if (!s.ok()) return Status(s.status().code(), "--dem " + s.status().message());
      const SrtmElevation* srtm = s->get();
      std::string d = item + ": SRTM, " + std::to_string(srtm->num_tiles()) + " tile" +
                      (srtm->num_tiles() == 1 ? "" : "s") + "\n";
      stack->tiles_and_rasters_ += srtm->num_tiles();
      stack->sources_.push_back({std::move(s).value(), std::move(d), srtm});
    }
  }
  return stack;
}

bool ElevationStack::ElevationAt(double lat_deg, double lon_deg, double* elevation_m) const {
  for (const Source& s : sources_) {
    if (s.source->ElevationAt(lat_deg, lon_deg, elevation_m)) return true;
  }
  return false;
}

std::string ElevationStack::Describe() const {
  std::string out;
  for (const Source& s : sources_) out += s.description;
  return out;
}

std::vector<std::string> ElevationStack::MissingTiles() const {
  std::vector<std::string> missing;
  for (const Source& s : sources_) {
    if (s.srtm == nullptr) continue;
    for (std::string& t : s.srtm->MissingTiles()) missing.push_back(std::move(t));
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  return missing;
}

std::vector<std::string> ElevationStack::Unreadable() const {
  std::vector<std::string> out;
  for (const Source& s : sources_) {
    for (std::string& m : s.source->Unreadable()) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace stride::importers
