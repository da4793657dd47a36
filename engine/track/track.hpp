// SPDX-License-Identifier: Apache-2.0
//
// Track: one recorded activity session as parallel arrays (struct of arrays), plus what the
// device said about it (laps, timer events, totals). Every importer (GPX, TCX, FIT) produces
// Tracks; every pipeline stage (clean, smooth, segment, stats) reads or rewrites them.
//
// Absent values are NaN in every stream, so a stream always has size() entries. Times are
// seconds since the Unix epoch (UTC), NaN when the file has none (planned routes).
//
// Thread-safety: a plain value type.
//
//   Track t;
//   TrackPoint p; p.time_s = 1.6e9; p.lat_deg = 42.5; p.lon_deg = 1.5;
//   t.Append(p);
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stride::engine {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

enum class Sport { kUnknown, kRun, kWalk, kHike, kRide, kSwim, kOther };

std::string_view SportName(Sport sport);
// Maps a sport word from a file or the command line ("running", "Run", "Biking", "hiking",
// "cycling", ...) to a Sport; kUnknown when the word is not recognised.
Sport ParseSport(std::string_view word);

// Where altitude values came from, as far as the file tells.
enum class AltitudeSource { kUnknown, kBarometric, kGps, kDem };
std::string_view AltitudeSourceName(AltitudeSource s);

struct TrackPoint {
  double time_s = kNaN;
  double lat_deg = kNaN;
  double lon_deg = kNaN;
  double ele_m = kNaN;
  double hr_bpm = kNaN;
  double cadence_rpm = kNaN;
  double speed_mps = kNaN;  // device speed
  double power_w = kNaN;
  double distance_m = kNaN;  // device cumulative distance
  double temperature_c = kNaN;
  double gps_accuracy_m = kNaN;  // device-reported horizontal accuracy
};

// A device lap, as recorded (FIT lap message, TCX <Lap>).
struct Lap {
  double start_time_s = kNaN;
  double elapsed_time_s = kNaN;
  double timer_time_s = kNaN;
  double distance_m = kNaN;
  double avg_hr_bpm = kNaN;
  double max_hr_bpm = kNaN;
  std::string trigger;  // "manual", "distance", "time", ... when the file says
};

// A start or stop of the device timer (FIT event messages, event=timer).
struct TimerEvent {
  double time_s = kNaN;
  bool running = false;  // true: timer (re)started; false: stopped
};

// Totals the device computed itself (FIT session, TCX lap sums). A reference, not truth.
struct DeviceTotals {
  std::optional<double> distance_m;
  std::optional<double> timer_time_s;
  std::optional<double> elapsed_time_s;
  std::optional<double> ascent_m;
  std::optional<double> descent_m;
  std::optional<double> avg_hr_bpm;
  std::optional<double> max_hr_bpm;
  std::optional<double> calories_kcal;
  bool empty() const {
    return !distance_m && !timer_time_s && !elapsed_time_s && !ascent_m && !descent_m &&
           !avg_hr_bpm && !max_hr_bpm && !calories_kcal;
  }
};

struct Track {
  // Streams; all have the same length.
  std::vector<double> time_s;
  std::vector<double> lat_deg;
  std::vector<double> lon_deg;
  std::vector<double> ele_m;
  std::vector<double> hr_bpm;
  std::vector<double> cadence_rpm;
  std::vector<double> speed_mps;
  std::vector<double> power_w;
  std::vector<double> distance_m;
  std::vector<double> temperature_c;
  std::vector<double> gps_accuracy_m;

  // Index of the first point of each recorded segment (GPX <trkseg>, TCX <Track>). The gap
  // between two segments is treated as a pause: no distance, no moving time. Starts with 0
  // when the track is not empty.
  std::vector<uint32_t> segment_starts;

  std::vector<Lap> laps;
  std::vector<TimerEvent> timer_events;  // in time order
  bool timer_events_dropped = false;     // the file had events that contradicted its totals
  DeviceTotals device_totals;

  Sport sport = Sport::kUnknown;
  std::string sport_name;  // as the file spelled it
  std::string sub_sport;
  std::string device;                         // creator / manufacturer and product
  std::vector<std::string> developer_fields;  // FIT developer data the file carries, by name
  std::string format;                         // "gpx", "tcx", "fit"
  // What the reader repaired in the file's text ("device name: 2 invalid UTF-8 sequences
  // replaced with U+FFFD"), for the analysis to report.
  std::vector<std::string> warnings;
  AltitudeSource altitude_source = AltitudeSource::kUnknown;

  size_t size() const { return time_s.size(); }
  bool empty() const { return time_s.empty(); }

  void Append(const TrackPoint& p);
  void Reserve(size_t n);
  // Marks the next appended point as the start of a new segment.
  void StartSegment();
  // Copies point i of this track as a TrackPoint.
  TrackPoint PointAt(size_t i) const;

  bool has_position(size_t i) const { return !std::isnan(lat_deg[i]) && !std::isnan(lon_deg[i]); }
  size_t CountWithPosition() const;
  bool HasTimes() const;
};

// The box of a track's positioned points, in degrees; nullopt when no point has a position.
struct TrackBounds {
  double min_lat = 0, min_lon = 0, max_lat = 0, max_lon = 0;
};
std::optional<TrackBounds> PositionBounds(const Track& track);

// What a file held: one Track per session (multi-sport files have several), in file order.
struct Activity {
  std::string format;
  std::string device;
  std::vector<std::string> developer_fields;
  std::vector<Track> sessions;

  // No session has a point, a lap or a device total (<gpx></gpx>, an empty <trkseg>, a FIT
  // settings file): analysed, it would be a run of 0 m without a start time, so the readers
  // refuse it.
  bool RecordsNothing() const {
    for (const Track& t : sessions) {
      if (!t.empty() || !t.laps.empty() || !t.device_totals.empty()) return false;
    }
    return true;
  }
};

}  // namespace stride::engine
