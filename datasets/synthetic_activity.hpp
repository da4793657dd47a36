// SPDX-License-Identifier: Apache-2.0
//
// Synthetic recorded activities with a known answer, for tests, benchmarks and the demo: a
// runner goes round a loop of straight legs joined by 90-degree corners (or along a path the
// caller gives: switchbacks, an out-and-back, a real trail), at constant speed, over a hill,
// with an optional stop; a "device" samples that truth every `interval_s`, adds Gaussian
// position noise (white, and a slowly wandering Gauss-Markov part) and altitude noise, and may
// lose the time of some points. The truth track, its length and its ascent are
// returned beside the noisy recording, so a pipeline stage can be checked against them.
//
// Writers turn a Track into GPX 1.1, TCX or FIT bytes. The FIT writer can vary the encoding
// (byte order, compressed timestamps, developer fields, chained files) so the decoder can be
// tested on every feature it claims.
//
// Thread-safety: pure functions (the random generator is seeded from the options).
//
//   SyntheticRunOptions o;
//   o.noise_m = 3;
//   SyntheticRun run = MakeSyntheticRun(o);
//   std::string fit = WriteFit(run.recorded);
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/track/track.hpp"

namespace stride::datasets {

struct SyntheticRunOptions {
  double start_lat_deg = 42.5;  // Default: Andorra la Vella area
  double start_lon_deg = 1.52;
  // Length of the legs (metres) of the loop; corners are 90 degrees. Default: 600 x 300.
  double leg_a_m = 600.0;
  double leg_b_m = 300.0;
  int laps = 3;             // times round the loop. Default: 3 (5.4 km)
  double speed_mps = 3.0;   // Default: 3 m/s (5:33 /km)
  double interval_s = 1.0;  // sampling. Default: 1 s
  // "Smart" (variable) recording: when over interval_s, each fix follows the last after a
  // random interval between interval_s and this. Default: 0 (a fixed interval).
  double max_interval_s = 0.0;
  double noise_m = 0.0;      // position noise, 1 sigma per axis. Default: 0
  double ele_noise_m = 0.0;  // altitude noise. Default: 0
  double hill_m = 30.0;      // hill height: elevation = base + hill * sin^2 over a lap
  double base_ele_m = 1000.0;
  // Position error that wanders smoothly: second-order Gauss-Markov, wander_m 1 sigma per
  // axis, time constant wander_tau_s. Default: none, 120 s.
  double wander_m = 0.0;
  double wander_tau_s = 120.0;
  // Share of recorded points (never the first or last) whose time is lost. Default: 0.
  double untimed_share = 0.0;
  // An open path (vertices, east and north metres from the start) walked once instead of the
  // loop; `laps` and the legs are then ignored. Default: empty (the loop).
  std::vector<std::array<double, 2>> path_m;
  double stop_at_m = -1;  // stand still here for stop_s. Default: no stop
  double stop_s = 0;
  double hr_bpm = 150;  // constant heart rate; NaN for none
  uint32_t seed = 1;
  double start_time_s = 1700000000;  // 2023-11-14T22:13:20Z
  engine::Sport sport = engine::Sport::kRun;
};

struct SyntheticRun {
  engine::Track truth;     // dense (0.1 s), noise-free
  engine::Track recorded;  // what the device wrote
  double length_m = 0;     // of the truth
  double ascent_m = 0;     // of the truth
  double moving_time_s = 0;
};

SyntheticRun MakeSyntheticRun(const SyntheticRunOptions& options);

// Hairpins up a slope, for SyntheticRunOptions::path_m: `legs` legs of `leg_m` metres
// alternating between headings of 15 and 165 degrees, from (0, 0).
std::vector<std::array<double, 2>> SwitchbackPath(int legs, double leg_m);

// Clears the time of each point but the first and the last with probability `share`, drawing
// from `rng` (the generator's own stream, so a seed gives the same points).
void DropTimes(engine::Track& track, double share, std::mt19937& rng);

std::string WriteGpx(const engine::Track& track, const std::string& creator = "stride synthetic");
std::string WriteTcx(const engine::Track& track);

struct FitWriteOptions {
  bool big_endian = false;             // architecture of the record definition
  bool compressed_timestamps = false;  // records after the first use 1-byte time headers
  bool developer_field = false;        // a developer field in each record (skipped on read)
  bool enhanced_altitude = true;       // enhanced_altitude (field 78) or legacy altitude (2)
  bool with_session = true;            // lap, session and timer events
  bool corrupt_crc = false;            // flip the file CRC
};
std::string WriteFit(const engine::Track& track, const FitWriteOptions& options = {});

}  // namespace stride::datasets
