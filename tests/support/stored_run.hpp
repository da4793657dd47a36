// SPDX-License-Identifier: Apache-2.0
//
// A run as a run store receives it, every part filled (summary, original bytes, one analysed
// session, a covered route, the cleaned streams), made from a seed: for the tests of the run
// stores (RocksDB's and PostgreSQL's), which must give each part back as it went in.
#pragma once

#include <random>
#include <string>

#include "engine/run/run.hpp"
#include "engine/track/analysis.hpp"

namespace stride::testing {

inline engine::Run MakeStoredRun(const std::string& user, double start, uint32_t seed) {
  engine::Run r;
  r.summary.user_id = user;
  r.summary.start_time_s = start;
  r.summary.uploaded_at_s = 1.8e9;
  r.summary.sport = "run";
  r.summary.format = "fit";
  r.summary.distance_m = 1000 + seed;
  r.summary.ascent_m = engine::kNaN;
  r.summary.sessions = 1;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  r.original = std::string(5000 + seed, 'x');
  for (char& c : r.original) c = static_cast<char>(rng());
  engine::Track t;
  for (int i = 0; i < 300; ++i) {
    engine::TrackPoint p;
    p.time_s = start + i * 1.001;
    p.lat_deg = 42.5 + i * 1e-5 + u(rng) * 1e-6;
    p.lon_deg = 1.5 - i * 1e-5;
    p.ele_m = i % 17 == 0 ? engine::kNaN : 1000 + u(rng) * 30;
    p.hr_bpm = i < 10 ? engine::kNaN : 140 + i % 20;
    t.Append(p);
  }
  t.sport = engine::Sport::kRun;
  r.sessions.push_back(engine::Analyze(t));
  r.sessions.back().track = engine::Track();
  engine::CoveredRoute c;
  c.id = 0x8000000000000000ull | seed;
  c.osm = "relation/" + std::to_string(seed);
  c.type = "hiking";
  c.length_m = 1234.5;
  c.covered_m = 617.25;
  c.share = 0.5;
  c.first_reached_s = start + 12;
  r.coverage.push_back(c);
  r.tracks.push_back(t);
  return r;
}

}  // namespace stride::testing
