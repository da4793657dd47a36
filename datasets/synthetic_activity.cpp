// SPDX-License-Identifier: Apache-2.0
#include "datasets/synthetic_activity.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

#include "engine/geo/geodesy.hpp"
#include "engine/track/track_writers.hpp"
#include "importers/activity/fit_crc.hpp"

namespace stride::datasets {
namespace {

using engine::kNaN;
using engine::kPi;

// The walked line: a closed loop of straight legs, or the caller's open path, with its
// position (east, north metres) at any distance along it.
struct Line {
  std::vector<std::array<double, 2>> v;
  std::vector<double> cum;  // distance to each vertex
  double length = 0;
  bool closed = true;

  explicit Line(const SyntheticRunOptions& o) {
    if (o.path_m.size() >= 2) {
      v = o.path_m;
      closed = false;
    } else {
      v = {{0, 0}, {o.leg_a_m, 0}, {o.leg_a_m, o.leg_b_m}, {0, o.leg_b_m}, {0, 0}};
    }
    cum.assign(v.size(), 0.0);
    for (size_t i = 1; i < v.size(); ++i) {
      cum[i] = cum[i - 1] + std::hypot(v[i][0] - v[i - 1][0], v[i][1] - v[i - 1][1]);
    }
    length = cum.back();
  }
  // Position at distance s (a closed loop repeats; an open path stops at its end).
  void At(double s, double* x, double* y) const {
    s = closed ? std::fmod(s, length) : std::clamp(s, 0.0, length);
    const size_t k = static_cast<size_t>(
        std::max<long>(1, std::upper_bound(cum.begin(), cum.end(), s) - cum.begin()));
    const size_t i = std::min(k, v.size() - 1);
    const double seg = cum[i] - cum[i - 1];
    const double f = seg > 0 ? (s - cum[i - 1]) / seg : 0.0;
    *x = v[i - 1][0] + f * (v[i][0] - v[i - 1][0]);
    *y = v[i - 1][1] + f * (v[i][1] - v[i - 1][1]);
  }
};

// Distance covered at time t (seconds from the start), with an optional stop.
double DistanceAt(const SyntheticRunOptions& o, double t, double total) {
  double s = o.speed_mps * t;
  if (o.stop_at_m >= 0 && s > o.stop_at_m) {
    s = std::max(o.stop_at_m, o.speed_mps * (t - o.stop_s));
  }
  return std::min(s, total);
}

// The distance a device would add for step i: its own distance stream when the track has
// one (the generator's is the truth, as a device's filtered distance is close to it), else
// the straight line between the fixes.
double StepOrDevice(const engine::Track& t, size_t i) {
  if (!std::isnan(t.distance_m[i]) && !std::isnan(t.distance_m[i - 1])) {
    return std::max(0.0, t.distance_m[i] - t.distance_m[i - 1]);
  }
  return engine::SegmentDistanceM(t.lat_deg[i - 1], t.lon_deg[i - 1], t.lat_deg[i], t.lon_deg[i]);
}

// The FIT profile's sport enum (running 1, cycling 2, swimming 5, walking 11, hiking 17).
uint8_t FitSport(engine::Sport sport) {
  switch (sport) {
    case engine::Sport::kRide:
      return 2;
    case engine::Sport::kSwim:
      return 5;
    case engine::Sport::kWalk:
      return 11;
    case engine::Sport::kHike:
      return 17;
    default:
      return 1;
  }
}

}  // namespace

SyntheticRun MakeSyntheticRun(const SyntheticRunOptions& o) {
  SyntheticRun run;
  const Line line(o);
  const double total = line.closed ? line.length * o.laps : line.length;
  const double duration = total / o.speed_mps + (o.stop_at_m >= 0 ? o.stop_s : 0.0);
  const engine::LocalPlane plane(o.start_lat_deg, o.start_lon_deg);
  auto sample = [&](double t, engine::TrackPoint* p) {
    const double s = DistanceAt(o, t, total);
    double x, y;
    line.At(s, &x, &y);
    plane.ToDegrees(x, y, &p->lat_deg, &p->lon_deg);
    const double phase = std::sin(kPi * std::fmod(s, line.length) / line.length);
    p->ele_m = o.base_ele_m + o.hill_m * phase * phase;
    p->time_s = o.start_time_s + t;
    p->hr_bpm = o.hr_bpm;
    p->distance_m = s;
  };
  for (engine::Track* t : {&run.truth, &run.recorded}) {
    t->sport = o.sport;
    t->sport_name = std::string(engine::SportName(o.sport));
    t->format = "synthetic";
    t->device = "stride synthetic";
  }
  for (double t = 0; t <= duration + 1e-9; t += 0.1) {
    engine::TrackPoint p;
    sample(t, &p);
    run.truth.Append(p);
  }
  std::mt19937 rng(o.seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  // Slowly wandering error, per axis: a second-order Gauss-Markov process (two first-order
  // lags of time constant wander_tau_s in cascade), stationary at wander_m. Unlike a
  // first-order one it is smooth, as a receiver's error is: it drifts over tens of seconds and
  // does not jitter from one second to the next. Advanced on a 0.5 s clock.
  struct Wander {
    double u = 0, w = 0;  // driving lag, output lag
  } wan[2];
  const double s1 = std::sqrt(2.0) * o.wander_m;  // the output carries half the variance
  const double lag_step = 0.5;
  const double a = std::exp(-lag_step / std::max(o.wander_tau_s, 1e-9));
  const double drive = s1 * std::sqrt(std::max(0.0, 1 - a * a));
  double wander_t = 0;
  if (o.wander_m > 0) {
    for (Wander& d : wan) {
      d.u = s1 * noise(rng);
      d.w = o.wander_m * noise(rng);
    }
  }
  std::uniform_real_distribution<double> smart(o.interval_s,
                                               std::max(o.interval_s, o.max_interval_s));
  double next_t = 0;
  for (double t = 0; t <= duration + 1e-9; t = next_t) {
    next_t = t + (o.max_interval_s > o.interval_s ? std::round(smart(rng)) : o.interval_s);
    engine::TrackPoint p;
    sample(t, &p);
    if (o.noise_m > 0 || o.wander_m > 0) {
      double x, y;
      plane.ToMetres(p.lat_deg, p.lon_deg, &x, &y);
      for (; o.wander_m > 0 && wander_t + lag_step <= t + 1e-9; wander_t += lag_step) {
        for (Wander& d : wan) {
          d.u = a * d.u + drive * noise(rng);
          d.w = a * d.w + (1 - a) * d.u;
        }
      }
      x += wan[0].w + o.noise_m * noise(rng);
      y += wan[1].w + o.noise_m * noise(rng);
      plane.ToDegrees(x, y, &p.lat_deg, &p.lon_deg);
    }
    if (o.ele_noise_m > 0) p.ele_m += o.ele_noise_m * noise(rng);
    run.recorded.Append(p);
  }
  if (o.untimed_share > 0) DropTimes(run.recorded, o.untimed_share, rng);
  for (size_t i = 1; i < run.truth.size(); ++i) {
    run.length_m += engine::SegmentDistanceM(run.truth.lat_deg[i - 1], run.truth.lon_deg[i - 1],
                                             run.truth.lat_deg[i], run.truth.lon_deg[i]);
  }
  run.ascent_m = o.hill_m * (line.closed ? o.laps : 1);
  run.moving_time_s = total / o.speed_mps;
  return run;
}

std::vector<std::array<double, 2>> SwitchbackPath(int legs, double leg_m) {
  std::vector<std::array<double, 2>> p{{0, 0}};
  for (int k = 0; k < legs; ++k) {
    const double heading = (k % 2 == 0 ? 15.0 : 165.0) * kPi / 180.0;
    p.push_back({p.back()[0] + leg_m * std::cos(heading), p.back()[1] + leg_m * std::sin(heading)});
  }
  return p;
}

void DropTimes(engine::Track& t, double share, std::mt19937& rng) {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (size_t i = 1; i + 1 < t.size(); ++i) {
    if (uniform(rng) < share) t.time_s[i] = kNaN;
  }
}

std::string WriteGpx(const engine::Track& t, const std::string& creator) {
  std::string out;
  out.reserve(t.size() * 220 + 1024);
  out +=
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<gpx version=\"1.1\" creator=\"" +
      creator +
      "\" xmlns=\"http://www.topografix.com/GPX/1/1\" "
      "xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\">\n"
      " <trk>\n  <name>Synthetic run</name>\n  <type>" +
      std::string(
          engine::SportName(t.sport == engine::Sport::kUnknown ? engine::Sport::kRun : t.sport)) +
      "</type>\n  <trkseg>\n";
  for (size_t i = 0; i < t.size(); ++i) engine::AppendGpxTrackPoint(t, i, &out);
  out += "  </trkseg>\n </trk>\n</gpx>\n";
  return out;
}

std::string WriteTcx(const engine::Track& t) {
  std::string out;
  char buf[256];
  const double t0 = t.empty() ? 0 : t.time_s.front();
  const double t1 = t.empty() ? 0 : t.time_s.back();
  double dist = 0;
  std::vector<double> cum(t.size(), 0.0);
  for (size_t i = 1; i < t.size(); ++i) {
    dist += StepOrDevice(t, i);
    cum[i] = dist;
  }
  out +=
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<TrainingCenterDatabase "
      "xmlns=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2\" "
      "xmlns:ns3=\"http://www.garmin.com/xmlschemas/ActivityExtension/v2\">\n"
      " <Activities>\n  <Activity Sport=\"Running\">\n   <Id>" +
      engine::GpxTime(t0) + "</Id>\n";
  std::snprintf(
      buf, sizeof buf,
      "   <Lap StartTime=\"%s\">\n    <TotalTimeSeconds>%.1f</TotalTimeSeconds>\n"
      "    <DistanceMeters>%.2f</DistanceMeters>\n    <TriggerMethod>Manual</TriggerMethod>\n"
      "    <Track>\n",
      engine::GpxTime(t0).c_str(), t1 - t0, dist);
  out += buf;
  for (size_t i = 0; i < t.size(); ++i) {
    out += "     <Trackpoint><Time>" + engine::GpxTime(t.time_s[i]) + "</Time>";
    std::snprintf(buf, sizeof buf,
                  "<Position><LatitudeDegrees>%.7f</LatitudeDegrees><LongitudeDegrees>%.7f"
                  "</LongitudeDegrees></Position><AltitudeMeters>%.2f</AltitudeMeters>"
                  "<DistanceMeters>%.2f</DistanceMeters>",
                  t.lat_deg[i], t.lon_deg[i], t.ele_m[i], cum[i]);
    out += buf;
    if (!std::isnan(t.hr_bpm[i])) {
      std::snprintf(buf, sizeof buf, "<HeartRateBpm><Value>%.0f</Value></HeartRateBpm>",
                    t.hr_bpm[i]);
      out += buf;
    }
    out += "</Trackpoint>\n";
  }
  out +=
      "    </Track>\n   </Lap>\n   <Creator><Name>stride synthetic</Name></Creator>\n"
      "  </Activity>\n </Activities>\n</TrainingCenterDatabase>\n";
  return out;
}

namespace {

// Little helper that lays out FIT messages.
class FitOut {
 public:
  explicit FitOut(bool big_endian) : be_(big_endian) {}
  void Byte(uint8_t b) { data_.push_back(b); }
  void Uint(uint64_t v, int n, bool be) {
    for (int i = 0; i < n; ++i) {
      const int shift = be ? 8 * (n - 1 - i) : 8 * i;
      data_.push_back(static_cast<uint8_t>((v >> shift) & 0xFF));
    }
  }
  // Definition of `local` for `global` with (field, size, base type) triples.
  void Define(uint8_t local, uint16_t global, const std::vector<std::array<uint8_t, 3>>& fields,
              bool big_endian, int dev_fields = 0) {
    Byte(static_cast<uint8_t>(0x40 | (dev_fields > 0 ? 0x20 : 0) | local));
    Byte(0);
    Byte(big_endian ? 1 : 0);
    Uint(global, 2, big_endian);
    Byte(static_cast<uint8_t>(fields.size()));
    for (const auto& f : fields) {
      Byte(f[0]);
      Byte(f[1]);
      Byte(f[2]);
    }
    if (dev_fields > 0) {
      Byte(static_cast<uint8_t>(dev_fields));
      Byte(0);  // developer field number
      Byte(2);  // size
      Byte(0);  // developer data index
    }
  }
  std::vector<uint8_t>& data() { return data_; }
  bool be() const { return be_; }

 private:
  bool be_;
  std::vector<uint8_t> data_;
};

constexpr double kFitEpoch = 631065600.0;

}  // namespace

std::string WriteFit(const engine::Track& t, const FitWriteOptions& o) {
  FitOut m(o.big_endian);
  const bool be = o.big_endian;
  auto fit_time = [](double unix_s) {
    return static_cast<uint32_t>(std::llround(unix_s - kFitEpoch));
  };
  const double t0 = t.empty() ? 1e9 : t.time_s.front();
  const double t1 = t.empty() ? 1e9 : t.time_s.back();

  // file_id
  m.Define(0, 0, {{0, 1, 0x00}, {1, 2, 0x84}, {2, 2, 0x84}, {4, 4, 0x86}}, false);
  m.Byte(0);
  m.Byte(4);
  m.Uint(255, 2, false);
  m.Uint(1, 2, false);
  m.Uint(fit_time(t0), 4, false);

  if (o.developer_field) {
    // developer_data_id: developer_data_index (3) = 0
    m.Define(4, 207, {{3, 1, 0x02}}, false);
    m.Byte(4);
    m.Byte(0);
    // field_description: index, field number, base type, name
    m.Define(5, 206, {{0, 1, 0x02}, {1, 1, 0x02}, {2, 1, 0x02}, {3, 8, 0x07}}, false);
    m.Byte(5);
    m.Byte(0);
    m.Byte(0);
    m.Byte(0x84);
    const char name[8] = {'P', 'o', 'w', 'e', 'r', 0, 0, 0};
    for (char c : name) m.Byte(static_cast<uint8_t>(c));
  }

  auto event = [&](double when, uint8_t type) {
    m.Byte(1);
    m.Uint(fit_time(when), 4, false);
    m.Byte(0);     // event: timer
    m.Byte(type);  // 0 start, 4 stop_all
  };
  if (o.with_session) {
    m.Define(1, 21, {{253, 4, 0x86}, {0, 1, 0x00}, {1, 1, 0x00}}, false);
    event(t0, 0);
  }

  // record definitions: local 2 with timestamp, local 3 without (compressed headers).
  std::vector<std::array<uint8_t, 3>> fields = {{0, 4, 0x85}, {1, 4, 0x85}};
  if (o.enhanced_altitude) {
    fields.push_back({78, 4, 0x86});
  } else {
    fields.push_back({2, 2, 0x84});
  }
  fields.push_back({3, 1, 0x02});
  fields.push_back({5, 4, 0x86});
  std::vector<std::array<uint8_t, 3>> with_ts = fields;
  with_ts.insert(with_ts.begin(), {253, 4, 0x86});
  const int dev = o.developer_field ? 1 : 0;
  m.Define(2, 20, with_ts, be, dev);
  if (o.compressed_timestamps) m.Define(3, 20, fields, be, dev);

  double dist = 0;
  uint32_t last_ts = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i > 0) dist += StepOrDevice(t, i);
    const uint32_t ts = fit_time(t.time_s[i]);
    const bool compress = o.compressed_timestamps && i > 0 && ts - last_ts < 32 && ts >= last_ts;
    if (compress) {
      m.Byte(static_cast<uint8_t>(0x80 | (3 << 5) | (ts & 0x1F)));
    } else {
      m.Byte(2);
      m.Uint(ts, 4, be);
    }
    last_ts = ts;
    auto semis = [](double deg) {
      return std::isnan(deg) ? uint32_t{0x7FFFFFFF}
                             : static_cast<uint32_t>(
                                   static_cast<int32_t>(std::llround(deg / 180.0 * 2147483648.0)));
    };
    m.Uint(semis(t.lat_deg[i]), 4, be);
    m.Uint(semis(t.lon_deg[i]), 4, be);
    if (o.enhanced_altitude) {
      m.Uint(std::isnan(t.ele_m[i]) ? 0xFFFFFFFFu
                                    : static_cast<uint32_t>(std::llround((t.ele_m[i] + 500) * 5)),
             4, be);
    } else {
      m.Uint(std::isnan(t.ele_m[i]) ? 0xFFFFu
                                    : static_cast<uint32_t>(std::llround((t.ele_m[i] + 500) * 5)),
             2, be);
    }
    m.Byte(std::isnan(t.hr_bpm[i]) ? 0xFF : static_cast<uint8_t>(std::lround(t.hr_bpm[i])));
    m.Uint(static_cast<uint32_t>(std::llround(dist * 100)), 4, be);
    if (o.developer_field) m.Uint(250, 2, false);  // developer data is always little-endian here
  }

  if (o.with_session) {
    event(t1, 4);
    const auto ms = static_cast<uint32_t>(std::llround((t1 - t0) * 1000));
    const auto cm = static_cast<uint32_t>(std::llround(dist * 100));
    m.Define(6, 19, {{253, 4, 0x86}, {2, 4, 0x86}, {7, 4, 0x86}, {8, 4, 0x86}, {9, 4, 0x86}},
             false);
    m.Byte(6);
    m.Uint(fit_time(t1), 4, false);
    m.Uint(fit_time(t0), 4, false);
    m.Uint(ms, 4, false);
    m.Uint(ms, 4, false);
    m.Uint(cm, 4, false);
    m.Define(7, 18,
             {{253, 4, 0x86},
              {2, 4, 0x86},
              {7, 4, 0x86},
              {8, 4, 0x86},
              {9, 4, 0x86},
              {5, 1, 0x00},
              {6, 1, 0x00}},
             false);
    m.Byte(7);
    m.Uint(fit_time(t1), 4, false);
    m.Uint(fit_time(t0), 4, false);
    m.Uint(ms, 4, false);
    m.Uint(ms, 4, false);
    m.Uint(cm, 4, false);
    m.Byte(FitSport(t.sport));
    m.Byte(0);
  }

  // Header (14 bytes), data, CRC.
  const std::vector<uint8_t>& data = m.data();
  std::vector<uint8_t> file;
  file.reserve(data.size() + 16);
  file.push_back(14);
  file.push_back(0x20);
  file.push_back(2132 & 0xFF);
  file.push_back(2132 >> 8);
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<uint8_t>((data.size() >> (8 * i)) & 0xFF));
  for (char c : {'.', 'F', 'I', 'T'}) file.push_back(static_cast<uint8_t>(c));
  const uint16_t hcrc = importers::FitCrc16(file.data(), 12);
  file.push_back(hcrc & 0xFF);
  file.push_back(hcrc >> 8);
  file.insert(file.end(), data.begin(), data.end());
  uint16_t crc = importers::FitCrc16(file.data(), file.size());
  if (o.corrupt_crc) crc ^= 0x1000;
  file.push_back(crc & 0xFF);
  file.push_back(crc >> 8);
  return std::string(file.begin(), file.end());
}

}  // namespace stride::datasets
