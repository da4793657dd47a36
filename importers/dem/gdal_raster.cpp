// SPDX-License-Identifier: Apache-2.0
#include "importers/dem/gdal_raster.hpp"

#include <dlfcn.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "importers/dem/void_fill.hpp"

#ifndef STRIDE_GDAL_SONAME
#error "the build defines STRIDE_GDAL_SONAME (libgdal's soname, e.g. libgdal.so.32)"
#endif

namespace stride::importers {
namespace {

namespace fs = std::filesystem;

// The part of GDAL's C API used here, resolved from the loaded library. The declarations come
// from GDAL's own headers, so a signature cannot drift.
struct GdalApi {
  decltype(&GDALAllRegister) AllRegister;
  decltype(&GDALOpenEx) OpenEx;
  decltype(&GDALClose) Close;
  decltype(&GDALGetRasterXSize) RasterXSize;
  decltype(&GDALGetRasterYSize) RasterYSize;
  decltype(&GDALGetRasterCount) RasterCount;
  decltype(&GDALGetGeoTransform) GetGeoTransform;
  decltype(&GDALGetSpatialRef) GetSpatialRef;
  decltype(&GDALGetRasterBand) GetRasterBand;
  decltype(&GDALGetRasterNoDataValue) NoDataValue;
  decltype(&GDALGetRasterScale) Scale;
  decltype(&GDALGetRasterOffset) Offset;
  decltype(&GDALRasterIO) RasterIO;
  decltype(&CPLGetLastErrorMsg) LastErrorMsg;
  decltype(&CPLSetErrorHandler) SetErrorHandler;
  decltype(&CPLQuietErrorHandler) QuietErrorHandler;
  decltype(&OSRNewSpatialReference) NewSrs;
  decltype(&OSRImportFromEPSG) ImportFromEpsg;
  decltype(&OSRSetAxisMappingStrategy) SetAxisMapping;
  decltype(&OSRClone) CloneSrs;
  decltype(&OSRDestroySpatialReference) DestroySrs;
  decltype(&OSRGetName) SrsName;
  decltype(&OCTNewCoordinateTransformation) NewTransform;
  decltype(&OCTTransform) Transform;
  decltype(&OCTDestroyCoordinateTransformation) DestroyTransform;
};

// Loads libgdal once per process; null with *error set when it cannot.
const GdalApi* Gdal(std::string* error) {
  static GdalApi api;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = ::dlopen(STRIDE_GDAL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      failure = std::string("GeoTIFF elevation needs GDAL (" STRIDE_GDAL_SONAME
                            ", Debian package libgdal32): ") +
                ::dlerror();
      return;
    }
    bool ok = true;
    auto get = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
      if (fn == nullptr) {
        ok = false;
        failure = std::string(STRIDE_GDAL_SONAME " lacks ") + name;
      }
    };
    get(api.AllRegister, "GDALAllRegister");
    get(api.OpenEx, "GDALOpenEx");
    get(api.Close, "GDALClose");
    get(api.RasterXSize, "GDALGetRasterXSize");
    get(api.RasterYSize, "GDALGetRasterYSize");
    get(api.RasterCount, "GDALGetRasterCount");
    get(api.GetGeoTransform, "GDALGetGeoTransform");
    get(api.GetSpatialRef, "GDALGetSpatialRef");
    get(api.GetRasterBand, "GDALGetRasterBand");
    get(api.NoDataValue, "GDALGetRasterNoDataValue");
    get(api.Scale, "GDALGetRasterScale");
    get(api.Offset, "GDALGetRasterOffset");
    get(api.RasterIO, "GDALRasterIO");
    get(api.LastErrorMsg, "CPLGetLastErrorMsg");
    get(api.SetErrorHandler, "CPLSetErrorHandler");
    get(api.QuietErrorHandler, "CPLQuietErrorHandler");
    get(api.NewSrs, "OSRNewSpatialReference");
    get(api.ImportFromEpsg, "OSRImportFromEPSG");
    get(api.SetAxisMapping, "OSRSetAxisMappingStrategy");
    get(api.CloneSrs, "OSRClone");
    get(api.DestroySrs, "OSRDestroySpatialReference");
    get(api.SrsName, "OSRGetName");
    get(api.NewTransform, "OCTNewCoordinateTransformation");
    get(api.Transform, "OCTTransform");
    get(api.DestroyTransform, "OCTDestroyCoordinateTransformation");
    if (!ok) return;
    api.AllRegister();
    // Errors are read back with CPLGetLastErrorMsg and reported as a Status, not printed.
    api.SetErrorHandler(api.QuietErrorHandler);
    failure.clear();
  });
  if (!failure.empty() || api.Transform == nullptr) {
    *error = failure;
    return nullptr;
  }
  return &api;
}

}  // namespace

struct GdalElevation::Raster {
  const GdalApi* gdal = nullptr;
  std::string path;
  int width = 0, height = 0;
  double gt[6] = {};  // GDAL's geotransform: pixel corner -> CRS coordinates
  bool has_nodata = false;
  float nodata = 0;
  double scale = 1, offset = 0;
  double min_lat = 0, max_lat = 0, min_lon = 0, max_lon = 0;  // footprint, WGS84
  std::string crs_name;
  OGRSpatialReferenceH wgs84 = nullptr, crs = nullptr;

  // WGS84 -> raster CRS transformations, one per concurrent caller.
  mutable std::mutex pool_mu;
  mutable std::vector<OGRCoordinateTransformationH> pool;

  mutable std::once_flag loaded;
  mutable std::vector<float> pixels;  // row-major, row 0 at gt's origin
  mutable std::mutex error_mu;
  mutable std::string load_error;  // under error_mu

  ~Raster() {
    for (OGRCoordinateTransformationH t : pool) gdal->DestroyTransform(t);
    if (crs != nullptr) gdal->DestroySrs(crs);
    if (wgs84 != nullptr) gdal->DestroySrs(wgs84);
  }

  // Longitude/latitude to pixel coordinates (x right, y down; pixel (0,0) spans [0,1)²).
  bool ToPixel(double lat, double lon, double* px, double* py) const {
    OGRCoordinateTransformationH t = nullptr;
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      if (!pool.empty()) {
        t = pool.back();
        pool.pop_back();
      }
    }
    if (t == nullptr) t = gdal->NewTransform(wgs84, crs);
    if (t == nullptr) return false;
    double x = lon, y = lat, z = 0;
    const bool ok = gdal->Transform(t, 1, &x, &y, &z) != 0;
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      pool.push_back(t);
    }
    if (!ok) return false;
    *px = (x - gt[0]) / gt[1];
    *py = (y - gt[3]) / gt[5];
    return std::isfinite(*px) && std::isfinite(*py);
  }

  void Failed(const char* why) const {
    std::lock_guard<std::mutex> lock(error_mu);
    load_error = path + ": cannot read its pixels: " + (why && *why ? why : "GDAL gave no reason");
  }

  void Load() const {
    GDALDatasetH ds =
        gdal->OpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
    if (ds == nullptr) {
      Failed(gdal->LastErrorMsg());
      return;
    }
    pixels.assign(static_cast<size_t>(width) * height, 0.0f);
    const CPLErr e = gdal->RasterIO(gdal->GetRasterBand(ds, 1), GF_Read, 0, 0, width, height,
                                    pixels.data(), width, height, GDT_Float32, 0, 0);
    if (e != CE_None) {
      Failed(gdal->LastErrorMsg());
      pixels.clear();
    }
    gdal->Close(ds);
  }

  bool Valid(float v) const { return !std::isnan(v) && !(has_nodata && v == nodata); }
  float At(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x]; }

  // The pixel's value, or for a nodata pixel the inverse-distance mean of the nearest ring of
  // valid pixels around it (void_fill.hpp), as SrtmTile fills SRTM voids, so a
  // GeoTIFF and the .hgt tile it was made from give the same elevations.
  double Filled(int x, int y, bool* ok) const {
    return FillVoid(
        x, y, width, height,
        [this](int xx, int yy, double* v) {
          const float s = At(xx, yy);
          *v = s;
          return Valid(s);
        },
        ok);
  }

  bool ElevationAt(double lat, double lon, double* out) const {
    if (lat < min_lat || lat > max_lat || lon < min_lon || lon > max_lon) return false;
    double px = 0, py = 0;
    if (!ToPixel(lat, lon, &px, &py)) return false;
    if (px < 0 || py < 0 || px > width || py > height) return false;
    std::call_once(loaded, [this] { Load(); });
    if (pixels.empty()) return false;
    // Bilinear between the centres around the point; at the border, the edge pixels' value.
    const double fx = std::clamp(px - 0.5, 0.0, static_cast<double>(width - 1));
    const double fy = std::clamp(py - 0.5, 0.0, static_cast<double>(height - 1));
    const int x0 = std::min(static_cast<int>(fx), std::max(width - 2, 0));
    const int y0 = std::min(static_cast<int>(fy), std::max(height - 2, 0));
    const int x1 = std::min(x0 + 1, width - 1), y1 = std::min(y0 + 1, height - 1);
    const double tx = fx - x0, ty = fy - y0;
    bool ok = true;
    const double v00 = Filled(x0, y0, &ok), v01 = Filled(x1, y0, &ok);
    const double v10 = Filled(x0, y1, &ok), v11 = Filled(x1, y1, &ok);
    if (!ok) return false;  // only nodata for kMaxVoidFillRing pixels around
    const double v = (v00 * (1 - tx) + v01 * tx) * (1 - ty) + (v10 * (1 - tx) + v11 * tx) * ty;
    *out = v * scale + offset;
    return true;
  }
};

GdalElevation::~GdalElevation() = default;

bool IsRasterFileName(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* ext : {".tif", ".tiff", ".vrt"}) {
    const std::string e = ext;
    if (lower.size() > e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0) {
      return true;
    }
  }
  return false;
}

namespace {

// Reads one raster's header; the pixels wait for the first point inside it.
Result<std::unique_ptr<GdalElevation::Raster>> OpenRaster(const GdalApi* gdal,
                                                          const std::string& path) {
  auto r = std::make_unique<GdalElevation::Raster>();
  r->gdal = gdal;
  r->path = path;
  GDALDatasetH ds =
      gdal->OpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
  if (ds == nullptr) {
    // GDAL gives no reason for a file no driver recognises: say what it is not.
    const std::string why = gdal->LastErrorMsg();
    return Status::InvalidArgument("--dem " + path + ": not a raster GDAL reads (" +
                                   (why.empty() ? "no driver recognises the file: expected a "
                                                  "GeoTIFF or another raster GDAL supports"
                                                : why) +
                                   ")");
  }
  struct Closer {
    const GdalApi* gdal;
    GDALDatasetH ds;
    ~Closer() { gdal->Close(ds); }
  } closer{gdal, ds};
  r->width = gdal->RasterXSize(ds);
  r->height = gdal->RasterYSize(ds);
  if (gdal->RasterCount(ds) < 1 || r->width < 1 || r->height < 1) {
    return Status::InvalidArgument("--dem " + path + ": the raster has no band of elevations");
  }
  if (gdal->GetGeoTransform(ds, r->gt) != CE_None || r->gt[1] == 0 || r->gt[5] == 0) {
    return Status::InvalidArgument("--dem " + path +
                                   ": no geotransform (where its pixels are is unknown)");
  }
  if (r->gt[2] != 0 || r->gt[4] != 0) {
    return Status::InvalidArgument("--dem " + path +
                                   ": a rotated raster; warp it north-up first (gdalwarp)");
  }
  OGRSpatialReferenceH crs = gdal->GetSpatialRef(ds);
  if (crs == nullptr) {
    return Status::InvalidArgument("--dem " + path +
                                   ": no coordinate reference system in the file");
  }
  r->crs = gdal->CloneSrs(crs);
  r->wgs84 = gdal->NewSrs(nullptr);
  gdal->ImportFromEpsg(r->wgs84, 4326);
  // Longitude first, easting first: x is always the first coordinate.
  gdal->SetAxisMapping(r->wgs84, OAMS_TRADITIONAL_GIS_ORDER);
  gdal->SetAxisMapping(r->crs, OAMS_TRADITIONAL_GIS_ORDER);
  if (const char* name = gdal->SrsName(r->crs)) r->crs_name = name;
  GDALRasterBandH band = gdal->GetRasterBand(ds, 1);
  int has = 0;
  const double nodata = gdal->NoDataValue(band, &has);
  r->has_nodata = has != 0;
  r->nodata = static_cast<float>(nodata);
  int has_scale = 0, has_offset = 0;
  const double scale = gdal->Scale(band, &has_scale);
  const double offset = gdal->Offset(band, &has_offset);
  if (has_scale && scale != 0) r->scale = scale;
  if (has_offset) r->offset = offset;

  // The footprint in WGS84: the raster's edges, 32 points each, transformed back.
  OGRCoordinateTransformationH back = gdal->NewTransform(r->crs, r->wgs84);
  if (back == nullptr) {
    return Status::InvalidArgument("--dem " + path + ": cannot transform " + r->crs_name +
                                   " to WGS84 (" + gdal->LastErrorMsg() + ")");
  }
  std::vector<double> xs, ys, zs;
  constexpr int kSteps = 32;
  for (int k = 0; k <= kSteps; ++k) {
    const double f = static_cast<double>(k) / kSteps;
    for (const auto& [px, py] :
         {std::pair{f * r->width, 0.0}, std::pair{f * r->width, 1.0 * r->height},
          std::pair{0.0, f * r->height}, std::pair{1.0 * r->width, f * r->height}}) {
      xs.push_back(r->gt[0] + px * r->gt[1]);
      ys.push_back(r->gt[3] + py * r->gt[5]);
      zs.push_back(0);
    }
  }
  gdal->Transform(back, static_cast<int>(xs.size()), xs.data(), ys.data(), zs.data());
  gdal->DestroyTransform(back);
  r->min_lon = r->min_lat = 1e9;
  r->max_lon = r->max_lat = -1e9;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i]) || std::abs(xs[i]) > 1e6) continue;
    r->min_lon = std::min(r->min_lon, xs[i]);
    r->max_lon = std::max(r->max_lon, xs[i]);
    r->min_lat = std::min(r->min_lat, ys[i]);
    r->max_lat = std::max(r->max_lat, ys[i]);
  }
  if (r->min_lon > r->max_lon) {
    return Status::InvalidArgument("--dem " + path + ": its footprint does not map to WGS84");
  }
  // Between the edge samples a reprojected edge may bulge out a little: pad the footprint,
  // which only spares transformations (the pixel test decides).
  const double pad = 0.01 * std::max(r->max_lat - r->min_lat, r->max_lon - r->min_lon) + 1e-6;
  r->min_lat -= pad;
  r->max_lat += pad;
  r->min_lon -= pad;
  r->max_lon += pad;
  return r;
}

}  // namespace

Result<std::unique_ptr<GdalElevation>> GdalElevation::Open(const std::string& path) {
  std::string error;
  const GdalApi* gdal = Gdal(&error);
  if (gdal == nullptr) return Status::Unavailable("--dem " + path + ": " + error);
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (e.is_regular_file() && IsRasterFileName(e.path().filename().string())) {
        files.push_back(e.path().string());
      }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      return Status::InvalidArgument("--dem " + path + ": no raster (*.tif, *.tiff, *.vrt) here");
    }
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    return Status::NotFound("--dem " + path + ": no such file or folder");
  }
  std::unique_ptr<GdalElevation> dem(new GdalElevation());
  for (const std::string& f : files) {
    Result<std::unique_ptr<Raster>> r = OpenRaster(gdal, f);
    if (!r.ok()) return r.status();
    dem->rasters_.push_back(std::move(r).value());
  }
  return dem;
}

bool GdalElevation::ElevationAt(double lat_deg, double lon_deg, double* elevation_m) const {
  for (const auto& r : rasters_) {
    if (r->ElevationAt(lat_deg, lon_deg, elevation_m)) return true;
  }
  return false;
}

std::vector<std::string> GdalElevation::Unreadable() const {
  std::vector<std::string> out;
  for (const auto& r : rasters_) {
    std::lock_guard<std::mutex> lock(r->error_mu);
    if (!r->load_error.empty()) out.push_back(r->load_error);
  }
  return out;
}

std::string GdalElevation::Describe() const {
  std::string out;
  for (const auto& r : rasters_) {
    char line[512];
    std::snprintf(line, sizeof line, "%s: %d x %d px, %s, pixel %.6g x %.6g%s\n", r->path.c_str(),
                  r->width, r->height, r->crs_name.c_str(), r->gt[1], -r->gt[5],
                  r->has_nodata ? ", nodata set" : "");
    out += line;
  }
  return out;
}

}  // namespace stride::importers
