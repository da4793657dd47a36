// SPDX-License-Identifier: Apache-2.0
#include "tools/import_command.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "engine/memory/keep_freed.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/text/printf.hpp"
#include "engine/text/round.hpp"
#include "engine/threads.hpp"
#include "engine/trail/hierarchy.hpp"
#include "importers/dem/elevation_stack.hpp"
#include "importers/osm/osm_import.hpp"
#include "index/store/route_db.hpp"
#include "tools/format.hpp"
#include "tools/memory_budget.hpp"
#include "tools/osm_update.hpp"

namespace stride::tools {
namespace {

using Json = nlohmann::ordered_json;

// `path` made absolute (as given when the working directory cannot be read): what the
// database records of its DEM, so that `stride update` reopens it from wherever it runs.
std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

constexpr const char* kUsage =
    "usage: stride import --osm FILE [--osm FILE ...] --db DIR [--dem DIR] [--threads N]\n"
    "                     [--min-trail-length M] [--node-index TYPE] [--memory-mb MB]\n"
    "                     [--updatable] [--quiet]\n"
    "  --osm FILE             OpenStreetMap data: .osm.pbf, .osm, .osm.gz, .osm.bz2 (repeatable;\n"
    "                         several files are one data set)\n"
    "  --db DIR               the route database to build; an existing one is replaced only\n"
    "                         when the import succeeds (the old one is kept as DIR.previous)\n"
    "  --dem DIR[,DIR...]     elevation (default: none): folders of SRTM .hgt / .hgt.zip tiles\n"
    "                         or of GeoTIFF / VRT rasters in any CRS, or raster files; the\n"
    "                         first that covers a point gives its elevation\n"
    "  --threads N            worker threads (default: all cores)\n"
    "  --min-trail-length M   shortest named trail kept, metres (default: 200)\n"
    "  --node-index TYPE      libosmium location index (default: by input size)\n"
    "  --memory-mb MB         the most memory the import may hold (default: no limit): the\n"
    "                         hierarchy leaves a larger core to stay within it; a phase\n"
    "                         that would go over it stops the import, changing nothing\n"
    "  --updatable            keep the extract in the database (DIR/update/), so that\n"
    "                         stride update can apply OSM change files to it\n"
    "  --quiet                no progress, only errors and the summary\n";

std::string UtcNow() {
  return engine::FormatIsoTime(static_cast<double>(std::time(nullptr)));
}

std::string Count(double v) {
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  }
  return buf;
}

// "42 s", "3 min 5 s", "2 h 07 min".
std::string FormatDuration(double s) {
  char buf[32];
  const long long t = static_cast<long long>(s + 0.5);
  if (t < 60) {
    std::snprintf(buf, sizeof buf, "%lld s", t);
  } else if (t < 3600) {
    std::snprintf(buf, sizeof buf, "%lld min %lld s", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", t / 3600, (t % 3600) / 60);
  }
  return buf;
}

// Progress lines on stderr: rewritten in place on a terminal, else one line per 5 s.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::ostream& err) : err_(err), tty_(isatty(STDERR_FILENO) != 0) {}
  void operator()(const importers::ImportProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (!p.phase_done && !tty_ && now - last_line_ < std::chrono::seconds(5)) return;
    last_line_ = now;
    char line[200];
    const double rate = p.phase_s > 0 ? static_cast<double>(p.objects) / p.phase_s : 0;
    int n = std::snprintf(line, sizeof line, "import: %-12s %10s objects  %10s/s  %7.1f s",
                          p.phase.c_str(), Count(static_cast<double>(p.objects)).c_str(),
                          Count(rate).c_str(), p.phase_s);
    // A pass over the input: how far it is, and the time left at its rate so far.
    if (!p.phase_done && p.fraction > 0 && n > 0 && static_cast<size_t>(n) < sizeof line) {
      std::snprintf(line + n, sizeof line - static_cast<size_t>(n), "  %3.0f %%, ~%s left",
                    p.fraction * 100, FormatDuration(p.eta_s).c_str());
    }
    // At a phase's end, the process's peak memory so far: which phase sets it, for operators
    // sizing a machine.
    char peak[48] = "";
    if (p.phase_done) std::snprintf(peak, sizeof peak, "  peak %.0f MiB", PeakRssMiB());
    if (tty_) {
      err_ << '\r' << line << peak << (p.phase_done ? "\n" : "") << std::flush;
    } else {
      err_ << line << (p.phase_done ? "  done" : "") << peak << '\n' << std::flush;
    }
  }

 private:
  std::ostream& err_;
  bool tty_;
  std::chrono::steady_clock::time_point last_line_{};
};

}  // namespace

void RemoveBuildsOnInterrupt(const std::string& command) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    // One the process was started ignoring (a background job of a script, nohup) stays
    // ignored: it would not have stopped the command.
    struct sigaction current {};
    if (sigaction(sig, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) {
      sigaddset(&set, sig);
    }
  }
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return;
  std::thread([set, command] {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return;
    const bool switched = index::AbandonBuilds();
    std::fprintf(stderr, "\nstride %s: interrupted (%s): %s\n", command.c_str(), strsignal(sig),
                 switched ? "the new database had been switched in already"
                          : "removing the unfinished database");
    std::fflush(stderr);
    std::_Exit(128 + sig);
  }).detach();
}

int RunImport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  importers::OsmImportOptions options;
  std::string db_path, dem_dir;
  bool quiet = false, updatable = false;
  uint64_t memory_mb = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return 0;
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a == "--updatable") {
      updatable = true;
    } else if (a == "--osm" && value(&v)) {
      options.inputs.push_back(v);
    } else if (a == "--db" && value(&v)) {
      db_path = v;
    } else if (a == "--dem" && value(&v)) {
      dem_dir = v;
    } else if (a == "--threads" && value(&v)) {
      if (!ParseInt(v, 1, 1024, &options.threads)) {
        err << "stride import: --threads " << v << ": expected a whole number from 1 to 1024\n";
        return 2;
      }
    } else if (a == "--min-trail-length" && value(&v)) {
      int m = 0;
      if (!ParseInt(v, 0, 1'000'000, &m)) {
        err << "stride import: --min-trail-length " << v << ": expected metres, 0 to 1000000\n";
        return 2;
      }
      options.min_named_trail_m = m;
    } else if (a == "--node-index" && value(&v)) {
      options.node_index = v;
    } else if (a == "--memory-mb" && value(&v)) {
      if (!ParseMemoryMb(v, &memory_mb)) {
        err << "stride import: --memory-mb " << v << ": " << kMemoryMbExpected << '\n';
        return 2;
      }
    } else {
      err << "stride import: unknown or incomplete option '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (options.inputs.empty() || db_path.empty()) {
    err << "stride import: --osm and --db are required\n" << kUsage;
    return 2;
  }
  BuildRequest req;
  req.options = std::move(options);
  req.db_path = db_path;
  req.dem_dir = dem_dir;
  req.quiet = quiet;
  req.memory_mb = memory_mb;
  if (updatable) {
    if (req.options.inputs.size() != 1) {
      err << "stride import: --updatable takes one --osm file (merge several first: osmium "
             "merge)\n";
      return 2;
    }
    // The extract goes into the new database (update/), so stride update can apply diffs to it.
    req.prepare = [](const std::string& build_dir, importers::OsmImportOptions& o) {
      Result<std::string> kept = KeepSource(build_dir, o.inputs[0]);
      if (!kept.ok()) return kept.status();
      return Status::Ok();
    };
    req.extra_meta.emplace_back(
        "update",
        Json{{"sequence", nullptr}, {"timestamp", nullptr}, {"applied", Json::array()}}.dump());
  }
  return BuildRouteDb(req, out, err);
}

int BuildRouteDb(BuildRequest& req, std::ostream& out, std::ostream& err) {
  importers::OsmImportOptions& options = req.options;
  const std::string& db_path = req.db_path;
  const std::string& dem_dir = req.dem_dir;
  const bool quiet = req.quiet;
  const std::string cmd = "stride " + req.command + ": ";
  const auto started = std::chrono::steady_clock::now();
  const std::string started_utc = UtcNow();
  if (!req.lock) {  // first: a second command fails at once, not after reading its inputs
    // (checked before: no DIR.lock is left beside a path that is not a database)
    Status target = index::RouteDbBuilder::CheckTarget(db_path);
    if (target.ok()) target = index::RouteDbBuilder::CreateParents(db_path);
    if (!target.ok()) {
      err << cmd + "error: " << target.message() << '\n';
      return 1;
    }
    Result<index::DbLock> lock = index::DbLock::Acquire(db_path);
    if (!lock.ok()) {
      err << cmd + "error: " << lock.status().message() << '\n';
      return 1;
    }
    req.lock.emplace(std::move(lock).value());
  }
  MemoryBudget budget(req.memory_mb, req.command);
  if (budget.over_at_start() > 0) {
    err << cmd << "error: --memory-mb " << budget.mib() << ": the process holds "
        << budget.over_at_start() << " MiB before it starts, over the budget (nothing was written; "
        << db_path << " is unchanged)\n";
    return 1;
  }

  std::unique_ptr<importers::ElevationStack> dem;
  if (!dem_dir.empty()) {
    Result<std::unique_ptr<importers::ElevationStack>> d = importers::ElevationStack::Open(dem_dir);
    if (!d.ok()) {
      err << cmd + "error: " << d.status().message() << '\n';
      return 1;
    }
    dem = std::move(d).value();
    if (dem->tiles_and_rasters() == 0) {
      err << cmd + "note: --dem " << dem_dir
          << " holds no SRTM tiles (N42E001.hgt ...) or rasters (*.tif); routes get no "
             "elevation\n";
    } else if (!quiet) {
      err << cmd + "elevation from\n" << dem->Describe();
    }
    options.dem = dem.get();
  }

  Result<std::unique_ptr<index::RouteDbBuilder>> builder = index::RouteDbBuilder::Create(db_path);
  if (!builder.ok()) {
    err << cmd + "error: " << builder.status().message() << '\n';
    return 1;
  }
  options.scratch_dir = (*builder)->build_dir() + "/import-scratch";
  if (req.prepare) {
    budget.SetPhase(req.prepare_phase);
    const Status prepared = req.prepare((*builder)->build_dir(), options);
    if (!prepared.ok()) {
      err << cmd << "error: " << prepared.message() << " (nothing was written; " << db_path
          << " is unchanged)\n";
      return 1;
    }
  }
  ProgressPrinter printer(err);
  options.on_progress = [&](const importers::ImportProgress& p) {
    budget.SetPhase(p.phase_done ? "finishing " + p.phase : "reading " + p.phase);
    if (!quiet) printer(p);
  };

  Result<importers::OsmImportStats> stats = importers::ImportOsm(options, **builder);
  if (!stats.ok()) {
    err << cmd + "error: " << stats.status().message() << " (nothing was written; " << db_path
        << " is unchanged)\n";
    return 1;
  }
  const importers::OsmImportStats& s = *stats;
  if (dem) {
    // A tile or raster that is there but could not be read: its routes would lack the
    // elevation the operator asked for, with nothing said. Before the hierarchy (minutes on a
    // large map) and before anything is committed.
    const std::vector<std::string> unreadable = dem->Unreadable();
    if (!unreadable.empty()) {
      err << cmd + "error: --dem " << unreadable.front();
      if (unreadable.size() > 1) err << " (and " << unreadable.size() - 1 << " more)";
      err << " (nothing was written; " << db_path << " is unchanged)\n";
      return 1;
    }
  }

  // The trail graph and its contraction hierarchy (fast directions on large maps), in memory
  // the OSM pass freed: given back first, as it lies in small pieces the graph cannot reuse.
  engine::ReturnFreedMemory();
  budget.SetPhase("building the trail graph and its hierarchy");
  const auto graph_started = std::chrono::steady_clock::now();
  size_t step_done = 0;  // nodes contracted at the previous progress call, and when
  double step_at_s = 0;
  auto graph_progress = [&](size_t done, size_t total) {
    if (quiet) return;
    importers::ImportProgress p;
    p.phase = "hierarchy";
    p.objects = done;
    p.phase_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - graph_started).count();
    p.phase_done = done == total;
    if (total > 0 && done > step_done) {
      // Contraction slows as it goes: estimated from the rate since the last call (calls come
      // every 65,536 nodes), not the average so far (engine/trail/hierarchy.hpp).
      p.fraction = static_cast<double>(done) / static_cast<double>(total);
      p.eta_s = engine::trail::ContractionSecondsLeft(done, total, done - step_done,
                                                      p.phase_s - step_at_s);
      if (std::isnan(p.eta_s)) p.fraction = -1;
      step_done = done;
      step_at_s = p.phase_s;
    }
    printer(p);
  };
  // Two threads at most share a contraction (HierarchyOptions::threads).
  const int hierarchy_threads = engine::ThreadsOrCores(options.threads);
  std::function<bool(size_t)> out_of_memory;
  if (budget.enabled()) out_of_memory = [&](size_t more) { return budget.OutOfMemory(more); };
  (*builder)->InheritHierarchyOrder(req.max_order_drift);
  const engine::trail::HierarchyStats hierarchy =
      (*builder)->BuildTrailGraph(graph_progress, out_of_memory, hierarchy_threads);
  const double order_drift = (*builder)->hierarchy_order_drift();
  // The contraction's working lists, freed in millions of small blocks: given back before the
  // database is written, which needs memory of other sizes.
  engine::ReturnFreedMemory();
  budget.SetPhase("writing the database");
  const double graph_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - graph_started).count();

  // Meta: the import and one manifest per source.
  std::vector<std::pair<std::string, std::string>> meta;
  Json counts = {{"routes", s.routes},
                 {"route_relations", s.routes - s.named_trails},
                 {"named_trails", s.named_trails},
                 {"super_routes", s.super_routes},
                 {"routes_with_gaps", s.routes_with_gaps},
                 {"loops", s.loops},
                 {"routes_without_elevation", s.routes_without_elevation},
                 {"routes_without_geometry", s.routes_without_geometry},
                 {"missing_members", s.missing_members},
                 {"walkable_ways", s.walkable_ways},
                 {"trail_edges", s.edges},
                 {"route_length_km", engine::RoundTo(s.route_length_m / 1000, 0.1)},
                 {"edge_length_km", engine::RoundTo(s.edge_length_m / 1000, 0.1)},
                 {"nodes_read", s.nodes},
                 {"ways_read", s.ways},
                 {"relations_read", s.relations}};
  meta.emplace_back("counts", counts.dump());
  Json phases = Json::object();
  for (const auto& [name, secs] : s.phase_seconds) phases[name] = engine::RoundTo(secs, 0.001);
  phases["trail_graph_and_hierarchy"] = engine::RoundTo(graph_s, 0.001);
  Json import = {{"stride_version", STRIDE_VERSION_TEXT},
                 {"started_at", started_utc},
                 {"finished_at", UtcNow()},
                 {"dem", dem_dir.empty() ? Json(nullptr) : Json(AbsolutePath(dem_dir))},
                 {"node_index", s.node_index},
                 {"min_trail_length_m", options.min_named_trail_m},
                 {"phase_seconds", phases},
                 // kept: taken from the database replaced (the same walkable network);
                 // inherited: built in the node order of the one replaced (stride update)
                 {"hierarchy", hierarchy.reused    ? "kept"
                               : hierarchy.ordered ? "inherited"
                                                   : "built"}};
  meta.emplace_back("import", import.dump());
  for (size_t k = 0; k < s.sources.size(); ++k) {
    const importers::OsmSourceManifest& m = s.sources[k];
    char key[32];
    std::snprintf(key, sizeof key, "manifest/%04zu", k);
    Json j = {{"source", req.source_label.empty() ? m.path : req.source_label},
              {"format", m.format},
              {"size_bytes", m.size_bytes},
              {"sha256", m.sha256},
              {"replication_timestamp",
               m.replication_timestamp.empty() ? Json(nullptr) : Json(m.replication_timestamp)},
              {"generator", m.generator.empty() ? Json(nullptr) : Json(m.generator)}};
    meta.emplace_back(key, j.dump());
  }
  for (const auto& kv : req.extra_meta) meta.push_back(kv);
  const Status committed = (*builder)->Commit(meta);
  if (!committed.ok()) {
    err << cmd + "error: " << committed.message() << '\n';
    return 1;
  }
  const uint64_t bytes = (*builder)->committed_bytes();
  builder->reset();

  if (s.routes == 0 && s.edges == 0) {
    // Not an error (the database is valid, and an update may well remove the last trail), but
    // most likely the wrong extract or a filtered one: say so rather than serve empty answers.
    err << cmd + "warning: the database holds no route and no walkable way (" << s.nodes
        << " nodes, " << s.ways << " ways read): every search will answer nothing\n";
  }
  if (!dem && !quiet) {
    err << cmd + "note: no --dem given; routes have no elevation profile\n";
  }
  if (dem) {
    const std::vector<std::string> missing = dem->MissingTiles();
    if (!missing.empty()) {
      err << cmd + "note: no DEM tile for";
      for (size_t i = 0; i < missing.size() && i < 20; ++i) err << ' ' << missing[i];
      if (missing.size() > 20) err << " ... (" << missing.size() << " tiles)";
      err << "; " << s.routes_without_elevation << " routes have no elevation\n";
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string hierarchy_line =
      hierarchy.reused
          ? std::string(
                "contraction hierarchy kept from the database it replaces "
                "(the walkable network and its costs are unchanged)")
          : engine::StringPrintf("contraction hierarchy with %llu shortcuts in %.1f s",
                                 static_cast<unsigned long long>(hierarchy.shortcuts),
                                 hierarchy.seconds) +
                (hierarchy.core == 0
                     ? std::string()
                     : engine::StringPrintf(", its top %llu junctions left as a core",
                                            static_cast<unsigned long long>(hierarchy.core))) +
                (hierarchy.out_of_memory
                     ? engine::StringPrintf(" (stopped at --memory-mb %llu)",
                                            static_cast<unsigned long long>(budget.mib()))
                     : std::string()) +
                (hierarchy.ordered
                     ? engine::StringPrintf(
                           ", in the node order of the one it replaces (drift %.3f %% of %.3g %%)",
                           100 * order_drift, 100 * req.max_order_drift)
                     : std::string());
  char line[800];
  std::snprintf(
      line, sizeof line,
      "%s %llu routes (%llu relations, %llu named trails; %llu loops, %llu with "
      "gaps), %llu trail edges from %llu nodes, %llu ways\n"
      "trail graph: %s\n"
      "database %s: %.1f MiB; %.1f s (%.0f nodes/s); peak memory %.0f MiB%s\n",
      req.command == "update" ? "rebuilt with" : "imported",
      static_cast<unsigned long long>(s.routes),
      static_cast<unsigned long long>(s.routes - s.named_trails),
      static_cast<unsigned long long>(s.named_trails), static_cast<unsigned long long>(s.loops),
      static_cast<unsigned long long>(s.routes_with_gaps), static_cast<unsigned long long>(s.edges),
      static_cast<unsigned long long>(s.nodes), static_cast<unsigned long long>(s.ways),
      hierarchy_line.c_str(), db_path.c_str(), static_cast<double>(bytes) / (1024.0 * 1024.0), secs,
      secs > 0 ? static_cast<double>(s.nodes) / secs : 0.0, PeakRssMiB(),
      budget.enabled()
          ? engine::StringPrintf(" (budget %llu)", static_cast<unsigned long long>(budget.mib()))
                .c_str()
          : "");
  out << line;
  return 0;
}

}  // namespace stride::tools
