// SPDX-License-Identifier: Apache-2.0
#include "importers/dem/srtm.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "tests/support/datasets.hpp"

namespace stride::importers {
namespace {

namespace fs = std::filesystem;

// A synthetic SRTM3 tile: elevation = 1000 + row + 2 * col (a plane), with voids where asked.
std::vector<unsigned char> PlaneTile(const std::vector<std::pair<int, int>>& voids = {}) {
  const int n = 1201;
  std::vector<unsigned char> b(static_cast<size_t>(n) * n * 2);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) {
      int v = 1000 + r + 2 * c;
      for (auto [vr, vc] : voids) {
        if (vr == r && vc == c) v = kSrtmVoid;
      }
      const auto u = static_cast<uint16_t>(static_cast<int16_t>(v));
      b[(static_cast<size_t>(r) * n + c) * 2] = static_cast<unsigned char>(u >> 8);
      b[(static_cast<size_t>(r) * n + c) * 2 + 1] = static_cast<unsigned char>(u & 0xff);
    }
  }
  return b;
}

std::string TempDir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/srtm_" + name + "_" + std::to_string(::getpid());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void WriteFile(const std::string& path, const std::vector<unsigned char>& b) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void Le(std::vector<unsigned char>& o, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) o.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// A one-entry zip archive (deflated), written the way zip tools do.
std::vector<unsigned char> Zip(const std::string& name, const std::vector<unsigned char>& data) {
  std::vector<unsigned char> comp(compressBound(static_cast<uLong>(data.size())));
  z_stream s{};
  deflateInit2(&s, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  s.next_in = const_cast<unsigned char*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = comp.data();
  s.avail_out = static_cast<uInt>(comp.size());
  deflate(&s, Z_FINISH);
  comp.resize(s.total_out);
  deflateEnd(&s);
  const uint32_t crc = crc32(0, data.data(), static_cast<uInt>(data.size()));
  std::vector<unsigned char> z;
  Le(z, 0x04034b50, 4), Le(z, 20, 2), Le(z, 0, 2), Le(z, 8, 2), Le(z, 0, 4), Le(z, crc, 4);
  Le(z, static_cast<uint32_t>(comp.size()), 4), Le(z, static_cast<uint32_t>(data.size()), 4);
  Le(z, static_cast<uint32_t>(name.size()), 2), Le(z, 0, 2);
  z.insert(z.end(), name.begin(), name.end());
  z.insert(z.end(), comp.begin(), comp.end());
  const auto cd = static_cast<uint32_t>(z.size());
  Le(z, 0x02014b50, 4), Le(z, 20, 2), Le(z, 20, 2), Le(z, 0, 2), Le(z, 8, 2), Le(z, 0, 4);
  Le(z, crc, 4), Le(z, static_cast<uint32_t>(comp.size()), 4);
  Le(z, static_cast<uint32_t>(data.size()), 4), Le(z, static_cast<uint32_t>(name.size()), 2);
  Le(z, 0, 2), Le(z, 0, 2), Le(z, 0, 2), Le(z, 0, 2), Le(z, 0, 4), Le(z, 0, 4);
  z.insert(z.end(), name.begin(), name.end());
  const auto cd_size = static_cast<uint32_t>(z.size()) - cd;
  Le(z, 0x06054b50, 4), Le(z, 0, 2), Le(z, 0, 2), Le(z, 1, 2), Le(z, 1, 2), Le(z, cd_size, 4);
  Le(z, cd, 4), Le(z, 0, 2);
  return z;
}

TEST(SrtmTileName, FormatsAndParses) {
  EXPECT_EQ(SrtmTileName(42, 1), "N42E001");
  EXPECT_EQ(SrtmTileName(-12, -77), "S12W077");
  int lat, lon;
  bool zipped;
  ASSERT_TRUE(ParseSrtmTileName("s12w077.hgt.zip", &lat, &lon, &zipped));
  EXPECT_EQ(lat, -12);
  EXPECT_EQ(lon, -77);
  EXPECT_TRUE(zipped);
  EXPECT_FALSE(ParseSrtmTileName("N42E001.tif", &lat, &lon, &zipped));
  EXPECT_FALSE(ParseSrtmTileName("X42E001.hgt", &lat, &lon, &zipped));
}

TEST(SrtmElevation, BilinearOnAPlaneIsExact) {
  const std::string dir = TempDir("plane");
  WriteFile(dir + "/N42E001.hgt", PlaneTile());
  Result<std::unique_ptr<SrtmElevation>> dem = SrtmElevation::Open(dir);
  ASSERT_TRUE(dem.ok()) << dem.status().message();
  double h = 0;
  // Row r is at lat 43 - r/1200, column c at lon 1 + c/1200.
  const double r = 300.25, c = 700.5;
  ASSERT_TRUE((*dem)->ElevationAt(43.0 - r / 1200.0, 1.0 + c / 1200.0, &h));
  EXPECT_NEAR(h, 1000 + r + 2 * c, 1e-6);
  ASSERT_TRUE((*dem)->ElevationAt(42.0, 2.0 - 1e-12, &h));  // south-east corner
  EXPECT_NEAR(h, 1000 + 1200 + 2 * 1200, 1e-3);
  EXPECT_FALSE((*dem)->ElevationAt(44.5, 1.5, &h));  // no tile there
  EXPECT_EQ((*dem)->MissingTiles(), (std::vector<std::string>{"N44E001"}));
}

TEST(SrtmElevation, VoidsAreFilledFromNeighbours) {
  const std::string dir = TempDir("void");
  WriteFile(dir + "/N42E001.hgt", PlaneTile({{600, 600}}));
  Result<std::unique_ptr<SrtmElevation>> dem = SrtmElevation::Open(dir);
  ASSERT_TRUE(dem.ok());
  double h = 0;
  ASSERT_TRUE((*dem)->ElevationAt(43.0 - 600 / 1200.0, 1.0 + 600 / 1200.0, &h));
  // The ring around (600, 600) on a plane averages (inverse-distance, symmetric) to the plane.
  EXPECT_NEAR(h, 1000 + 600 + 1200, 1e-6);
}

TEST(SrtmElevation, ReadsZippedTiles) {
  const std::string dir = TempDir("zip");
  WriteFile(dir + "/N42E001.hgt.zip", Zip("N42E001.hgt", PlaneTile()));
  Result<std::unique_ptr<SrtmElevation>> dem = SrtmElevation::Open(dir);
  ASSERT_TRUE(dem.ok()) << dem.status().message();
  double h = 0;
  ASSERT_TRUE((*dem)->ElevationAt(43.0 - 10 / 1200.0, 1.0 + 20 / 1200.0, &h));
  EXPECT_NEAR(h, 1000 + 10 + 40, 1e-6);
}

TEST(SrtmElevation, AZippedTileThatCannotBeInflatedIsUnreadableNotMissing) {
  // The archive's directory is fine (Open checks it), its deflated data is not: before, the
  // tile was taken for a missing one, and an import said "no DEM tile for N42E001".
  const std::string dir = TempDir("zipbad");
  std::vector<unsigned char> z = Zip("N42E001.hgt", PlaneTile());
  const size_t data = 30 + std::string("N42E001.hgt").size();
  for (size_t i = data + 8; i < data + 40; ++i) z[i] ^= 0x5A;
  WriteFile(dir + "/N42E001.hgt.zip", z);
  Result<std::unique_ptr<SrtmElevation>> dem = SrtmElevation::Open(dir);
  ASSERT_TRUE(dem.ok()) << dem.status().message();
  EXPECT_TRUE((*dem)->Unreadable().empty());  // nothing asked for yet
  double h = 0;
  EXPECT_FALSE((*dem)->ElevationAt(42.5, 1.5, &h));
  EXPECT_TRUE((*dem)->MissingTiles().empty());
  const std::vector<std::string> bad = (*dem)->Unreadable();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find(dir + "/N42E001.hgt.zip: "), std::string::npos) << bad[0];
  // A tile that is not there is missing, not unreadable.
  EXPECT_FALSE((*dem)->ElevationAt(44.5, 1.5, &h));
  EXPECT_EQ((*dem)->MissingTiles(), std::vector<std::string>{"N44E001"});
  EXPECT_EQ((*dem)->Unreadable().size(), 1u);
}

TEST(SrtmElevation, WrongSizeOrMissingDirectoryIsAnError) {
  const std::string dir = TempDir("bad");
  WriteFile(dir + "/N42E001.hgt", std::vector<unsigned char>(1000, 0));
  Result<std::unique_ptr<SrtmElevation>> dem = SrtmElevation::Open(dir);
  ASSERT_FALSE(dem.ok());
  EXPECT_NE(dem.status().message().find("N42E001.hgt: 1000 bytes"), std::string::npos);
  EXPECT_NE(dem.status().message().find("2884802"), std::string::npos);
  EXPECT_FALSE(SrtmElevation::Open(dir + "/nope").ok());
}

TEST(SrtmElevation, SharedAndorraTileMatchesAKnownSummit) {
  STRIDE_REQUIRE_DATASETS();
  Result<std::unique_ptr<SrtmElevation>> dem =
      SrtmElevation::Open(stride::testing::DatasetsDir() + "/dem");
  ASSERT_TRUE(dem.ok());
  double h = 0;
  // Comapedrosa, the highest point of Andorra (2942 m); SRTM's 90 m cells flatten summits a
  // little, its highest sample there is at 42.5917 N 1.4433 E.
  ASSERT_TRUE((*dem)->ElevationAt(42.5917, 1.4433, &h));
  EXPECT_NEAR(h, 2942, 40);
}

}  // namespace
}  // namespace stride::importers
