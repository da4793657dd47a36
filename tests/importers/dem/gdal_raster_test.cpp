// SPDX-License-Identifier: Apache-2.0
//
// Elevation from GeoTIFF: rasters written here with GDAL (a plane in UTM with nodata, scale and
// offset, checked against PROJ's own projection of each point), the shared Andorra GeoTIFF
// against the shared SRTM tile of the same data, a UTM reprojection of it (GDALWarp), and the
// priority of sources in an ElevationStack.
#include "importers/dem/gdal_raster.hpp"

#include <gdal.h>
#include <gdal_utils.h>
#include <gtest/gtest.h>
#include <ogr_srs_api.h>
#include <proj.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "datasets/synthetic_osm.hpp"
#include "importers/dem/elevation_stack.hpp"
#include "importers/dem/srtm.hpp"
#include "tests/support/datasets.hpp"

namespace stride::importers {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  const std::string d = ::testing::TempDir() + "/gdal_" + name + "_" + std::to_string(::getpid());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// UTM zone 31N (EPSG:32631) of a WGS84 point, by PROJ: the reference the raster code is checked
// against (it transforms through GDAL's OGR).
struct Utm {
  PJ_CONTEXT* ctx = proj_context_create();
  PJ* pj = nullptr;
  Utm() {
    PJ* raw = proj_create_crs_to_crs(ctx, "EPSG:4326", "EPSG:32631", nullptr);
    pj = proj_normalize_for_visualization(ctx, raw);  // lon, lat in; easting, northing out
    proj_destroy(raw);
  }
  ~Utm() {
    proj_destroy(pj);
    proj_context_destroy(ctx);
  }
  void operator()(double lat, double lon, double* e, double* n) const {
    const PJ_COORD c = proj_trans(pj, PJ_FWD, proj_coord(lon, lat, 0, 0));
    *e = c.xy.x;
    *n = c.xy.y;
  }
};

// A 400 x 300 Int16 raster of 10 m pixels in UTM 31N whose elevation is the plane
// 800 + 0.01 * (easting - e0) - 0.02 * (northing - n0), stored as (value - 500) / 0.1
// (scale 0.1, offset 500), with a nodata block at pixels [100, 110) x [50, 60).
constexpr double kE0 = 380000, kN0 = 4710000, kPixel = 10;
double Plane(double e, double n) {
  return 800 + 0.01 * (e - kE0) - 0.02 * (n - kN0);
}
void WritePlaneRaster(const std::string& path) {
  GDALAllRegister();
  GDALDriverH drv = GDALGetDriverByName("GTiff");
  ASSERT_NE(drv, nullptr);
  const int w = 400, h = 300;
  GDALDatasetH ds = GDALCreate(drv, path.c_str(), w, h, 1, GDT_Int16, nullptr);
  ASSERT_NE(ds, nullptr);
  double gt[6] = {kE0, kPixel, 0, kN0, 0, -kPixel};
  GDALSetGeoTransform(ds, gt);
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  OSRImportFromEPSG(srs, 32631);
  GDALSetSpatialRef(ds, srs);
  OSRDestroySpatialReference(srs);
  GDALRasterBandH band = GDALGetRasterBand(ds, 1);
  GDALSetRasterNoDataValue(band, -32768);
  GDALSetRasterScale(band, 0.1);
  GDALSetRasterOffset(band, 500);
  std::vector<int16_t> v(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double e = kE0 + (x + 0.5) * kPixel, n = kN0 - (y + 0.5) * kPixel;
      const bool hole = x >= 100 && x < 110 && y >= 50 && y < 60;
      v[static_cast<size_t>(y) * w + x] =
          hole ? -32768 : static_cast<int16_t>(std::lround((Plane(e, n) - 500) / 0.1));
    }
  }
  ASSERT_EQ(GDALRasterIO(band, GF_Write, 0, 0, w, h, v.data(), w, h, GDT_Int16, 0, 0), CE_None);
  GDALClose(ds);
}

TEST(GdalElevation, AProjectedRasterGivesThePlaneAtPROJsProjectionOfEachPoint) {
  const std::string dir = TempDir("plane");
  WritePlaneRaster(dir + "/plane.tif");
  Result<std::unique_ptr<GdalElevation>> dem = GdalElevation::Open(dir + "/plane.tif");
  ASSERT_TRUE(dem.ok()) << dem.status().message();
  EXPECT_EQ((*dem)->num_rasters(), 1u);
  EXPECT_NE((*dem)->Describe().find("400 x 300 px, WGS 84 / UTM zone 31N"), std::string::npos)
      << (*dem)->Describe();
  // Points over the raster, away from its edge and the hole: the plane to the 0.1 m of the
  // stored values (bilinear interpolation of a plane is exact).
  const Utm utm;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  int checked = 0;
  for (int i = 0; i < 2000; ++i) {
    // A point inside the raster, drawn in UTM and mapped back to WGS84 by PROJ.
    const double e = kE0 + 20 + u(rng) * (400 * kPixel - 40);
    const double n = kN0 - 20 - u(rng) * (300 * kPixel - 40);
    const PJ_COORD g = proj_trans(utm.pj, PJ_INV, proj_coord(e, n, 0, 0));
    const double lon = g.lp.lam, lat = g.lp.phi;
    const double px = (e - kE0) / kPixel, py = (kN0 - n) / kPixel;
    if (px > 97 && px < 113 && py > 47 && py < 63) continue;  // near the hole
    double h = 0;
    ASSERT_TRUE((*dem)->ElevationAt(lat, lon, &h)) << lat << "," << lon;
    double e2 = 0, n2 = 0;
    utm(lat, lon, &e2, &n2);
    ASSERT_NEAR(h, Plane(e2, n2), 0.06) << lat << "," << lon;
    ++checked;
  }
  EXPECT_GT(checked, 1800);
  // Inside the nodata block: filled from the nearest valid ring (5 pixels out, on two sides,
  // so within a metre of the plane); on its edge, a blend of a value and a fill.
  const PJ_COORD hole =
      proj_trans(utm.pj, PJ_INV, proj_coord(kE0 + 105 * kPixel, kN0 - 55 * kPixel, 0, 0));
  double h = 0;
  ASSERT_TRUE((*dem)->ElevationAt(hole.lp.phi, hole.lp.lam, &h));
  EXPECT_NEAR(h, Plane(kE0 + 105 * kPixel, kN0 - 55 * kPixel), 1.5);
  const PJ_COORD edge =
      proj_trans(utm.pj, PJ_INV, proj_coord(kE0 + 99.9 * kPixel, kN0 - 55 * kPixel, 0, 0));
  ASSERT_TRUE((*dem)->ElevationAt(edge.lp.phi, edge.lp.lam, &h));
  EXPECT_NEAR(h, Plane(kE0 + 99.9 * kPixel, kN0 - 55 * kPixel), 1.0);
  // Outside the raster: not covered (the next source will be asked).
  EXPECT_FALSE((*dem)->ElevationAt(42.0, 1.0, &h));
  EXPECT_FALSE((*dem)->ElevationAt(hole.lp.phi + 0.2, hole.lp.lam, &h));
  fs::remove_all(dir);
}

TEST(GdalElevation, BadInputIsAnErrorThatNamesTheFile) {
  const std::string dir = TempDir("bad");
  std::ofstream(dir + "/broken.tif") << "II*\0 not really a tiff";
  Result<std::unique_ptr<GdalElevation>> r = GdalElevation::Open(dir + "/broken.tif");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(dir + "/broken.tif: not a raster GDAL reads"),
            std::string::npos)
      << r.status().message();
  // A file no driver recognises: GDAL says nothing, the message says what was expected.
  std::ofstream(dir + "/text.tif") << "x\n";
  r = GdalElevation::Open(dir + "/text.tif");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("text.tif: not a raster GDAL reads (no driver recognises "
                                      "the file: expected a GeoTIFF"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("()"), std::string::npos) << r.status().message();
  r = GdalElevation::Open(dir + "/missing.tif");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  fs::create_directories(dir + "/empty");
  r = GdalElevation::Open(dir + "/empty");
  EXPECT_NE(r.status().message().find("no raster"), std::string::npos);
  // A raster without a CRS cannot be placed.
  GDALAllRegister();
  GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), (dir + "/nocrs.tif").c_str(), 4, 4, 1,
                               GDT_Float32, nullptr);
  double gt[6] = {0, 1, 0, 0, 0, -1};
  GDALSetGeoTransform(ds, gt);
  GDALClose(ds);
  r = GdalElevation::Open(dir + "/nocrs.tif");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no coordinate reference system"), std::string::npos)
      << r.status().message();
  Result<std::unique_ptr<ElevationStack>> s = ElevationStack::Open(dir + "/notes.txt");
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  std::ofstream(dir + "/notes.txt") << "x";
  s = ElevationStack::Open(dir + "/notes.txt");
  EXPECT_NE(s.status().message().find("expected a folder of SRTM tiles or a raster"),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(GdalElevation, ARasterWhosePixelsCannotBeReadIsReportedUnreadable) {
  // A header GDAL reads and pixels it cannot (a copy cut short): the points inside got no
  // elevation, and nothing said so.
  const std::string dir = TempDir("cut");
  WritePlaneRaster(dir + "/plane.tif");
  const uintmax_t full = fs::file_size(dir + "/plane.tif");
  Result<std::unique_ptr<GdalElevation>> whole = GdalElevation::Open(dir + "/plane.tif");
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  const Utm utm;  // a point inside the plane, away from its hole
  const PJ_COORD g = proj_trans(utm.pj, PJ_INV, proj_coord(kE0 + 2000, kN0 - 1000, 0, 0));
  const double lat = g.lp.phi, lon = g.lp.lam;
  double h = 0;
  ASSERT_TRUE((*whole)->ElevationAt(lat, lon, &h));
  EXPECT_NEAR(h, Plane(kE0 + 2000, kN0 - 1000), 0.2);
  EXPECT_TRUE((*whole)->Unreadable().empty());
  whole->reset();
  // Keep the header (the IFD that GDAL writes first) and cut the pixel data short.
  std::string bytes;
  {
    std::ifstream in(dir + "/plane.tif", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_EQ(bytes.size(), full);
  std::ofstream(dir + "/cut.tif", std::ios::binary).write(bytes.data(), 4096);
  Result<std::unique_ptr<GdalElevation>> cut = GdalElevation::Open(dir + "/cut.tif");
  ASSERT_TRUE(cut.ok()) << cut.status().message();
  EXPECT_TRUE((*cut)->Unreadable().empty());  // pixels are read when first needed
  EXPECT_FALSE((*cut)->ElevationAt(lat, lon, &h));
  const std::vector<std::string> bad = (*cut)->Unreadable();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find(dir + "/cut.tif: cannot read its pixels: "), std::string::npos) << bad[0];
  fs::remove_all(dir);
}

// Points over Andorra where `a` and `b` both have an elevation: the differences.
std::vector<double> Differences(const engine::ElevationSource& a, const engine::ElevationSource& b,
                                int* covered) {
  std::vector<double> d;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> lat(42.42, 42.66), lon(1.40, 1.80);
  *covered = 0;
  for (int i = 0; i < 5000; ++i) {
    const double la = lat(rng), lo = lon(rng);
    double ha = 0, hb = 0;
    if (!a.ElevationAt(la, lo, &ha)) continue;
    ++*covered;
    if (b.ElevationAt(la, lo, &hb)) d.push_back(std::abs(ha - hb));
  }
  std::sort(d.begin(), d.end());
  return d;
}

TEST(GdalElevation, SharedGeoTiffGivesTheSrtmTilesElevations) {
  STRIDE_REQUIRE_DATASETS();
  const std::string tif = testing::DatasetsDir() + "/dem/andorra_srtm3_crop.tif";
  Result<std::unique_ptr<GdalElevation>> g = GdalElevation::Open(tif);
  ASSERT_TRUE(g.ok()) << g.status().message();
  Result<std::unique_ptr<SrtmElevation>> s = SrtmElevation::Open(testing::DatasetsDir() + "/dem");
  ASSERT_TRUE(s.ok());
  int covered = 0;
  const std::vector<double> d = Differences(**g, **s, &covered);
  ASSERT_GT(covered, 1000) << "the crop covers little of Andorra";
  ASSERT_EQ(d.size(), static_cast<size_t>(covered));  // the tile covers all the crop does
  EXPECT_LT(d.back(), 1.0) << "max |GeoTIFF - SRTM| over " << covered << " points";
  std::printf("GeoTIFF vs SRTM tile, %d points: median %.3f m, max %.3f m\n", covered,
              d[d.size() / 2], d.back());
}

TEST(GdalElevation, AUtmReprojectionGivesTheSameElevationsWithinItsResampling) {
  STRIDE_REQUIRE_DATASETS();
  const std::string dir = TempDir("warp");
  const std::string tif = testing::DatasetsDir() + "/dem/andorra_srtm3_crop.tif";
  GDALAllRegister();
  GDALDatasetH src = GDALOpen(tif.c_str(), GA_ReadOnly);
  ASSERT_NE(src, nullptr);
  // 30 m pixels in UTM 31N, bilinear: finer than the 3" (~70 x 90 m) source, so the copy
  // differs from it by its resampling only.
  const char* args[] = {"-t_srs", "EPSG:32631", "-r", "bilinear", "-tr", "30", "30", nullptr};
  GDALWarpAppOptions* o = GDALWarpAppOptionsNew(const_cast<char**>(args), nullptr);
  int usage_error = 0;
  GDALDatasetH out = GDALWarp((dir + "/utm.tif").c_str(), nullptr, 1, &src, o, &usage_error);
  GDALWarpAppOptionsFree(o);
  ASSERT_NE(out, nullptr);
  GDALClose(out);
  GDALClose(src);

  Result<std::unique_ptr<GdalElevation>> g = GdalElevation::Open(tif);
  Result<std::unique_ptr<GdalElevation>> u = GdalElevation::Open(dir + "/utm.tif");
  ASSERT_TRUE(g.ok() && u.ok()) << u.status().message();
  EXPECT_NE((*u)->Describe().find("UTM zone 31N"), std::string::npos);
  int covered = 0;
  const std::vector<double> d = Differences(**g, **u, &covered);
  ASSERT_GT(d.size(), static_cast<size_t>(covered) * 95 / 100);
  // Bilinear of a bilinear surface in steep terrain: a few metres at most, mostly less.
  std::printf("UTM 30 m copy vs GeoTIFF, %zu points: median %.2f m, 95th %.2f m, max %.2f m\n",
              d.size(), d[d.size() / 2], d[d.size() * 95 / 100], d.back());
  EXPECT_LT(d[d.size() / 2], 2.0) << "median";
  EXPECT_LT(d[d.size() * 95 / 100], 6.0) << "95th percentile";
  fs::remove_all(dir);
}

TEST(ElevationStack, TheFirstSourceThatCoversAPointGivesItsElevation) {
  const std::string dir = TempDir("stack");
  WritePlaneRaster(dir + "/fine.tif");
  // SRTM tiles of the synthetic terrain around the plane raster (42.5 N, 1.5 E).
  engine::BoxE7 box;
  box.min_lat = 424000000;
  box.max_lat = 426000000;
  box.min_lon = 14000000;
  box.max_lon = 16000000;
  fs::create_directories(dir + "/srtm");
  ASSERT_TRUE(datasets::WriteSyntheticDem(dir + "/srtm", box).ok());
  Result<std::unique_ptr<ElevationStack>> s =
      ElevationStack::Open(dir + "/fine.tif," + dir + "/srtm");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)->num_sources(), 2u);
  EXPECT_NE((*s)->Describe().find("srtm: SRTM, 1 tile"), std::string::npos) << (*s)->Describe();
  const Utm utm;
  // Inside the fine raster: the plane, not the terrain.
  const PJ_COORD in = proj_trans(utm.pj, PJ_INV, proj_coord(kE0 + 2000, kN0 - 1000, 0, 0));
  double h = 0;
  ASSERT_TRUE((*s)->ElevationAt(in.lp.phi, in.lp.lam, &h));
  EXPECT_NEAR(h, Plane(kE0 + 2000, kN0 - 1000), 0.06);
  // Outside it: the synthetic terrain from the tiles.
  ASSERT_TRUE((*s)->ElevationAt(42.45, 1.45, &h));
  EXPECT_NEAR(h, datasets::SyntheticElevation(42.45, 1.45), 3.0);
  // The other order: the tiles cover both points, so the raster is never asked.
  s = ElevationStack::Open(dir + "/srtm," + dir + "/fine.tif");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->ElevationAt(in.lp.phi, in.lp.lam, &h));
  EXPECT_NEAR(h, datasets::SyntheticElevation(in.lp.phi, in.lp.lam), 3.0);
  // A folder holding the raster: the same as naming the file.
  s = ElevationStack::Open(dir);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)->tiles_and_rasters(), 1u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stride::importers
