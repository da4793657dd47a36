// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/route/route_json.hpp"
#include "engine/text/printf.hpp"
#include "index/store/route_db.hpp"
#include "tools/import_command.hpp"

namespace stride::tools {
namespace {

constexpr const char* kUsage =
    "usage: stride inspect --db DIR [--route ID | --list]\n"
    "  --db DIR     a route database built by 'stride import'\n"
    "  --list       one line per route: id, OSM origin, type, length, ascent, loop, parts, name\n"
    "  --route ID   print one route as JSON; ID is the numeric route id, relation/N (or rN),\n"
    "               or trail/N (or wN: a named trail by its first way)\n";

}  // namespace

int RunInspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string db_path, route;
  bool list = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return 0;
    } else if (a == "--db" && i + 1 < args.size()) {
      db_path = args[++i];
    } else if (a == "--list") {
      list = true;
    } else if (a == "--route" && i + 1 < args.size()) {
      route = args[++i];
    } else {
      err << "stride inspect: unknown or incomplete option '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (db_path.empty()) {
    err << "stride inspect: --db is required\n" << kUsage;
    return 2;
  }
  const std::optional<uint64_t> ref = engine::ParseRouteRef(route);
  const uint64_t route_id = ref.value_or(0);
  if (!route.empty() && !ref) {
    err << "stride inspect: --route " << route
        << ": expected a number, relation/N, trail/N, rN or wN\n";
    return 2;
  }
  Result<std::unique_ptr<index::RouteDb>> db = index::RouteDb::Open(db_path);
  if (!db.ok()) {
    err << "stride inspect: error: " << db.status().message() << '\n';
    return 1;
  }
  if (!route.empty()) {
    Result<engine::Route> r = (*db)->GetRoute(route_id);
    if (!r.ok()) {
      err << "stride inspect: error: " << r.status().message() << " (" << route << ", "
          << engine::OsmRefOf(route_id) << ")\n";
      return 1;
    }
    out << engine::RouteJson(*r) << '\n';
    return 0;
  }

  if (list) {
    std::vector<uint64_t> ids;
    const Status s =
        (*db)->ForEachSummary([&](const engine::RouteSummary& r) { ids.push_back(r.id); });
    if (!s.ok()) {
      err << "stride inspect: error: " << s.message() << '\n';
      return 1;
    }
    std::sort(ids.begin(), ids.end());
    for (uint64_t id : ids) {
      Result<engine::Route> r = (*db)->GetRoute(id);
      if (!r.ok()) {
        err << "stride inspect: error: " << r.status().message() << '\n';
        return 1;
      }
      char line[256];
      std::snprintf(line, sizeof line, "%-20llu %-18s %-13s %9.1f m %7.1f m %-4s %3zu  ",
                    static_cast<unsigned long long>(id), engine::OsmRefOf(id).c_str(),
                    engine::RouteTypeName(r->summary.type), r->length_m, r->ascent_m,
                    r->summary.loop ? "loop" : "-", r->geometry.part_starts.size());
      out << line << r->name << '\n';
    }
    return 0;
  }

  using Json = nlohmann::ordered_json;
  out << "database " << db_path << '\n';
  out << "schema version " << (*db)->GetMeta("schema_version").value() << '\n';
  if (Result<std::string> imp = (*db)->GetMeta("import"); imp.ok()) {
    const Json j = Json::parse(*imp, nullptr, false);
    if (!j.is_discarded()) {
      out << "imported " << j.value("finished_at", "?") << " by stride "
          << j.value("stride_version", "?") << ", node index " << j.value("node_index", "?")
          << ", dem " << (j["dem"].is_string() ? j["dem"].get<std::string>() : "none") << '\n';
      // How its contraction hierarchy came about (tools/osm_update.hpp), and how far the node
      // order has drifted from the network since it was computed.
      const std::string how = j.value("hierarchy", "");
      Result<std::string> drift = (*db)->GetMeta(index::kMetaHierarchyOrderDrift);
      const std::string drift_text =
          drift.ok() ? engine::StringPrintf("%.3f %%", 100 * std::strtod(drift->c_str(), nullptr))
                     : std::string("not recorded");
      if (how == "built") {
        out << "contraction hierarchy: built, its node order computed afresh\n";
      } else if (how == "kept") {
        out << "contraction hierarchy: kept from the database it replaced (order drift "
            << drift_text << ")\n";
      } else if (how == "inherited") {
        out << "contraction hierarchy: contracted in the node order of the one it replaced "
               "(order drift "
            << drift_text << ")\n";
      }
    }
  }
  for (const auto& [key, value] : (*db)->MetaWithPrefix("manifest/")) {
    const Json j = Json::parse(value, nullptr, false);
    if (j.is_discarded()) continue;
    out << "source " << j.value("source", "?") << " (" << j.value("format", "?") << ", "
        << j.value("size_bytes", uint64_t{0}) << " bytes)\n"
        << "  sha256 " << j.value("sha256", "?") << '\n'
        << "  replication timestamp "
        << (j["replication_timestamp"].is_string() ? j["replication_timestamp"].get<std::string>()
                                                   : "none")
        << '\n';
  }
  if (Result<std::string> u = (*db)->GetMeta("update"); u.ok()) {
    const Json j = Json::parse(*u, nullptr, false);
    if (j.is_object()) {
      const Json applied = j.value("applied", Json::array());
      out << "updatable: " << applied.size() << " change file(s) applied";
      if (!applied.empty()) {
        const Json& last = applied.back();
        out << ", the last " << last.value("file", "?") << " at " << last.value("applied_at", "?");
      }
      out << "; sequence "
          << (j["sequence"].is_number() ? std::to_string(j["sequence"].get<uint64_t>()) : "none")
          << ", data up to "
          << (j["timestamp"].is_string() ? j["timestamp"].get<std::string>() : "its extract")
          << '\n';
    }
  }
  if (Result<std::string> c = (*db)->GetMeta("counts"); c.ok()) {
    const Json j = Json::parse(*c, nullptr, false);
    if (!j.is_discarded()) {
      out << "counts";
      for (const auto& [k, v] : j.items()) out << "\n  " << k << ' ' << v.dump();
      out << '\n';
    }
  }
  // Routes by type, from the summaries (one sequential scan).
  std::map<std::string, std::pair<uint64_t, double>> by_type;
  uint64_t summaries = 0;
  const Status s = (*db)->ForEachSummary([&](const engine::RouteSummary& r) {
    auto& [n, km] = by_type[engine::RouteTypeName(r.type)];
    ++n;
    km += r.length_m / 1000.0;
    ++summaries;
  });
  if (!s.ok()) {
    err << "stride inspect: error: " << s.message() << '\n';
    return 1;
  }
  out << "route summaries " << summaries << '\n';
  for (const auto& [type, v] : by_type) {
    char line[128];
    std::snprintf(line, sizeof line, "  %-15s %8llu routes %10.1f km\n", type.c_str(),
                  static_cast<unsigned long long>(v.first), v.second);
    out << line;
  }
  out << "trail graph keys (estimate) " << (*db)->EstimateKeys(index::kFamilyTrailGraph) << '\n';
  return 0;
}

}  // namespace stride::tools
