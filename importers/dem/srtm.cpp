// SPDX-License-Identifier: Apache-2.0
#include "importers/dem/srtm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "importers/dem/void_fill.hpp"

namespace stride::importers {
namespace {

constexpr size_t kBytes3 = size_t{1201} * 1201 * 2;
constexpr size_t kBytes1 = size_t{3601} * 3601 * 2;

int SamplesForBytes(uint64_t bytes) {
  if (bytes == kBytes3) return 1201;
  if (bytes == kBytes1) return 3601;
  return 0;
}

std::string SizeError(const std::string& path, uint64_t bytes) {
  return path + ": " + std::to_string(bytes) + " bytes of elevation data; expected " +
         std::to_string(kBytes3) + " (SRTM3, 1201x1201) or " + std::to_string(kBytes1) +
         " (SRTM1, 3601x3601)";
}

uint32_t Le32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint16_t Le16(const unsigned char* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

// The first entry of a zip archive whose name ends in ".hgt" (case-insensitive), from the
// central directory (sizes in local headers may be deferred to a data descriptor).
struct ZipEntry {
  uint16_t method = 0;
  uint64_t compressed = 0, uncompressed = 0, local_offset = 0;
};
Result<ZipEntry> FindHgtInZip(const std::vector<unsigned char>& z, const std::string& path) {
  if (z.size() < 22) return Status::InvalidArgument(path + ": not a zip archive (too short)");
  size_t eocd = std::string::npos;
  const size_t lowest = z.size() >= 22 + 65535 ? z.size() - 22 - 65535 : 0;
  for (size_t i = z.size() - 22 + 1; i-- > lowest;) {
    if (Le32(&z[i]) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) {
    return Status::InvalidArgument(path + ": not a zip archive (no end-of-central-directory)");
  }
  const uint16_t entries = Le16(&z[eocd + 10]);
  size_t at = Le32(&z[eocd + 16]);
  for (uint16_t k = 0; k < entries; ++k) {
    if (at + 46 > z.size() || Le32(&z[at]) != 0x02014b50) break;
    const uint16_t name_len = Le16(&z[at + 28]);
    const uint16_t extra_len = Le16(&z[at + 30]);
    const uint16_t comment_len = Le16(&z[at + 32]);
    if (at + 46 + name_len > z.size()) break;
    std::string name(reinterpret_cast<const char*>(&z[at + 46]), name_len);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".hgt") == 0) {
      ZipEntry e;
      e.method = Le16(&z[at + 10]);
      e.compressed = Le32(&z[at + 20]);
      e.uncompressed = Le32(&z[at + 24]);
      e.local_offset = Le32(&z[at + 42]);
      return e;
    }
    at += 46 + name_len + extra_len + comment_len;
  }
  return Status::InvalidArgument(path + ": zip archive holds no .hgt file");
}

Result<std::vector<unsigned char>> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open: " + std::strerror(errno));
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  return bytes;
}

Result<std::vector<unsigned char>> InflateHgt(const std::string& path) {
  Result<std::vector<unsigned char>> z = ReadWholeFile(path);
  if (!z.ok()) return z.status();
  Result<ZipEntry> e = FindHgtInZip(*z, path);
  if (!e.ok()) return e.status();
  if (!SamplesForBytes(e->uncompressed))
    return Status::InvalidArgument(SizeError(path, e->uncompressed));
  const size_t lh = e->local_offset;
  if (lh + 30 > z->size() || Le32(&(*z)[lh]) != 0x04034b50) {
    return Status::Corruption(path + ": bad zip local header at byte " + std::to_string(lh));
  }
  const size_t data = lh + 30 + Le16(&(*z)[lh + 26]) + Le16(&(*z)[lh + 28]);
  if (data + e->compressed > z->size()) {
    return Status::Corruption(path + ": zip entry runs past the end of the file (truncated?)");
  }
  std::vector<unsigned char> out(e->uncompressed);
  if (e->method == 0) {
    if (e->compressed != e->uncompressed)
      return Status::Corruption(path + ": stored size mismatch");
    std::memcpy(out.data(), z->data() + data, out.size());
    return out;
  }
  if (e->method != 8) {
    return Status::InvalidArgument(path + ": zip compression method " + std::to_string(e->method) +
                                   "; expected stored (0) or deflate (8)");
  }
  z_stream s{};
  if (inflateInit2(&s, -MAX_WBITS) != Z_OK) return Status::Internal("zlib inflateInit2 failed");
  s.next_in = z->data() + data;
  s.avail_in = static_cast<uInt>(e->compressed);
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&s, Z_FINISH);
  const size_t produced = out.size() - s.avail_out;
  inflateEnd(&s);
  if (rc != Z_STREAM_END || produced != out.size()) {
    return Status::Corruption(path + ": deflate data is corrupt or truncated (" +
                              std::to_string(produced) + " of " + std::to_string(out.size()) +
                              " bytes inflated)");
  }
  return out;
}

}  // namespace

std::string SrtmTileName(int lat0, int lon0) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%02d%c%03d", lat0 < 0 ? 'S' : 'N', std::abs(lat0),
                lon0 < 0 ? 'W' : 'E', std::abs(lon0));
  return buf;
}

bool ParseSrtmTileName(const std::string& file_name, int* lat0, int* lon0, bool* zipped) {
  std::string s = file_name;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  *zipped = false;
  if (s.size() == 15 && s.compare(7, 8, ".hgt.zip") == 0) {
    *zipped = true;
  } else if (!(s.size() == 11 && s.compare(7, 4, ".hgt") == 0)) {
    return false;
  }
  if ((s[0] != 'n' && s[0] != 's') || (s[3] != 'e' && s[3] != 'w')) return false;
  for (int i : {1, 2, 4, 5, 6}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  const int la = (s[1] - '0') * 10 + (s[2] - '0');
  const int lo = (s[4] - '0') * 100 + (s[5] - '0') * 10 + (s[6] - '0');
  if (la > 89 || lo > 180) return false;
  *lat0 = s[0] == 's' ? -la : la;
  *lon0 = s[3] == 'w' ? -lo : lo;
  return true;
}

Result<std::unique_ptr<SrtmTile>> SrtmTile::Open(const std::string& path, int lat0, int lon0) {
  std::unique_ptr<SrtmTile> t(new SrtmTile());
  t->lat0_ = lat0;
  t->lon0_ = lon0;
  std::string lower = path;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.size() > 4 && lower.compare(lower.size() - 4, 4, ".zip") == 0) {
    Result<std::vector<unsigned char>> bytes = InflateHgt(path);
    if (!bytes.ok()) return bytes.status();
    t->inflated_ = std::move(bytes).value();
    t->bytes_ = t->inflated_.data();
    t->n_ = SamplesForBytes(t->inflated_.size());
    return t;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Status::IoError(path + ": cannot stat: " + std::strerror(errno));
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  t->n_ = SamplesForBytes(size);
  if (t->n_ == 0) {
    ::close(fd);
    return Status::InvalidArgument(SizeError(path, size));
  }
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return Status::IoError(path + ": mmap failed: " + std::strerror(errno));
  t->mapped_ = m;
  t->mapped_size_ = size;
  t->bytes_ = static_cast<const unsigned char*>(m);
  return t;
}

SrtmTile::~SrtmTile() {
  if (mapped_) ::munmap(mapped_, mapped_size_);
}

double SrtmTile::FilledSample(int row, int col, bool* ok) const {
  return FillVoid(
      col, row, n_, n_,
      [this](int x, int y, double* v) {
        const int16_t s = Sample(y, x);
        *v = s;
        return s != kSrtmVoid;
      },
      ok);
}

bool SrtmTile::ElevationAt(double lat_deg, double lon_deg, double* elevation_m) const {
  const double fy = (lat0_ + 1 - lat_deg) * (n_ - 1);
  const double fx = (lon_deg - lon0_) * (n_ - 1);
  if (!(fy >= 0 && fy <= n_ - 1 && fx >= 0 && fx <= n_ - 1)) return false;
  const int r0 = std::min(static_cast<int>(fy), n_ - 2);
  const int c0 = std::min(static_cast<int>(fx), n_ - 2);
  const double ty = fy - r0, tx = fx - c0;
  bool ok = true;
  const double v00 = FilledSample(r0, c0, &ok), v01 = FilledSample(r0, c0 + 1, &ok);
  const double v10 = FilledSample(r0 + 1, c0, &ok), v11 = FilledSample(r0 + 1, c0 + 1, &ok);
  if (!ok) return false;
  *elevation_m = (v00 * (1 - tx) + v01 * tx) * (1 - ty) + (v10 * (1 - tx) + v11 * tx) * ty;
  return true;
}

Result<std::unique_ptr<SrtmElevation>> SrtmElevation::Open(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::NotFound("--dem " + dir + ": not a directory");
  }
  std::unique_ptr<SrtmElevation> e(new SrtmElevation());
  static std::atomic<uint64_t> generations{0};
  e->generation_ = ++generations;  // a new object at a freed one's address is not mistaken
  std::filesystem::directory_iterator it(dir, ec), end;
  if (ec) return Status::IoError("--dem " + dir + ": cannot list: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::IoError("--dem " + dir + ": cannot list: " + ec.message());
    int lat0, lon0;
    bool zipped;
    const std::string name = it->path().filename().string();
    if (!ParseSrtmTileName(name, &lat0, &lon0, &zipped)) continue;
    const std::string path = it->path().string();
    if (zipped) {
      Result<std::vector<unsigned char>> z = ReadWholeFile(path);
      if (!z.ok()) return z.status();
      Result<ZipEntry> entry = FindHgtInZip(*z, path);
      if (!entry.ok()) return entry.status();
      if (!SamplesForBytes(entry->uncompressed)) {
        return Status::InvalidArgument(SizeError(path, entry->uncompressed));
      }
    } else {
      const uint64_t size = std::filesystem::file_size(it->path(), ec);
      if (ec) return Status::IoError(path + ": " + ec.message());
      if (!SamplesForBytes(size)) return Status::InvalidArgument(SizeError(path, size));
    }
    const int key = (lat0 + 90) * 360 + lon0 + 180;
    // A plain tile wins over a zipped one of the same name (no inflating needed).
    if (!zipped || !e->paths_.count(key)) e->paths_[key] = path;
  }
  return e;
}

const SrtmTile* SrtmElevation::Tile(int lat0, int lon0) const {
  const int key = (lat0 + 90) * 360 + lon0 + 180;
  {
    std::shared_lock lock(mu_);
    auto it = loaded_.find(key);
    if (it != loaded_.end()) return it->second.get();
  }
  std::unique_lock lock(mu_);
  auto it = loaded_.find(key);
  if (it != loaded_.end()) return it->second.get();
  std::unique_ptr<SrtmTile> tile;
  auto p = paths_.find(key);
  if (p != paths_.end()) {
    Result<std::unique_ptr<SrtmTile>> t = SrtmTile::Open(p->second, lat0, lon0);
    if (t.ok()) {
      tile = std::move(t).value();
    } else {
      failed_[key] = t.status().message();
    }
  }
  const SrtmTile* raw = tile.get();
  loaded_[key] = std::move(tile);
  return raw;
}

bool SrtmElevation::ElevationAt(double lat_deg, double lon_deg, double* elevation_m) const {
  if (!(lat_deg >= -90 && lat_deg < 90 && lon_deg >= -180 && lon_deg < 180)) return false;
  const int lat0 = static_cast<int>(std::floor(lat_deg));
  const int lon0 = static_cast<int>(std::floor(lon_deg));
  // Consecutive lookups nearly always hit the same tile: remember it per thread, so the
  // shared lock (a contended cache line across workers) is taken once per tile change.
  struct LastTile {
    const SrtmElevation* owner = nullptr;
    uint64_t generation = 0;
    int lat0 = 0, lon0 = 0;
    const SrtmTile* tile = nullptr;
  };
  thread_local LastTile last;
  const SrtmTile* t;
  if (last.owner == this && last.generation == generation_ && last.lat0 == lat0 &&
      last.lon0 == lon0) {
    t = last.tile;
  } else {
    t = Tile(lat0, lon0);
    last = {this, generation_, lat0, lon0, t};
  }
  return t != nullptr && t->ElevationAt(lat_deg, lon_deg, elevation_m);
}

std::vector<std::string> SrtmElevation::MissingTiles() const {
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  for (const auto& [key, tile] : loaded_) {
    if (tile || failed_.count(key)) continue;
    out.push_back(SrtmTileName(key / 360 - 90, key % 360 - 180));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SrtmElevation::Unreadable() const {
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  for (const auto& [key, why] : failed_) out.push_back(why);
  return out;
}

}  // namespace stride::importers
