// SPDX-License-Identifier: Apache-2.0
#include "tools/analyze_command.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <optional>
#include <ostream>
#include <sstream>
#include <thread>

#include "engine/memory/keep_freed.hpp"
#include "engine/threads.hpp"
#include "engine/track/analysis.hpp"
#include "engine/track/analysis_json.hpp"
#include "importers/activity/activity_reader.hpp"
#include "importers/dem/elevation_stack.hpp"
#include "tools/format.hpp"

namespace stride::tools {
namespace {

constexpr const char* kHelp =
    "usage: stride analyze FILE... [options]\n"
    "\n"
    "Reads GPX, TCX and FIT recordings (format detected from the content) and prints, for\n"
    "each session: distance, elapsed/moving time, pace, grade-adjusted pace, ascent, heart\n"
    "rate zones, TRIMP, splits, laps, climbs and best efforts. A FILE of '-' is standard input.\n"
    "\n"
    "options:\n"
    "  --json               one JSON object per file, one per line\n"
    "  --sport S            run, walk, hike or ride: overrides the sport in the file\n"
    "  --max-hr N           maximum heart rate for zones and TRIMP (default: estimated)\n"
    "  --hr-zones A,B,C,D   lower bounds (bpm) of zones 2-5, below --max-hr (default: 60, 70,\n"
    "                       80 and 90 % of the maximum)\n"
    "  --rest-hr N          resting heart rate for TRIMP, below --max-hr (default: 60)\n"
    "  --dem DIR[,DIR...]   elevation model (SRTM tile folders, GeoTIFF rasters or their\n"
    "                       folders, first first): tracks without barometric altitude take it\n"
    "  --jobs N             files analysed at once (default: one per hardware thread); the\n"
    "                       output is in the order of the files either way\n"
    "\n"
    "exit status: 0 all files analysed, 1 some file could not be read, 2 bad usage\n";

void PrintSession(const engine::Analysis& a, std::ostream& out) {
  char buf[256];
  out << "  sport      " << engine::SportName(a.sport) << " (" << a.sport_source << ")";
  if (!a.device.empty()) out << ", device " << a.device;
  out << "\n";
  std::snprintf(buf, sizeof buf, "  distance   %.2f km%s\n", a.distance_m / 1000.0,
                a.distance_from_device ? " (device distance: no positions)" : "");
  out << buf;
  out << "  time       elapsed " << FormatDuration(a.elapsed_time_s) << ", moving "
      << FormatDuration(a.moving_time_s) << ", timer " << FormatDuration(a.timer_time_s) << "\n";
  out << "  pace       " << FormatPace(a.moving_pace_s_per_km) << " moving, "
      << FormatPace(a.avg_pace_s_per_km) << " elapsed, GAP " << FormatPace(a.gap_s_per_km) << "\n";
  if (!std::isnan(a.ascent_m)) {
    std::snprintf(buf, sizeof buf, "  climb      +%.0f m / -%.0f m (%s altitude), %zu climbs",
                  a.ascent_m, a.descent_m,
                  std::string(engine::AltitudeSourceName(a.smoothing.elevation_source)).c_str(),
                  a.climbs.size());
    out << buf;
    // Said where it changes the climb: a failing altimeter's readings are not in it.
    const auto& p = a.points;
    if (p.invalid_elevation > 0) {
      out << "; " << p.invalid_elevation << " implausible elevations removed";
      if (p.elevation_jumps > 0) {
        std::snprintf(buf, sizeof buf, " (%zu out of reach at %.0f m/s)", p.elevation_jumps,
                      p.max_vertical_speed_mps);
        out << buf;
      }
    }
    out << "\n";
  }
  const auto& hr = a.heart_rate;
  if (!std::isnan(hr.avg_bpm)) {
    std::snprintf(buf, sizeof buf,
                  "  heart rate avg %.0f, max %.0f; zones %s / %s / %s / %s / %s; TRIMP %.0f\n",
                  hr.avg_bpm, hr.max_bpm, FormatDuration(hr.zones_s[0]).c_str(),
                  FormatDuration(hr.zones_s[1]).c_str(), FormatDuration(hr.zones_s[2]).c_str(),
                  FormatDuration(hr.zones_s[3]).c_str(), FormatDuration(hr.zones_s[4]).c_str(),
                  hr.trimp);
    out << buf;
  }
  const auto& p = a.points;
  std::snprintf(buf, sizeof buf,
                "  points     %zu raw, %zu kept (%zu with position); dropped: %zu duplicate "
                "time, %zu time going back, %zu invalid fixes, %zu speed outliers\n",
                p.raw, p.kept, p.kept_with_position, p.duplicate_time, p.non_increasing_time,
                p.invalid_fix, p.speed_outlier);
  out << buf;
  if (p.interpolated_time + p.extrapolated_time + p.no_time > 0) {
    std::string line = "  untimed    " +
                       std::to_string(p.interpolated_time + p.extrapolated_time + p.no_time) +
                       " points without a time: " + std::to_string(p.interpolated_time) +
                       " timed between their neighbours";
    if (p.extrapolated_time > 0) {
      std::snprintf(buf, sizeof buf, ", %zu placed at %.1f km/h (estimated times)",
                    p.extrapolated_time, p.extrapolation_speed_mps * 3.6);
      line += buf;
    }
    if (p.no_time > 0) line += ", " + std::to_string(p.no_time) + " dropped";
    if (p.untimed_beyond_jump > 0) {
      line += " (" + std::to_string(p.untimed_beyond_jump) + " beyond a step no body makes)";
    }
    out << line << "\n";
  }
  if (!a.splits_km.empty()) {
    out << "  splits    ";
    for (const auto& s : a.splits_km) {
      out << " " << s.index << ":" << FormatDuration(s.elapsed_time_s / (s.distance_m / 1000.0));
    }
    out << "\n";
  }
  if (!a.best_efforts.empty()) {
    out << "  best      ";
    for (const auto& e : a.best_efforts) out << " " << e.name << " " << FormatDuration(e.time_s);
    if (a.best_efforts_vehicle_m > 0) {
      // A walk's bar is vehicle speed; a run's, what no runner has done for as long, a jog
      // without a step counted or a pace well over the run's own with the heart near rest:
      // each of them a vehicle.
      std::snprintf(buf, sizeof buf, "  (%.2f km %s left out)", a.best_efforts_vehicle_m / 1000.0,
                    engine::BarsVehicleSpeed(a.sport) ? "at vehicle speed" : "in a vehicle");
      out << buf;
    }
    out << "\n";
  }
  if (!a.laps.empty()) out << "  laps       " << a.laps.size() << " device laps\n";
  const auto& d = a.device_totals;
  if (!d.empty()) {
    out << "  device    ";
    if (d.distance_m) {
      std::snprintf(buf, sizeof buf, " distance %.2f km,", *d.distance_m / 1000.0);
      out << buf;
    }
    if (d.timer_time_s) out << " timer " << FormatDuration(*d.timer_time_s) << ",";
    if (d.ascent_m) {
      std::snprintf(buf, sizeof buf, " ascent %.0f m", *d.ascent_m);
      out << buf;
    }
    out << "\n";
  }
}

// One file's analysis as printed: what goes to stdout and stderr, and the file's exit status.
struct FileOutput {
  std::string out, err;
  int status = 0;
};

// The one error line of a file that could not be analysed.
FileOutput FileError(const std::string& file, const std::string& message) {
  return FileOutput{"", "stride analyze: error: " + file + ": " + message + "\n", 1};
}

FileOutput AnalyzeFile(const std::string& file, const engine::AnalyzeOptions& options, bool json) {
  FileOutput o;
  const importers::ReadLimits limits;
  Result<std::string> bytes = importers::ReadFileBytes(file == "-" ? "/dev/stdin" : file, limits);
  if (!bytes.ok()) return FileError(file, bytes.status().message());
  Result<engine::Activity> act = importers::ReadActivity(*bytes, limits);
  if (!act.ok()) return FileError(file, act.status().message());
  std::vector<engine::Analysis> results;
  for (engine::Track& session : act->sessions) {
    results.push_back(engine::Analyze(std::move(session), options));
  }
  if (json) {
    o.out = engine::AnalysisJson(file, results) + "\n";
    return o;
  }
  std::ostringstream out;
  out << file << " (" << act->format
      << (results.size() > 1 ? ", " + std::to_string(results.size()) + " sessions" : "") << ")\n";
  for (size_t k = 0; k < results.size(); ++k) {
    if (results.size() > 1) out << " session " << k + 1 << "\n";
    PrintSession(results[k], out);
  }
  o.out = std::move(out).str();
  return o;
}

// AnalyzeFile that never throws (a worker thread must not): an exception is the file's error.
FileOutput AnalyzeFileOrError(const std::string& file, const engine::AnalyzeOptions& options,
                              bool json) {
  try {
    return AnalyzeFile(file, options, json);
  } catch (const std::exception& e) {
    return FileError(file, e.what());
  }
}

// The indices of `files` by size, largest first (a file that cannot be sized counts as empty:
// its error is found when it is read). Stable: equal sizes keep the order given.
std::vector<size_t> LargestFirst(const std::vector<std::string>& files) {
  std::vector<uintmax_t> size(files.size(), 0);
  for (size_t i = 0; i < files.size(); ++i) {
    std::error_code ec;
    const uintmax_t n = std::filesystem::file_size(files[i], ec);
    if (!ec) size[i] = n;
  }
  std::vector<size_t> order(files.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return size[a] > size[b]; });
  return order;
}

// Enough for the largest recordings' analysis (a 25 MB FIT file peaks at 25 MB).
constexpr size_t kKeepFreedBytes = size_t{64} << 20;

}  // namespace

int RunAnalyze(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  // Batch work: freed memory stays for the next file instead of being faulted in again
  // (engine/memory/keep_freed.hpp; a third of the time over many small files).
  engine::KeepFreedMemory(kKeepFreedBytes);
  engine::AnalyzeOptions options;
  bool json = false;
  std::vector<std::string> files;
  std::unique_ptr<importers::ElevationStack> dem;
  size_t jobs = static_cast<size_t>(engine::ThreadsOrCores(0));
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) {
        err << "stride analyze: " << flag << " needs a value\n";
        return nullptr;
      }
      return &args[++i];
    };
    // A heart-rate option: its value, a number of bpm in [lo, hi].
    auto bpm = [&](const char* flag, double lo, double hi, double* out) {
      const std::string* v = value(flag);
      if (v == nullptr) return false;
      if (ParseNumber(*v, lo, hi, out)) return true;
      err << "stride analyze: " << flag << ": expected a number of bpm from " << lo << " to " << hi
          << ", got '" << *v << "'\n";
      return false;
    };
    if (a == "--help" || a == "-h") {
      out << kHelp;
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--sport") {
      const std::string* v = value("--sport");
      if (!v) return 2;
      options.sport = engine::ParseSport(*v);
      if (options.sport != engine::Sport::kRun && options.sport != engine::Sport::kWalk &&
          options.sport != engine::Sport::kHike && options.sport != engine::Sport::kRide) {
        err << "stride analyze: --sport: unknown sport '" << *v
            << "', expected run, walk, hike or ride\n";
        return 2;
      }
    } else if (a == "--dem") {
      const std::string* v = value("--dem");
      if (!v) return 2;
      Result<std::unique_ptr<importers::ElevationStack>> d = importers::ElevationStack::Open(*v);
      if (!d.ok()) {
        err << "stride analyze: " << d.status().message() << "\n";
        return 2;
      }
      dem = std::move(d).value();
      options.dem = dem.get();
    } else if (a == "--jobs") {
      const std::string* v = value("--jobs");
      if (!v) return 2;
      double n = 0;
      if (!ParseNumber(*v, 1, 256, &n) || n != std::floor(n)) {
        err << "stride analyze: --jobs: expected a whole number from 1 to 256, got '" << *v
            << "'\n";
        return 2;
      }
      jobs = static_cast<size_t>(n);
    } else if (a == "--max-hr") {
      if (!bpm("--max-hr", 100, 250, &options.max_hr_bpm)) return 2;
    } else if (a == "--rest-hr") {
      if (!bpm("--rest-hr", 25, 120, &options.rest_hr_bpm)) return 2;
    } else if (a == "--hr-zones") {
      const std::string* v = value("--hr-zones");
      if (!v) return 2;
      std::stringstream ss(*v);
      std::string part;
      std::vector<double> bounds;
      bool ok = true;
      while (std::getline(ss, part, ',')) {
        double b = 0;
        if (!ParseNumber(part, 30, 250, &b) || (!bounds.empty() && b <= bounds.back())) ok = false;
        bounds.push_back(b);
      }
      if (!ok || bounds.size() != 4) {
        err << "stride analyze: --hr-zones: expected four increasing bpm values (lower bounds of "
               "zones 2-5), e.g. 120,140,155,170, got '"
            << *v << "'\n";
        return 2;
      }
      options.hr_zone_bounds_bpm = bounds;
    } else if (a.size() > 1 && a[0] == '-') {
      err << "stride analyze: unknown option '" << a << "'\n" << kHelp;
      return 2;
    } else {
      files.push_back(a);
    }
  }
  // Each is in its own range; together they must also agree (as the server's profile).
  if (const Status agree = engine::CheckHeartRateOptions(options); !agree.ok()) {
    err << "stride analyze: --max-hr, --rest-hr, --hr-zones: " << agree.message() << "\n";
    return 2;
  }
  if (files.empty()) {
    err << "stride analyze: no input files\n" << kHelp;
    return 2;
  }
  if (std::count(files.begin(), files.end(), "-") > 1) {
    err << "stride analyze: '-' (standard input) can be given once\n";
    return 2;
  }

  int status = 0;
  auto print = [&](const FileOutput& o) {
    out << o.out;
    err << o.err;
    status = std::max(status, o.status);
  };
  // A DEM tile or raster that is there but could not be read: the analyses took their
  // elevation from the recordings, not from the DEM asked for. An error (exit 1), after them.
  auto dem_problems = [&] {
    if (!dem) return status;
    for (const std::string& m : dem->Unreadable()) {
      err << "stride analyze: error: --dem " << m << " (elevation came from the recordings)\n";
      status = std::max(status, 1);
    }
    return status;
  };
  const size_t workers = std::min(jobs, files.size());
  if (workers <= 1) {
    engine::PreferHugePages(engine::kAnalysisHugePageBytes);
    for (const std::string& file : files) print(AnalyzeFileOrError(file, options, json));
    return dem_problems();
  }
  // Workers take the next file, largest first (a large file taken last would leave the other
  // workers idle while it is analysed); this thread prints each file's output in the order
  // given, as soon as it and every file before it are done.
  const std::vector<size_t> order = LargestFirst(files);
  std::vector<std::optional<FileOutput>> done(files.size());
  std::mutex mu;
  std::condition_variable ready;
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      engine::PreferHugePages(engine::kAnalysisHugePageBytes);
      for (size_t k; (k = next.fetch_add(1)) < files.size();) {
        const size_t i = order[k];
        FileOutput o = AnalyzeFileOrError(files[i], options, json);
        {
          std::lock_guard<std::mutex> lock(mu);
          done[i] = std::move(o);
        }
        ready.notify_all();
      }
    });
  }
  for (size_t i = 0; i < files.size(); ++i) {
    std::unique_lock<std::mutex> lock(mu);
    ready.wait(lock, [&] { return done[i].has_value(); });
    const FileOutput o = std::move(*done[i]);
    done[i].reset();
    lock.unlock();
    print(o);
  }
  for (std::thread& t : pool) t.join();
  return dem_problems();
}

}  // namespace stride::tools
