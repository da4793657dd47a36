// SPDX-License-Identifier: Apache-2.0
//
// Distance against ground truth at every sampling a device uses. Known paths (a running loop,
// hiking switchbacks, an out-and-back with a long stop at the turn, a walk over a generated
// trail network, and a real Andorra trail when the shared data is there) are walked at a constant
// speed with a stop, recorded with white and slowly wandering GPS error at 1, 2, 5, 10, 30, 60 and
// 120 s, and with one point in twenty losing its time. The analysed distance is compared with the
// true path's length, and with the raw polyline of the same fixes (what a plain tool reports).
// Prints the table reported in the issue note; the seeds are fixed, so the figures are
// reproducible.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_osm.hpp"
#include "engine/geo/geodesy.hpp"
#include "engine/track/analysis.hpp"
#include "engine/trail/router.hpp"
#include "importers/activity/activity_reader.hpp"
#include "index/store/route_snapshot.hpp"
#include "tests/support/datasets.hpp"
#include "tests/support/import.hpp"

namespace stride {
namespace {

using Path = std::vector<std::array<double, 2>>;

struct Scenario {
  std::string name;
  Path path;  // empty: the synthetic loop
  double speed_mps;
  engine::Sport sport;
  double stop_at_m;
  double stop_s;
};

// A winding trail out, then the same way back.
Path OutAndBack(double length_m) {
  Path out{{0, 0}};
  for (double s = 50; s <= length_m; s += 50) {
    out.push_back({s, 120.0 * std::sin(s / 300.0)});
  }
  Path p = out;
  for (size_t i = out.size() - 1; i-- > 0;) p.push_back(out[i]);
  return p;
}

// The first `max_m` metres of the shared 2016 Andorra hike, as a path: its fixes thinned to
// one every 20 m (a trail's shape; the recording's jitter gone). Empty without the data.
Path AndorraTrail(double max_m) {
  if (!testing::HaveDatasets()) return {};
  Result<std::string> bytes = importers::ReadFileBytes(
      testing::DatasetsDir() + "/gpx/andorra_hike_2016-09-13_adrutas_170708_b.gpx");
  if (!bytes.ok()) return {};
  Result<engine::Activity> act = importers::ReadActivity(*bytes);
  if (!act.ok() || act->sessions.empty()) return {};
  const engine::Track& t = act->sessions.front();
  const engine::LocalPlane plane(t.lat_deg[0], t.lon_deg[0]);
  Path p{{0, 0}};
  double length = 0;
  for (size_t i = 1; i < t.size() && length < max_m; ++i) {
    double x, y;
    plane.ToMetres(t.lat_deg[i], t.lon_deg[i], &x, &y);
    const double d = std::hypot(x - p.back()[0], y - p.back()[1]);
    if (d < 20) continue;
    length += d;
    p.push_back({x, y});
  }
  return p;
}

// A walk over the generated trail network (datasets/synthetic_osm.hpp: junctions ~400 m apart
// joined by wiggly ways of ~40 m segments): the shortest path between two points 5 to 8 km
// apart on a generated map of 20,000 nodes, imported as `stride import` does. Built once.
Path GeneratedMapWalk() {
  static const Path walk = [] {
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::path(::testing::TempDir()) / ("stride_ground_truth_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    Path p;
    datasets::SyntheticOsmOptions so;
    so.target_nodes = 20'000;
    const std::string osm = (dir / "map.osm.pbf").string(), db = (dir / "db").string();
    Result<datasets::SyntheticOsmStats> st = datasets::WriteSyntheticOsm(osm, so);
    Result<std::shared_ptr<const index::RouteSnapshot>> snap =
        st.ok() && testing::ImportToDb(osm, db, nullptr).ok()
            ? index::LoadRouteSnapshot(db)
            : Result<std::shared_ptr<const index::RouteSnapshot>>(Status::Internal("no map"));
    if (snap.ok() && (*snap)->graph) {
      const engine::trail::TrailGraph& g = *(*snap)->graph;
      const std::vector<uint32_t> edges = g.LargestComponentEdges();
      std::mt19937_64 rng(11);
      std::uniform_int_distribution<size_t> pick(0, edges.size() - 1);
      auto draw = [&] {
        engine::trail::Snap s;
        s.edge = edges[pick(rng)];
        s.offset_m = 0.5 * g.edges[s.edge].length_m;
        s.point = g.PointAt(s.edge, s.offset_m);
        return s;
      };
      for (int tries = 0; tries < 200 && p.empty(); ++tries) {
        Result<engine::trail::Path> path = engine::trail::ShortestPath(g, draw(), draw(), {});
        if (!path.ok() || path->distance_m < 5000 || path->distance_m > 8000) continue;
        std::vector<engine::PointE7> line;
        engine::trail::PathGeometry(g, *path, &line, nullptr);
        const engine::LocalPlane plane(line[0].lat * 1e-7, line[0].lon * 1e-7);
        for (const engine::PointE7& q : line) {
          double x, y;
          plane.ToMetres(q.lat * 1e-7, q.lon * 1e-7, &x, &y);
          p.push_back({x, y});
        }
      }
    }
    fs::remove_all(dir);
    return p;
  }();
  return walk;
}

// Length of the straight lines between the recorded fixes, leaving out the fixes recorded while
// the walker stood (the generator's distance stream says so): a plain tool that knew where
// the stop was. Its error is what sampling and noise alone cost.
double Polyline(const engine::Track& t) {
  double d = 0;
  size_t last = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    if (t.distance_m[i] == t.distance_m[last]) continue;
    d += engine::SegmentDistanceM(t.lat_deg[last], t.lon_deg[last], t.lat_deg[i], t.lon_deg[i]);
    last = i;
  }
  return d;
}

struct Row {
  double ours_pct;
  double raw_pct;
};

// How the recording reaches the analysis: as the generator's track, or written to a FIT or
// TCX file and read back (the path a device's file takes).
enum class Via { kTrack, kFit, kTcx };

Row Measure(const Scenario& sc, double interval_s, uint32_t seed, Via via = Via::kTrack,
            double max_interval_s = 0) {
  datasets::SyntheticRunOptions o;
  o.path_m = sc.path;
  o.speed_mps = sc.speed_mps;
  o.sport = sc.sport;
  o.interval_s = interval_s;
  o.max_interval_s = max_interval_s;
  // White jitter 0.6 m: the top of what the smoother measures on the shared dense recordings
  // (0.2-0.64 m: devices filter on board); the rest of a receiver's error wanders.
  o.noise_m = 0.6;
  o.wander_m = 4.0;
  o.wander_tau_s = 120.0;
  o.untimed_share = via == Via::kTrack ? 0.05 : 0.0;  // FIT records always carry a time
  o.stop_at_m = sc.stop_at_m;
  o.stop_s = sc.stop_s;
  o.seed = seed;
  const datasets::SyntheticRun run = datasets::MakeSyntheticRun(o);
  engine::Track recorded = run.recorded;
  if (via != Via::kTrack) {
    const std::string bytes =
        via == Via::kFit ? datasets::WriteFit(recorded) : datasets::WriteTcx(recorded);
    Result<engine::Activity> act = importers::ReadActivity(bytes);
    if (!act.ok() || act->sessions.size() != 1) {
      ADD_FAILURE() << "the written file does not read back";
      return {NAN, NAN};
    }
    recorded = act->sessions.front();
  }
  // The sport as the athlete would give it (TCX knows only running and biking).
  engine::AnalyzeOptions options;
  options.sport = sc.sport;
  const engine::Analysis a = engine::Analyze(recorded, options);
  return {(a.distance_m - run.length_m) / run.length_m * 100,
          (Polyline(run.recorded) - run.length_m) / run.length_m * 100};
}

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> scenarios = {
      {"loop, run 3 m/s", {}, 3.0, engine::Sport::kRun, 2000, 120},
      {"switchbacks, hike 0.9 m/s", datasets::SwitchbackPath(40, 120), 0.9, engine::Sport::kHike,
       2500, 600},
      {"out-and-back, walk 1.4 m/s", OutAndBack(3000), 1.4, engine::Sport::kWalk, 3000, 900},
  };
  const Path walk = GeneratedMapWalk();
  EXPECT_GE(walk.size(), 100u) << "the generated map gave no walk";
  scenarios.push_back(
      {"generated map walk, hike 0.9 m/s", walk, 0.9, engine::Sport::kHike, 2500, 600});
  const Path trail = AndorraTrail(6000);
  if (trail.size() >= 2) {
    scenarios.push_back(
        {"Andorra trail, hike 0.8 m/s", trail, 0.8, engine::Sport::kHike, 3000, 600});
  } else {
    std::printf("(shared datasets absent: the Andorra trail is left out)\n");
  }
  return scenarios;
}

TEST(GroundTruth, DistanceAtEverySamplingInterval) {
  const std::vector<Scenario> scenarios = Scenarios();
  const std::vector<double> intervals = {1, 2, 5, 10, 30, 60, 120};
  constexpr int kSeeds = 3;
  struct Cell {
    std::string where;
    double dt, ours, raw, worst;
  };
  std::vector<Cell> cells;
  std::string table = "path (mean error %, ours / raw)";
  table.resize(32, ' ');
  char buf[64];
  for (double dt : intervals) {
    std::snprintf(buf, sizeof buf, " %13.0fs", dt);
    table += buf;
  }
  table += "\n";
  for (const Scenario& sc : scenarios) {
    std::string line = sc.name;
    line.resize(32, ' ');
    for (double dt : intervals) {
      Cell c{sc.name + " at " + std::to_string(static_cast<int>(dt)) + " s", dt, 0, 0, 0};
      for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
        const Row r = Measure(sc, dt, seed);
        c.ours += r.ours_pct / kSeeds;
        c.raw += r.raw_pct / kSeeds;
        c.worst = std::max(c.worst, std::fabs(r.ours_pct) - std::fabs(r.raw_pct));
      }
      std::snprintf(buf, sizeof buf, " %+6.2f/%+6.2f", c.ours, c.raw);
      line += buf;
      cells.push_back(c);
    }
    table += line + "\n";
  }
  std::printf("%s", table.c_str());
  // Where a target is missed today, the bound that keeps it from getting worse: the issue
  // note lists them. Targets: within 1 % at 1-5 s, within 3 % at 30 s, and for every seed
  // no further from the truth than the raw polyline.
  const std::map<std::string, double> accuracy_misses = {};
  const std::map<std::string, double> raw_misses = {
      // The stop's edges at 5-30 s (the approach and the departure are sampled where the
      // walker happened to be: with a hairpin or the turn of an out-and-back between them,
      // one seed of three comes out up to 0.18 points further from the truth than the raw
      // polyline, which knows where the walker stood; on the generated map's walk the same
      // seed is 0.03 points nearer than the raw polyline without the stop), and a runner's
      // loop at 5 s.
      {"switchbacks, hike 0.9 m/s at 30 s", 0.15},
      {"loop, run 3 m/s at 5 s", 0.1},
      {"out-and-back, walk 1.4 m/s at 10 s", 0.2},
      {"generated map walk, hike 0.9 m/s at 10 s", 0.2},
      {"loop, run 3 m/s at 10 s", 0.05},
  };
  auto bound = [](const std::map<std::string, double>& m, const std::string& k, double v) {
    const auto it = m.find(k);
    return it == m.end() ? v : it->second;
  };
  for (const Cell& c : cells) {
    SCOPED_TRACE(c.where);
    if (c.dt <= 5) {
      EXPECT_LE(std::fabs(c.ours), bound(accuracy_misses, c.where, 1.0));
    } else if (c.dt == 30 && std::fabs(c.raw) <= 3.0) {
      // (where the fixes themselves allow it: 30 s fixes on 120 m switchbacks miss 10 % of
      // the path, which no analysis without the map gets back)
      EXPECT_LE(std::fabs(c.ours), 3.0);
    }
    // (0.01 point: where the smoother leaves sparse fixes alone, the two differ by rounding)
    EXPECT_LE(c.worst, bound(raw_misses, c.where, 0.0) + 0.01);
  }
}

TEST(GroundTruth, SmartRecordingThroughFitAndTcx) {
  // Variable ("smart") recording: a fix every 1 to 8 s, more when the device sees a change;
  // random here. Written to FIT and TCX and read back: the files must analyse as the track.
  const std::map<std::string, double> accuracy_misses = {};
  const std::map<std::string, double> raw_misses = {{"loop, run 3 m/s", 0.15}};
  std::printf("%-32s %15s %15s %15s\n", "path (error %, ours / raw)", "track", "FIT", "TCX");
  for (const Scenario& sc : Scenarios()) {
    std::printf("%-32s", sc.name.c_str());
    const auto acc = accuracy_misses.find(sc.name);
    const auto raw = raw_misses.find(sc.name);
    double first = NAN;
    for (Via via : {Via::kTrack, Via::kFit, Via::kTcx}) {
      const Row r = Measure(sc, 1.0, 7, via, 8.0);
      std::printf(" %+6.2f/%+7.2f", r.ours_pct, r.raw_pct);
      SCOPED_TRACE(sc.name);
      EXPECT_LE(std::fabs(r.ours_pct), acc == accuracy_misses.end() ? 1.0 : acc->second);
      EXPECT_LE(std::fabs(r.ours_pct) - std::fabs(r.raw_pct),
                (raw == raw_misses.end() ? 0.0 : raw->second) + 0.01);
      if (std::isnan(first)) first = r.ours_pct;
      EXPECT_NEAR(r.ours_pct, first, 0.05);  // the file analyses as the track it was written from
    }
    std::printf("\n");
  }
}

}  // namespace
}  // namespace stride
