// SPDX-License-Identifier: Apache-2.0
//
// route_db_tool: the in-process side of the search benchmarks (bench/scripts/serve_at_scale.sh
// and routes_vs_postgis.sh) over a real route database.
//
//   route_db_tool load --db DIR
//       loads the search snapshot as `stride serve` does; prints seconds, routes, tree and
//       geometry bytes and the process's peak RSS (MiB) as one JSON line.
//   route_db_tool query --db DIR --queries FILE [--ids OUT] [--repeat N]
//       runs each query line (an API target such as "/v1/routes/nearest?lat=..&lon=..&k=10")
//       through the API functions the server calls (parameters parsed, index queried,
//       protobuf serialised: everything but HTTP), N times; prints p50/p99 per endpoint as JSON
//       and, with --ids, one line of result ids per query (the comparison's input).
//   route_db_tool export --db DIR
//       writes every route as a tab-separated row for PostgreSQL's COPY: id, type, length_m,
//       ascent_m, max_grade, loop, surface, difficulty, network, EWKT MULTILINESTRING.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/server/bench_util.hpp"
#include "engine/route/route_json.hpp"
#include "index/store/route_snapshot.hpp"
#include "server/route_api.hpp"
#include "stride/api.pb.h"
#include "tools/format.hpp"

namespace {

using namespace stride;

int Fail(const std::string& message) {
  std::cerr << "route_db_tool: " << message << '\n';
  return 1;
}

// "/v1/routes/nearest?a=1&b=2" -> path and parameters (no percent-escapes in our query sets).
void SplitTarget(const std::string& target, std::string* path, server::Params* params) {
  const size_t q = target.find('?');
  *path = target.substr(0, q);
  params->clear();
  if (q == std::string::npos) return;
  size_t b = q + 1;
  while (b < target.size()) {
    size_t e = target.find('&', b);
    if (e == std::string::npos) e = target.size();
    const std::string kv = target.substr(b, e - b);
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) params->emplace(kv.substr(0, eq), kv.substr(eq + 1));
    b = e + 1;
  }
}

using stride::bench::Percentile;

int Load(const std::string& db) {
  Result<std::shared_ptr<const index::RouteSnapshot>> s = index::LoadRouteSnapshot(db);
  if (!s.ok()) return Fail(s.status().message());
  size_t geometry_bytes = 0, points = 0;
  for (size_t i = 0; i < (*s)->index.size(); ++i) {
    const engine::RouteGeometry& g = (*s)->index.geometry(i);
    points += g.points.size();
    geometry_bytes += g.points.capacity() * sizeof(engine::PointE7) +
                      g.part_starts.capacity() * sizeof(uint32_t) + sizeof(g);
  }
  const nlohmann::ordered_json j = {{"routes", (*s)->index.size()},
                                    {"load_s", (*s)->load_seconds},
                                    {"tree_bytes", (*s)->index.tree_bytes()},
                                    {"geometry_bytes", geometry_bytes},
                                    {"points", points},
                                    {"peak_rss_mib", tools::PeakRssMiB()}};
  std::cout << j.dump() << '\n';
  return 0;
}

int Query(const std::string& db, const std::string& queries, const std::string& ids_out,
          int repeat) {
  Result<std::shared_ptr<const index::RouteSnapshot>> s = index::LoadRouteSnapshot(db);
  if (!s.ok()) return Fail(s.status().message());
  std::ifstream in(queries);
  if (!in) return Fail("cannot read " + queries);
  std::vector<std::string> targets;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) targets.push_back(line);
  }
  std::ofstream ids;
  if (!ids_out.empty()) ids.open(ids_out);
  std::vector<double> us_bbox, us_nearest;
  size_t results = 0;
  std::string path;
  server::Params params;
  for (int round = 0; round < repeat; ++round) {
    for (const std::string& t : targets) {
      const auto t0 = std::chrono::steady_clock::now();
      SplitTarget(t, &path, &params);
      const bool nearest = path == "/v1/routes/nearest";
      const server::ApiResponse r =
          nearest ? server::NearestRoutes(**s, params, server::Wire::kProtobuf)
                  : server::ListRoutes(**s, params, server::Wire::kProtobuf);
      const double us =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      (nearest ? us_nearest : us_bbox).push_back(us);
      if (r.status != 200) return Fail(t + ": HTTP " + std::to_string(r.status));
      api::RouteList list;
      list.ParseFromString(r.body);
      results += static_cast<size_t>(list.routes_size());
      if (round == 0 && ids) {
        for (int i = 0; i < list.routes_size(); ++i) ids << (i ? " " : "") << list.routes(i).id();
        ids << '\n';
      }
    }
  }
  nlohmann::ordered_json j = {
      {"queries", targets.size()},
      {"repeat", repeat},
      {"bbox_p50_us", Percentile(us_bbox, 0.5)},
      {"bbox_p99_us", Percentile(us_bbox, 0.99)},
      {"nearest_p50_us", Percentile(us_nearest, 0.5)},
      {"nearest_p99_us", Percentile(us_nearest, 0.99)},
      {"results_per_query",
       static_cast<double>(results) / static_cast<double>(targets.size() * repeat)}};
  std::cout << j.dump() << '\n';
  return 0;
}

int Export(const std::string& db_path) {
  Result<std::unique_ptr<index::RouteDb>> db = index::RouteDb::Open(db_path);
  if (!db.ok()) return Fail(db.status().message());
  std::string row;
  Status failed = Status::Ok();
  const Status st = (*db)->ForEachSummary([&](const engine::RouteSummary& s) {
    if (!failed.ok()) return;
    Result<engine::Route> r = (*db)->GetRoute(s.id);
    if (!r.ok()) {
      failed = r.status();
      return;
    }
    row.clear();
    const char* network = engine::NetworkName(s.network);  // \N: COPY's NULL
    char buf[64];
    row += std::to_string(s.id) + '\t' + engine::RouteTypeName(s.type);
    std::snprintf(buf, sizeof buf, "\t%.9g\t%.9g\t%.9g\t", static_cast<double>(s.length_m),
                  static_cast<double>(s.ascent_m), static_cast<double>(s.max_grade));
    row += buf;
    row += s.loop ? "t\t" : "f\t";
    row += std::string(engine::SurfaceName(s.surface)) + '\t' + std::to_string(s.difficulty) +
           '\t' + (network ? network : "\\N") + "\tSRID=4326;MULTILINESTRING(";
    bool first_part = true;
    engine::ForEachPart(r->geometry, [&](size_t b, size_t e) {
      row += first_part ? "(" : ",(";
      first_part = false;
      for (size_t i = b; i < e; ++i) {
        const engine::PointE7& p = r->geometry.points[i];
        std::snprintf(buf, sizeof buf, "%s%.7f %.7f", i == b ? "" : ",", p.lon / 1e7, p.lat / 1e7);
        row += buf;
      }
      if (e - b == 1) row += std::string(",") + row.substr(row.rfind('(') + 1);  // 2 points
      row += ')';
    });
    row += ")\n";
    std::fwrite(row.data(), 1, row.size(), stdout);
  });
  if (!st.ok()) return Fail(st.message());
  if (!failed.ok()) return Fail(failed.message());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: route_db_tool load|query|export --db DIR [--queries F] [--ids OUT] "
                 "[--repeat N]\n";
    return 2;
  }
  const std::string cmd = argv[1];
  std::string db, queries, ids;
  int repeat = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--db") {
      db = argv[i + 1];
    } else if (a == "--queries") {
      queries = argv[i + 1];
    } else if (a == "--ids") {
      ids = argv[i + 1];
    } else if (a == "--repeat") {
      repeat = std::max(1, std::atoi(argv[i + 1]));
    } else {
      std::cerr << "route_db_tool: unknown option " << a << '\n';
      return 2;
    }
  }
  if (db.empty()) return Fail("--db is required");
  if (cmd == "load") return Load(db);
  if (cmd == "query")
    return queries.empty() ? Fail("--queries is required") : Query(db, queries, ids, repeat);
  if (cmd == "export") return Export(db);
  return Fail("unknown command " + cmd);
}
