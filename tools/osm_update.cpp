// SPDX-License-Identifier: Apache-2.0
#include "tools/osm_update.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <osmium/io/any_input.hpp>
#include <osmium/io/any_output.hpp>
#include <osmium/io/input_iterator.hpp>
#include <osmium/io/reader.hpp>
#include <osmium/io/writer.hpp>
#include <osmium/memory/buffer.hpp>
#include <osmium/osm/object.hpp>
#include <sstream>
#include <tuple>

#include "engine/text/iso_time.hpp"
#include "engine/text/number.hpp"
#include "importers/osm/osm_import.hpp"
#include "index/store/route_db.hpp"
#include "tools/format.hpp"
#include "tools/import_command.hpp"
#include "tools/memory_budget.hpp"

namespace stride::tools {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr const char* kUsage =
    "usage: stride update --db DIR --osc FILE [--osc FILE ...] [--state FILE] [--dem DIR]\n"
    "                     [--threads N] [--memory-mb MB] [--max-order-drift PERCENT] [--quiet]\n"
    "  --db DIR      a route database imported with stride import --updatable\n"
    "  --osc FILE    an OpenStreetMap change file (.osc, .osc.gz, .osc.bz2), applied in order\n"
    "                (repeatable): replication diffs, or osmium derive-changes output\n"
    "  --state FILE  the replication state.txt of the last diff (sequenceNumber, timestamp):\n"
    "                recorded, and a sequence not after the database's is refused\n"
    "  --dem DIR     elevation for the rebuild (default: the --dem of the import, which the\n"
    "                database records; give this when those files moved)\n"
    "  --threads N   worker threads of the rebuild (default: all cores; 1 leaves a server on\n"
    "                the same machine more of it, for a slower update)\n"
    "  --memory-mb MB  the most memory the update may hold (default: no limit), as for\n"
    "                stride import\n"
    "  --max-order-drift PERCENT  when the walkable network changed, contract the new\n"
    "                hierarchy in the node order of the old one (much faster) while the nodes\n"
    "                without a place in it, summed over the updates since the order was last\n"
    "                computed, are at most PERCENT of all (default: 0.5); past it, or with 0, the\n"
    "                order is computed afresh (the hierarchy a fresh import builds)\n"
    "  --quiet       no progress, only errors and the summary\n";

// --max-order-drift's default, as a share: the order is inherited over updates that leave up
// to 0.5 % of the nodes without a place in it, then computed afresh. On the generated 10^7-node
// map (bench/README) a minutely diff leaves 0.004 % (so ~125 of them pass before the order is
// made again); one of 100,000 changes 0.36 %, with 2 % more shortcuts than an order made afresh
// and searches settling 12 % more nodes.
constexpr double kDefaultMaxOrderDrift = 0.005;

// (type, id): the order of a sorted OSM file (nodes, ways, relations; ascending ids).
using Key = std::pair<int, osmium::object_id_type>;
Key KeyOf(const osmium::OSMObject& o) {
  return {static_cast<int>(o.type()), o.id()};
}

std::string Describe(const osmium::OSMObject& o) {
  return std::string(osmium::item_type_to_name(o.type())) + " " + std::to_string(o.id()) + " v" +
         std::to_string(o.version());
}

bool IsChangeFile(const std::string& path) {
  for (const char* ext : {".osc", ".osc.gz", ".osc.bz2"}) {
    const size_t n = std::strlen(ext);
    if (path.size() > n && path.compare(path.size() - n, n, ext) == 0) return true;
  }
  return false;
}

// key=value lines of an osmosis state.txt (colons escaped as "\:").
Result<std::pair<uint64_t, std::string>> ReadState(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("--state " + path + ": cannot open: " + std::strerror(errno));
  std::string line, sequence, timestamp;
  bool has_sequence = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    value.erase(std::remove(value.begin(), value.end(), '\\'), value.end());
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (line.compare(0, eq, "sequenceNumber") == 0) {
      sequence = value;
      has_sequence = true;
    }
    if (line.compare(0, eq, "timestamp") == 0) timestamp = value;
  }
  if (!has_sequence) {
    return Status::InvalidArgument("--state " + path +
                                   ": no sequenceNumber=N line (expected an osmosis state.txt)");
  }
  const Result<int64_t> n = engine::ParseWholeNumber("sequenceNumber", sequence, 0, INT64_MAX);
  if (!n.ok()) {
    return Status::InvalidArgument("--state " + path + ": " + n.status().message() +
                                   " (expected an osmosis state.txt)");
  }
  // The timestamp is recorded as how current the data is: it must be a time, or absent.
  double t = 0;
  if (!timestamp.empty() && !engine::ParseIsoTime(timestamp, &t)) {
    return Status::InvalidArgument("--state " + path + ": timestamp '" + timestamp +
                                   "' is not an ISO 8601 time (2026-03-09T21\\:02\\:03Z)");
  }
  return std::make_pair(static_cast<uint64_t>(*n), timestamp);
}

}  // namespace

Result<std::string> KeepSource(const std::string& build_dir, const std::string& input) {
  Result<std::string> format = importers::DetectOsmFormat(input);
  if (!format.ok()) return format.status();
  const fs::path dir = fs::path(build_dir) / "update";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path to = dir / ("source." + (*format == "pbf" ? std::string("osm.pbf") : *format));
  if (ec || !fs::copy_file(input, to, fs::copy_options::overwrite_existing, ec) || ec) {
    return Status::IoError("cannot keep " + input + " in " + dir.string() + ": " +
                           (ec ? ec.message() : std::string("copy failed")));
  }
  return to.string();
}

Result<ChangeCounts> ApplyChanges(const std::string& source,
                                  const std::vector<std::string>& changes, const std::string& out,
                                  const std::string& data_timestamp, bool sequenced) {
  ChangeCounts counts;
  try {
    // The changes, in memory (a diff is small beside its extract): the newest version of each
    // object across every file.
    osmium::memory::Buffer buffer{1 << 20, osmium::memory::Buffer::auto_grow::yes};
    for (const std::string& path : changes) {
      if (!IsChangeFile(path)) {
        return Status::InvalidArgument("--osc " + path +
                                       ": expected an OSM change file (.osc, .osc.gz, .osc.bz2)");
      }
      try {
        osmium::io::Reader reader{path};
        while (osmium::memory::Buffer b = reader.read()) {
          buffer.add_buffer(b);
          buffer.commit();
        }
        reader.close();
      } catch (const std::exception& e) {  // which of several files: its name first
        return Status::InvalidArgument("--osc " + path + ": " + e.what());
      }
    }
    std::vector<const osmium::OSMObject*> pending;
    for (const osmium::OSMObject& o : buffer.select<osmium::OSMObject>()) pending.push_back(&o);
    std::stable_sort(pending.begin(), pending.end(), [](const auto* a, const auto* b) {
      return std::make_tuple(KeyOf(*a), b->version()) < std::make_tuple(KeyOf(*b), a->version());
    });
    pending.erase(std::unique(pending.begin(), pending.end(),
                              [](const auto* a, const auto* b) { return KeyOf(*a) == KeyOf(*b); }),
                  pending.end());
    for (const osmium::OSMObject* o : pending) {
      const std::string t = o->timestamp().valid() ? o->timestamp().to_iso() : "";
      if (t > counts.newest) counts.newest = t;
    }

    Result<std::string> format = importers::DetectOsmFormat(source);
    if (!format.ok()) return format.status();
    osmium::io::Reader reader{osmium::io::File(source, *format)};
    osmium::io::Header header = reader.header();
    header.set("generator", "stride update");
    if (!counts.newest.empty()) header.set("osmosis_replication_timestamp", counts.newest);
    osmium::io::Writer writer{osmium::io::File(out, "pbf,pbf_compression=lz4"), header,
                              osmium::io::overwrite::allow};
    size_t next = 0;
    // A change not newer than what the source holds: the same diff again, or an older one.
    auto stale = [&](const osmium::OSMObject& change, const osmium::OSMObject* held) {
      if (change.deleted()) return held == nullptr || change.version() < held->version();
      return held != nullptr && change.version() <= held->version();
    };
    auto refuse = [&](const osmium::OSMObject& change, const osmium::OSMObject* held) {
      return Status::AlreadyExists(
          "the changes hold " + Describe(change) + (change.deleted() ? " (deleted)" : "") +
          (held ? " but the database already has v" + std::to_string(held->version())
                : " but the database does not have it") +
          ": these changes were applied already, or are older than the data");
    };
    Key last{-1, 0};
    auto range = osmium::io::make_input_iterator_range<osmium::OSMObject>(reader);
    osmium::Timestamp source_newest;  // compared as numbers: no text per object
    for (const osmium::OSMObject& o : range) {
      if (o.timestamp() > source_newest) source_newest = o.timestamp();
      const Key k = KeyOf(o);
      if (k <= last) {
        return Status::InvalidArgument(source + ": not sorted by type and id at " + Describe(o) +
                                       " (sort it with osmium sort)");
      }
      last = k;
      // Changes to objects before this one: new objects.
      while (next < pending.size() && KeyOf(*pending[next]) < k) {
        const osmium::OSMObject& c = *pending[next++];
        if (stale(c, nullptr)) return refuse(c, nullptr);
        writer(c);
        ++counts.created;
      }
      if (next < pending.size() && KeyOf(*pending[next]) == k) {
        const osmium::OSMObject& c = *pending[next++];
        if (stale(c, &o)) return refuse(c, &o);
        if (c.deleted()) {
          ++counts.deleted;
        } else {
          writer(c);
          ++counts.modified;
        }
        continue;
      }
      writer(o);
    }
    for (; next < pending.size(); ++next) {
      const osmium::OSMObject& c = *pending[next];
      if (stale(c, nullptr)) return refuse(c, nullptr);
      writer(c);
      ++counts.created;
    }
    writer.close();
    reader.close();
    std::string data_newest = data_timestamp;
    if (source_newest.valid() && source_newest.to_iso() > data_newest) {
      data_newest = source_newest.to_iso();
    }
    if (!sequenced && !counts.newest.empty() && counts.newest <= data_newest) {
      return Status::AlreadyExists("no change is newer than the data (newest change " +
                                   counts.newest + ", data up to " + data_newest +
                                   "): these changes were applied already, or are older than "
                                   "the data");
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot apply the changes: ") + e.what());
  }
  return counts;
}

int RunUpdate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string db_path, state_path, dem_dir;
  std::vector<std::string> oscs;
  BuildRequest req;
  req.command = "update";
  req.max_order_drift = kDefaultMaxOrderDrift;
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
      req.quiet = true;
    } else if (a == "--db" && value(&v)) {
      db_path = v;
    } else if (a == "--osc" && value(&v)) {
      oscs.push_back(v);
    } else if (a == "--state" && value(&v)) {
      state_path = v;
    } else if (a == "--dem" && value(&v)) {
      dem_dir = v;
    } else if (a == "--threads" && value(&v)) {
      if (!ParseInt(v, 1, 1024, &req.options.threads)) {
        err << "stride update: --threads " << v << ": expected a whole number from 1 to 1024\n";
        return 2;
      }
    } else if (a == "--max-order-drift" && value(&v)) {
      char* end = nullptr;
      const double percent = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(percent >= 0 && percent <= 100)) {
        err << "stride update: --max-order-drift " << v
            << ": expected a percentage from 0 to 100\n";
        return 2;
      }
      req.max_order_drift = percent / 100;
    } else if (a == "--memory-mb" && value(&v)) {
      if (!ParseMemoryMb(v, &req.memory_mb)) {
        err << "stride update: --memory-mb " << v << ": " << kMemoryMbExpected << '\n';
        return 2;
      }
    } else {
      err << "stride update: unknown or incomplete option '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (db_path.empty() || oscs.empty()) {
    err << "stride update: --db and --osc are required\n" << kUsage;
    return 2;
  }
  for (const std::string& f : oscs) {
    if (!IsChangeFile(f)) {
      err << "stride update: --osc " << f
          << ": expected an OSM change file (.osc, .osc.gz, .osc.bz2)\n";
      return 2;
    }
  }
  auto fail = [&](const std::string& why) {
    err << "stride update: error: " << why << " (" << db_path << " is unchanged)\n";
    return 1;
  };

  // What the database was imported with, and what was applied to it.
  Json update, import;
  {
    Result<std::unique_ptr<index::RouteDb>> db = index::RouteDb::Open(db_path);
    if (!db.ok()) {
      err << "stride update: error: " << db.status().message() << '\n';
      return 1;
    }
    // One import or update at a time, from before what was applied is read to the switch.
    Result<index::DbLock> lock = index::DbLock::Acquire(db_path);
    if (!lock.ok()) return fail(lock.status().message());
    req.lock.emplace(std::move(lock).value());
    Result<std::string> u = (*db)->GetMeta("update");
    if (!u.ok()) {
      return fail(db_path +
                  " was not imported with --updatable (stride import --updatable keeps the "
                  "extract that change files apply to)");
    }
    update = Json::parse(*u, nullptr, false);
    Result<std::string> i = (*db)->GetMeta("import");
    import = Json::parse(i.ok() ? *i : std::string("{}"), nullptr, false);
    if (!update.is_object() || !import.is_object()) return fail("its update meta is not JSON");
  }
  std::string source;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(db_path) / "update", ec)) {
    if (e.path().filename().string().rfind("source.", 0) == 0) source = e.path().string();
  }
  if (source.empty()) return fail("no extract in " + db_path + "/update (was it removed?)");

  // The same file twice is refused before any work; so is a sequence not after the recorded one.
  Json applied = update.value("applied", Json::array());
  std::vector<std::string> shas;
  for (const std::string& f : oscs) {
    Result<std::string> sha = importers::Sha256File(f);
    if (!sha.ok()) return fail("--osc " + sha.status().message());
    for (const Json& a : applied) {
      if (a.value("sha256", "") == *sha) {
        return fail("--osc " + f + " was applied already, on " + a.value("applied_at", "?") +
                    " (the same SHA-256)");
      }
    }
    shas.push_back(*sha);
  }
  std::optional<std::pair<uint64_t, std::string>> state;
  if (!state_path.empty()) {
    Result<std::pair<uint64_t, std::string>> s = ReadState(state_path);
    if (!s.ok()) return fail(s.status().message());
    if (update["sequence"].is_number() && s->first <= update["sequence"].get<uint64_t>()) {
      return fail("--state " + state_path + ": sequence " + std::to_string(s->first) +
                  " is not after the database's " +
                  std::to_string(update["sequence"].get<uint64_t>()) +
                  " (applied already, or older)");
    }
    state = *s;
  }

  // The rebuild, with the options of the import.
  req.db_path = db_path;
  if (!dem_dir.empty()) {
    req.dem_dir = dem_dir;
  } else if (import["dem"].is_string()) {
    req.dem_dir = import["dem"].get<std::string>();
    if (!fs::exists(req.dem_dir, ec)) {
      return fail("it was imported with --dem " + req.dem_dir +
                  ", which is no longer there: give --dem DIR with the same elevation data");
    }
  }
  if (import["min_trail_length_m"].is_number()) {
    req.options.min_named_trail_m = import["min_trail_length_m"].get<double>();
  }
  req.options.inputs = {source};
  req.source_label = (fs::path(db_path) / "update" / "source.osm.pbf").string();
  ChangeCounts counts;
  req.prepare_phase = "merging the change files into the map";
  req.prepare = [&](const std::string& build_dir, importers::OsmImportOptions& o) {
    const std::string merged = build_dir + "/update/source.osm.pbf";
    fs::create_directories(build_dir + "/update", ec);
    Result<ChangeCounts> c =
        ApplyChanges(source, oscs, merged,
                     update["timestamp"].is_string() ? update["timestamp"].get<std::string>() : "",
                     state.has_value());
    if (!c.ok()) return c.status();
    counts = *c;
    o.inputs = {merged};
    if (!req.quiet) {
      err << "stride update: " << counts.created << " objects created, " << counts.modified
          << " modified, " << counts.deleted << " deleted (newest "
          << (counts.newest.empty() ? "?" : counts.newest) << ")\n";
    }
    const std::string now = engine::FormatIsoTime(static_cast<double>(std::time(nullptr)));
    for (size_t k = 0; k < oscs.size(); ++k) {
      applied.push_back({{"file", fs::path(oscs[k]).filename().string()},
                         {"sha256", shas[k]},
                         {"applied_at", now},
                         {"created", counts.created},
                         {"modified", counts.modified},
                         {"deleted", counts.deleted}});
    }
    Json next = {{"sequence", state ? Json(state->first) : update["sequence"]},
                 {"timestamp", state && !state->second.empty() ? Json(state->second)
                               : !counts.newest.empty()        ? Json(counts.newest)
                                                               : update["timestamp"]},
                 {"applied", applied}};
    req.extra_meta = {{"update", next.dump()}};
    return Status::Ok();
  };
  return BuildRouteDb(req, out, err);
}

}  // namespace stride::tools
