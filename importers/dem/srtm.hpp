// SPDX-License-Identifier: Apache-2.0
//
// SRTM elevation tiles (.hgt): one degree square each, named by its south-west corner
// (N42E001.hgt covers 42..43 N, 1..2 E), rows of big-endian int16 metres from north to south,
// 1201 x 1201 samples (3 arc-seconds) or 3601 x 3601 (1 arc-second); neighbouring tiles share
// their edge rows and columns. -32768 marks a void.
//
// SrtmElevation indexes a directory: every file named like a tile, plain (.hgt, memory-mapped)
// or zipped (.hgt.zip, inflated once on first use), is checked for its size when the directory
// is opened, so a bad tile is an error before an import starts rather than a silent hole.
// Elevations are bilinear between the four surrounding samples; a void sample takes the
// inverse-distance mean of the nearest ring of valid samples around it (up to 16 cells out).
//
// Thread-safety: ElevationAt may be called from any number of threads (tiles load under a
// lock once, then are read-only).
//
//   Result<std::unique_ptr<SrtmElevation>> dem = SrtmElevation::Open("dem/");
//   double h; if ((*dem)->ElevationAt(42.5, 1.5, &h)) ...
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "engine/route/profile.hpp"
#include "engine/status.hpp"

namespace stride::importers {

inline constexpr int16_t kSrtmVoid = -32768;

// One opened tile. Owns its samples (mapped or inflated).
class SrtmTile {
 public:
  // `lat0`/`lon0`: the south-west corner. Fails on a missing file, a size that is neither
  // 1201² nor 3601² samples, or a zip without a readable .hgt entry.
  static Result<std::unique_ptr<SrtmTile>> Open(const std::string& path, int lat0, int lon0);
  ~SrtmTile();
  SrtmTile(const SrtmTile&) = delete;
  SrtmTile& operator=(const SrtmTile&) = delete;

  int size() const { return n_; }  // samples per row
  int lat0() const { return lat0_; }
  int lon0() const { return lon0_; }
  // REQUIRES: 0 <= row, col < size(). Row 0 is the northern edge.
  int16_t Sample(int row, int col) const {
    const auto* p = bytes_ + (static_cast<size_t>(row) * n_ + col) * 2;
    return static_cast<int16_t>((p[0] << 8) | p[1]);
  }
  // Bilinear elevation; false outside the tile or next to a void that cannot be filled.
  bool ElevationAt(double lat_deg, double lon_deg, double* elevation_m) const;

 private:
  SrtmTile() = default;
  double FilledSample(int row, int col, bool* ok) const;

  const unsigned char* bytes_ = nullptr;
  void* mapped_ = nullptr;  // non-null when bytes_ is an mmap of `mapped_size_`
  size_t mapped_size_ = 0;
  std::vector<unsigned char> inflated_;
  int n_ = 0, lat0_ = 0, lon0_ = 0;
};

// The tile name for a corner, e.g. TileName(42, 1) == "N42E001".
std::string SrtmTileName(int lat0, int lon0);
// Parses a file name ("N42E001.hgt", "s12w077.hgt.zip"); false when it is not a tile name.
bool ParseSrtmTileName(const std::string& file_name, int* lat0, int* lon0, bool* zipped);

class SrtmElevation : public engine::ElevationSource {
 public:
  // Indexes `dir` and checks every tile's size. Fails when `dir` is not a readable directory
  // or a tile is malformed. A directory without tiles is valid (nothing is covered).
  static Result<std::unique_ptr<SrtmElevation>> Open(const std::string& dir);

  bool ElevationAt(double lat_deg, double lon_deg, double* elevation_m) const override;

  size_t num_tiles() const { return paths_.size(); }
  // Tiles that were asked for but are not in the directory, as names ("N43E002"), sorted.
  std::vector<std::string> MissingTiles() const;
  // Tiles that are in the directory but could not be read when first asked for (a zip whose
  // data is corrupt, a file removed meanwhile): what went wrong with each, by name. A caller
  // that needs the elevation fails on these rather than take them for missing tiles.
  std::vector<std::string> Unreadable() const override;

 private:
  SrtmElevation() = default;
  const SrtmTile* Tile(int lat0, int lon0) const;

  std::map<int, std::string> paths_;  // key: (lat0 + 90) * 360 + lon0 + 180
  uint64_t generation_ = 0;           // unique per object, for the per-thread tile cache
  mutable std::shared_mutex mu_;
  mutable std::map<int, std::unique_ptr<SrtmTile>> loaded_;  // null: missing or failed
  mutable std::map<int, std::string> failed_;                // why, for those that failed
};

}  // namespace stride::importers
