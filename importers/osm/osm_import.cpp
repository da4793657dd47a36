// SPDX-License-Identifier: Apache-2.0
#include "importers/osm/osm_import.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <osmium/handler.hpp>
#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/all.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/thread/pool.hpp>
#include <osmium/visitor.hpp>
#include <thread>
#include <unordered_map>

#include "engine/geo/geodesy.hpp"
#include "engine/hex.hpp"
#include "engine/memory/keep_freed.hpp"
#include "engine/sha256.hpp"
#include "engine/threads.hpp"
#include "importers/osm/line_assembly.hpp"
#include "importers/osm/osm_tags.hpp"

namespace stride::importers {
namespace {

using engine::PointE7;
using engine::Route;
using engine::RouteGeometry;
using engine::TrailEdge;
using Clock = std::chrono::steady_clock;

constexpr int32_t kNoLocation = std::numeric_limits<int32_t>::min();
constexpr double kLoopCloseM = 30.0;
// Node-location index by estimated node count: in memory (flex_mem picks sparse or dense by
// id density) up to kFileBackedNodes; then a sorted file of (id, location) pairs, 16 bytes a
// node; past kDenseNodes (continents, the planet: ids are nearly dense) a file indexed by id,
// 8 bytes per id. A dense file on a small extract is a poor choice: ids up to ~10^10 make a
// huge sparse file that takes minutes to grow.
constexpr uint64_t kFileBackedNodes = 200'000'000;
constexpr uint64_t kDenseNodes = 2'000'000'000;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Reports a phase's progress at most every half second.
class PhaseProgress {
 public:
  PhaseProgress(const OsmImportOptions& o, std::string phase)
      : cb_(o.on_progress),
        interval_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(o.progress_interval_s))),
        phase_(std::move(phase)),
        start_(Clock::now()),
        last_(start_) {}
  // For per-object calls: looks at the clock once every 16384 calls.
  void Tick(uint64_t objects) {
    if (!cb_ || (++calls_ & 0x3fff) != 0) return;
    Report(objects);
  }
  // For rare calls (per chunk).
  void Report(uint64_t objects) {
    if (!cb_) return;
    const auto now = Clock::now();
    if (now - last_ < interval_) return;
    last_ = now;
    ImportProgress p{phase_, objects, Seconds(start_), false};
    if (fraction_) {
      p.fraction = std::clamp(fraction_(), 0.0, 1.0);
      if (p.fraction > 0) p.eta_s = p.phase_s * (1 - p.fraction) / p.fraction;
    }
    cb_(p);
  }
  // How much of the phase is done (0..1), asked at each report; nullptr: unknown.
  void SetFraction(std::function<double()> f) { fraction_ = std::move(f); }
  double Done(uint64_t objects) {
    const double s = Seconds(start_);
    if (cb_) cb_({phase_, objects, s, true});
    return s;
  }

 private:
  std::function<void(const ImportProgress&)> cb_;
  std::function<double()> fraction_;
  Clock::duration interval_;
  std::string phase_;
  Clock::time_point start_, last_;
  uint64_t calls_ = 0;
};

class OsmiumTags : public TagView {
 public:
  explicit OsmiumTags(const osmium::TagList& t) : t_(t) {}
  // REQUIRES: key is null-terminated (all callers pass literals).
  std::string_view Get(std::string_view key) const override {
    const char* v = t_.get_value_by_key(key.data());
    return v ? std::string_view(v) : std::string_view();
  }

 private:
  const osmium::TagList& t_;
};

std::string Tag(const osmium::TagList& t, const char* key) {
  const char* v = t.get_value_by_key(key);
  return v ? std::string(v) : std::string();
}

class StringPool {
 public:
  uint32_t Intern(std::string_view s) {
    if (s.empty()) return 0;
    auto it = ids_.find(std::string(s));
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(strings_.size());
    strings_.emplace_back(s);
    ids_.emplace(strings_.back(), id);
    return id;
  }
  const std::string& Get(uint32_t id) const { return strings_[id]; }

 private:
  std::vector<std::string> strings_{std::string()};
  std::unordered_map<std::string, uint32_t> ids_;
};

struct Member {
  char type;  // 'w' or 'r'
  uint64_t ref;
  std::string role;
};

struct RelationRec {
  uint64_t id = 0;
  Route header;  // what the relation's own tags say: ids, type, name, ref, network, ...
  std::vector<Member> members;
};

struct WayRec {
  uint64_t id = 0;
  uint64_t first = 0;  // into WayStore::node_ids / points
  uint32_t count = 0;
  uint32_t name = 0, highway = 0, surface = 0;
  uint8_t sac = 0, foot = 0;
  bool trail = false;
};

struct WayStore {
  std::vector<WayRec> ways;  // sorted by id after the pass
  std::vector<uint64_t> node_ids;
  std::vector<PointE7> points;
  StringPool strings;

  // Length over the way's nodes that have a location (as its part of a line is drawn).
  double LocatedLengthM(const WayRec& w) const {
    const PointE7* prev = nullptr;
    std::optional<engine::TrackGeodesy> geo;
    double sum = 0;
    for (uint32_t k = 0; k < w.count; ++k) {
      const PointE7& p = points[w.first + k];
      if (p.lat == kNoLocation) continue;
      if (prev) {
        if (!geo) geo.emplace(prev->lat * 1e-7);
        sum += geo->DistanceM(prev->lat * 1e-7, prev->lon * 1e-7, p.lat * 1e-7, p.lon * 1e-7);
      }
      prev = &p;
    }
    return sum;
  }

  const WayRec* Find(uint64_t id) const {
    auto it = std::lower_bound(ways.begin(), ways.end(), id,
                               [](const WayRec& w, uint64_t v) { return w.id < v; });
    return it != ways.end() && it->id == id ? &*it : nullptr;
  }
};

// ---- inputs --------------------------------------------------------------------------------

struct Input {
  std::string path;
  std::string format;
  osmium::io::File file;
};

// Input bytes per node, roughly, by format: the node count estimate that picks the index.
double BytesPerNode(const std::string& format) {
  return format == "pbf" ? 7 : format == "osm.gz" ? 18 : format == "osm.bz2" ? 12 : 130;
}

std::string OsmiumError(const std::string& path, const std::exception& e) {
  std::string m = path + ": cannot read OSM data: " + e.what();
  if (m.find("EOF") != std::string::npos || m.find("truncated") != std::string::npos) {
    m += " (the file looks truncated)";
  }
  return m;
}

// ---- pass 1: relations ---------------------------------------------------------------------

class RelationCollector : public osmium::handler::Handler {
 public:
  RelationCollector(std::map<uint64_t, RelationRec>& out, PhaseProgress& p, uint64_t& seen,
                    uint64_t& super)
      : out_(out), progress_(p), seen_(seen), super_(super) {}

  void relation(const osmium::Relation& r) {
    progress_.Tick(++seen_);
    const osmium::TagList& t = r.tags();
    const char* type = t.get_value_by_key("type");
    if (!type || (std::strcmp(type, "route") != 0 && std::strcmp(type, "superroute") != 0)) return;
    const char* route = t.get_value_by_key("route");
    if (!route) return;
    const std::optional<engine::RouteType> rt = RouteTypeForRelation(route);
    if (!rt) return;
    const char* state = t.get_value_by_key("state");
    if (state && std::strcmp(state, "proposed") == 0) return;
    const auto id = static_cast<uint64_t>(r.id());
    if (r.id() <= 0 || out_.count(id)) return;
    RelationRec rec;
    rec.id = id;
    Route& h = rec.header;
    h.origin = engine::OsmOrigin::kRelation;
    h.osm_id = id;
    h.summary.id = engine::RouteIdForRelation(id);
    h.summary.type = *rt;
    h.route_tag = route;
    h.name = Tag(t, "name");
    h.ref = Tag(t, "ref");
    h.network = Tag(t, "network");
    h.operator_name = Tag(t, "operator");
    h.symbol = Tag(t, "osmc:symbol");
    h.sac_scale = Tag(t, "sac_scale");
    h.website = Tag(t, "website");
    h.description = Tag(t, "description");
    bool has_relation_member = false;
    for (const osmium::RelationMember& m : r.members()) {
      if (m.type() == osmium::item_type::way) {
        rec.members.push_back({'w', static_cast<uint64_t>(m.ref()), m.role()});
      } else if (m.type() == osmium::item_type::relation) {
        rec.members.push_back({'r', static_cast<uint64_t>(m.ref()), m.role()});
        has_relation_member = true;
      }
    }
    if (has_relation_member) ++super_;
    out_.emplace(id, std::move(rec));
  }

 private:
  std::map<uint64_t, RelationRec>& out_;
  PhaseProgress& progress_;
  uint64_t& seen_;
  uint64_t& super_;
};

// ---- pass 2: nodes and ways ----------------------------------------------------------------

class WayCollector : public osmium::handler::Handler {
 public:
  WayCollector(WayStore& store, const std::vector<uint64_t>& needed, PhaseProgress& p,
               OsmImportStats& stats)
      : store_(store), needed_(needed), progress_(p), stats_(stats) {}

  void node(const osmium::Node&) { progress_.Tick(++stats_.nodes + stats_.ways); }

  void way(const osmium::Way& w) {
    progress_.Tick(stats_.nodes + ++stats_.ways);
    const OsmiumTags tags(w.tags());
    const uint8_t foot = FootAccess(tags);
    const auto id = static_cast<uint64_t>(w.id());
    if (foot == 0 && !std::binary_search(needed_.begin(), needed_.end(), id)) return;
    if (w.nodes().empty()) return;  // no geometry (OSM forbids it; files hold it): as if absent
    WayRec rec;
    rec.id = id;
    rec.first = store_.node_ids.size();
    rec.foot = foot;
    rec.trail = IsTrailHighway(tags, foot);
    rec.name = store_.strings.Intern(tags.Get("name"));
    rec.highway = store_.strings.Intern(tags.Get("highway"));
    rec.surface = store_.strings.Intern(tags.Get("surface"));
    rec.sac = SacScaleLevel(tags.Get("sac_scale"));
    for (const osmium::NodeRef& nr : w.nodes()) {
      store_.node_ids.push_back(static_cast<uint64_t>(nr.ref()));
      const osmium::Location loc = nr.location();
      if (loc.valid()) {
        store_.points.push_back({loc.y(), loc.x()});
      } else {
        store_.points.push_back({kNoLocation, kNoLocation});
        ++stats_.missing_node_locations;
      }
    }
    rec.count = static_cast<uint32_t>(store_.node_ids.size() - rec.first);
    store_.ways.push_back(rec);
  }

 private:
  WayStore& store_;
  const std::vector<uint64_t>& needed_;
  PhaseProgress& progress_;
  OsmImportStats& stats_;
};

// ---- assembly ------------------------------------------------------------------------------

struct Line {
  RouteGeometry geometry;
  std::vector<uint64_t> way_ids;
  uint64_t first_node = 0, last_node = 0;
  double length_m = 0;
};

// Geometry of ordered parts: way points concatenated, the shared node at each join once,
// points without a location left out.
Line BuildLine(const WayStore& s, const std::vector<const WayRec*>& ways,
               const std::vector<Part>& parts) {
  Line line;
  for (const Part& part : parts) {
    const size_t part_begin = line.geometry.points.size();
    bool first_way = true;
    for (const OrientedWay& ow : part) {
      const WayRec& w = *ways[ow.index];
      line.way_ids.push_back(w.id);
      for (uint32_t k = 0; k < w.count; ++k) {
        const uint32_t i = ow.reversed ? w.count - 1 - k : k;
        if (k == 0 && !first_way) continue;  // the join node, already added
        const PointE7 p = s.points[w.first + i];
        if (p.lat == kNoLocation) continue;
        line.geometry.points.push_back(p);
      }
      first_way = false;
    }
    const size_t n = line.geometry.points.size() - part_begin;
    if (n == 0) continue;
    if (n == 1) line.geometry.points.push_back(line.geometry.points.back());
    line.geometry.part_starts.push_back(static_cast<uint32_t>(part_begin));
  }
  if (!parts.empty() && !parts.front().empty()) {
    const OrientedWay& a = parts.front().front();
    const OrientedWay& b = parts.back().back();
    const WayRec& wa = *ways[a.index];
    const WayRec& wb = *ways[b.index];
    line.first_node = s.node_ids[wa.first + (a.reversed ? wa.count - 1 : 0)];
    line.last_node = s.node_ids[wb.first + (b.reversed ? 0 : wb.count - 1)];
  }
  line.length_m = engine::GeometryLengthM(line.geometry);
  return line;
}

Line AssembleOrdered(const WayStore& s, const std::vector<const WayRec*>& ways) {
  const EndsFn ends = [&](uint32_t i) {
    const WayRec& w = *ways[i];
    return Ends{s.node_ids[w.first], s.node_ids[w.first + w.count - 1]};
  };
  return BuildLine(s, ways, OrderMembers(static_cast<uint32_t>(ways.size()), ends));
}

Line AssembleUnordered(const WayStore& s, const std::vector<const WayRec*>& ways) {
  const EndsFn ends = [&](uint32_t i) {
    const WayRec& w = *ways[i];
    return Ends{s.node_ids[w.first], s.node_ids[w.first + w.count - 1]};
  };
  std::vector<uint64_t> ids;
  ids.reserve(ways.size());
  for (const WayRec* w : ways) ids.push_back(w->id);
  return BuildLine(s, ways, ChainWays(static_cast<uint32_t>(ways.size()), ends, ids));
}

bool IsMainRole(const std::string& role) {
  return role.empty() || role == "main";
}

// Fills what every route derives from its main line and ways: summary, surfaces,
// difficulty (when not tagged), elevation.
void FinishRoute(const WayStore& s, const std::vector<const WayRec*>& main_ways, Line line,
                 const engine::ElevationSource* dem, Route& r) {
  r.geometry = std::move(line.geometry);
  r.member_ways = std::move(line.way_ids);
  r.length_m = line.length_m;
  // Surfaces: metres per value over the main-line ways.
  std::map<std::string, double> by_surface;
  double paved = 0, unpaved = 0, unknown = 0;
  uint8_t max_sac = 0;
  for (const WayRec* w : main_ways) {
    const double len = s.LocatedLengthM(*w);
    const std::string& surface = s.strings.Get(w->surface);
    by_surface[surface.empty() ? "unknown" : surface] += len;
    engine::Surface c = SurfaceClass(surface);
    if (c == engine::Surface::kUnknown) c = ImpliedSurface(s.strings.Get(w->highway));
    (c == engine::Surface::kPaved     ? paved
     : c == engine::Surface::kUnpaved ? unpaved
                                      : unknown) += len;
    max_sac = std::max(max_sac, w->sac);
  }
  for (const auto& [surface, len] : by_surface) r.surfaces.push_back({surface, len});
  std::stable_sort(r.surfaces.begin(), r.surfaces.end(),
                   [](const auto& a, const auto& b) { return a.length_m > b.length_m; });
  const double total = paved + unpaved + unknown;
  engine::Surface surface = engine::Surface::kUnknown;
  if (total > 0 && (paved + unpaved) >= 0.5 * total) {
    if (paved >= 0.8 * (paved + unpaved)) {
      surface = engine::Surface::kPaved;
    } else if (unpaved >= 0.8 * (paved + unpaved)) {
      surface = engine::Surface::kUnpaved;
    } else {
      surface = engine::Surface::kMixed;
    }
  }

  engine::RouteSummary& sum = r.summary;
  sum.surface = surface;
  sum.difficulty = r.sac_scale.empty() ? max_sac : SacScaleLevel(r.sac_scale);
  sum.network = NetworkLevel(r.network);
  for (const PointE7& p : r.geometry.points) sum.bbox.Extend(p);
  if (!r.geometry.points.empty()) sum.start = r.geometry.points.front();
  sum.length_m = static_cast<float>(r.length_m);
  // A loop ends where it starts: the same node, or (allowing for small mapping gaps such as
  // a roundabout the line enters and leaves at different nodes) the longest part's ends
  // within kLoopCloseM, widened to 1 % of the length up to 500 m.
  bool loop = r.geometry.part_starts.size() == 1 && line.first_node == line.last_node &&
              r.geometry.points.size() > 2;
  if (!loop && r.length_m > 0) {
    size_t best_b = 0, best_e = 0;
    double best_len = -1;
    engine::ForEachPart(r.geometry, [&](size_t b, size_t e) {
      const double len = engine::LineLengthM(r.geometry.points.data() + b, e - b);
      if (len > best_len) best_len = len, best_b = b, best_e = e;
    });
    if (best_e > best_b + 2 && best_len >= 0.5 * r.length_m) {
      const PointE7 a = r.geometry.points[best_b], b = r.geometry.points[best_e - 1];
      const double tol = std::max(kLoopCloseM, std::min(500.0, 0.01 * r.length_m));
      loop =
          engine::SegmentDistanceM(a.lat * 1e-7, a.lon * 1e-7, b.lat * 1e-7, b.lon * 1e-7) <= tol;
    }
  }
  sum.loop = loop;
  if (dem) {
    double covered = 0;
    r.profile = engine::SampleProfile(r.geometry, *dem, engine::kMaxProfileSpacingM, &covered);
    if (r.profile.distance_m.size() >= 2) {
      const engine::ClimbFigures c = engine::ComputeClimb(r.profile);
      r.ascent_m = c.ascent_m;
      r.descent_m = c.descent_m;
      r.max_grade = c.max_grade;
      r.avg_grade = c.avg_grade;
      r.elevation_method = engine::RouteElevationMethod();
      if (covered < 1.0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "; DEM covers %.1f %% of the line", covered * 100);
        r.elevation_method += buf;
      }
    } else {
      r.profile = {};
    }
  }
  sum.ascent_m = static_cast<float>(r.ascent_m);
  sum.max_grade = static_cast<float>(r.max_grade);
}

// Main-line way ids of a relation, super-routes expanded (children in member order).
void MainWayIds(const std::map<uint64_t, RelationRec>& rels, const RelationRec& r,
                std::vector<uint64_t>& visiting, std::vector<uint64_t>& out,
                std::vector<uint64_t>& children, uint32_t& missing) {
  visiting.push_back(r.id);
  for (const Member& m : r.members) {
    if (m.type == 'w') {
      if (IsMainRole(m.role)) out.push_back(m.ref);
      continue;
    }
    if (visiting.size() == 1) children.push_back(m.ref);
    auto it = rels.find(m.ref);
    if (it == rels.end()) {
      ++missing;
      continue;
    }
    if (std::find(visiting.begin(), visiting.end(), m.ref) != visiting.end()) continue;  // cycle
    std::vector<uint64_t> ignored_children;
    MainWayIds(rels, it->second, visiting, out, ignored_children, missing);
  }
  visiting.pop_back();
}

std::optional<Route> BuildRelationRoute(const WayStore& s,
                                        const std::map<uint64_t, RelationRec>& rels,
                                        const RelationRec& rel,
                                        const engine::ElevationSource* dem) {
  Route r = rel.header;

  std::vector<uint64_t> visiting, main_ids;
  MainWayIds(rels, rel, visiting, main_ids, r.member_relations, r.missing_members);
  // Without a main-role member, the first role in this order stands for the main line.
  std::string main_role;
  if (main_ids.empty()) {
    for (const char* role : {"forward", "backward"}) {
      for (const Member& m : rel.members) {
        if (m.type == 'w' && m.role == role) main_ids.push_back(m.ref);
      }
      if (!main_ids.empty()) {
        main_role = role;
        break;
      }
    }
  }
  std::vector<const WayRec*> main_ways;
  for (uint64_t id : main_ids) {
    if (const WayRec* w = s.Find(id)) {
      main_ways.push_back(w);
    } else {
      ++r.missing_members;
    }
  }
  // Branches: the other roles, each its own line, in first-seen order.
  std::vector<std::string> roles;
  for (const Member& m : rel.members) {
    if (m.type != 'w' || IsMainRole(m.role) || m.role == main_role) continue;
    if (std::find(roles.begin(), roles.end(), m.role) == roles.end()) roles.push_back(m.role);
  }
  for (const std::string& role : roles) {
    std::vector<const WayRec*> ways;
    for (const Member& m : rel.members) {
      if (m.type != 'w' || m.role != role) continue;
      if (const WayRec* w = s.Find(m.ref)) {
        ways.push_back(w);
      } else {
        ++r.missing_members;
      }
    }
    if (ways.empty()) continue;
    Line line = AssembleOrdered(s, ways);
    if (line.geometry.points.empty()) continue;
    r.branches.push_back({role, std::move(line.geometry), line.length_m});
  }
  if (main_ways.empty()) return std::nullopt;
  Line line = AssembleOrdered(s, main_ways);
  if (line.geometry.points.empty()) return std::nullopt;
  FinishRoute(s, main_ways, std::move(line), dem, r);
  return r;
}

// Runs f(i) for i in [0, n) on `threads` workers, the caller one of them; f must be safe to
// call concurrently.
template <typename F>
void ParallelFor(size_t n, int threads, F&& f) {
  const size_t workers = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threads), n));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) f(i);
  };
  // The calling thread is one of the workers: a thread fewer, and one malloc arena fewer
  // holding what the chunk's results freed.
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& th : pool) th.join();
}

// [0, n) a chunk at a time: build(begin, end, slot) makes a chunk's results (on the workers,
// with ParallelFor) into buffer `slot` (0 or 1), consume(begin, end, slot) hands them to the
// sink, chunk after chunk in order. With more than one thread the next chunk is built while
// this thread consumes the one before: the sink (encoding, the RocksDB table writer, the graph
// builder) is one thread, and on the generated 10^7-node map it held the workers waiting for
// 2.1 of the trail graph phase's 5.6 s. The workers and this thread then share the cores
// (threads + 1 threads, the sink's the lightest); with one thread nothing overlaps, as
// --threads 1 promises. A failed consume returns its status once the chunk in flight is built.
template <typename Build, typename Consume>
Status BuildAndConsume(size_t n, size_t chunk, int threads, Build&& build, Consume&& consume) {
  if (n == 0) return Status::Ok();
  if (threads <= 1) {
    for (size_t begin = 0; begin < n; begin += chunk) {
      const size_t end = std::min(n, begin + chunk);
      build(begin, end, 0);
      STRIDE_RETURN_IF_ERROR(consume(begin, end, 0));
    }
    return Status::Ok();
  }
  build(0, std::min(n, chunk), 0);
  int slot = 0;
  for (size_t begin = 0; begin < n; begin += chunk, slot ^= 1) {
    const size_t end = std::min(n, begin + chunk);
    std::future<void> next;
    if (end < n) {
      next = std::async(std::launch::async, [&build, n, chunk, end, slot] {
        build(end, std::min(n, end + chunk), slot ^ 1);
      });
    }
    const Status consumed = consume(begin, end, slot);
    if (next.valid()) next.get();  // a worker's exception surfaces here
    STRIDE_RETURN_IF_ERROR(consumed);
  }
  return Status::Ok();
}

// Named trails: trail ways with one name, connected through shared nodes.
std::vector<std::vector<const WayRec*>> NamedTrailGroups(const WayStore& s) {
  struct Key {
    uint32_t name;
    uint64_t node;
    uint32_t way;
  };
  std::vector<Key> keys;
  std::vector<uint32_t> trail_ways;
  for (uint32_t i = 0; i < s.ways.size(); ++i) {
    const WayRec& w = s.ways[i];
    if (!w.trail || w.name == 0) continue;
    trail_ways.push_back(i);
    for (uint32_t k = 0; k < w.count; ++k) keys.push_back({w.name, s.node_ids[w.first + k], i});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    return a.name != b.name ? a.name < b.name : a.node != b.node ? a.node < b.node : a.way < b.way;
  });
  std::vector<uint32_t> parent(s.ways.size());
  std::iota(parent.begin(), parent.end(), 0u);
  auto find = [&](uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (size_t i = 1; i < keys.size(); ++i) {
    if (keys[i].name == keys[i - 1].name && keys[i].node == keys[i - 1].node) {
      const uint32_t a = find(keys[i].way), b = find(keys[i - 1].way);
      if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
  }
  std::map<uint32_t, std::vector<const WayRec*>> groups;  // by root = lowest index = lowest id
  for (uint32_t i : trail_ways) groups[find(i)].push_back(&s.ways[i]);
  std::vector<std::vector<const WayRec*>> out;
  out.reserve(groups.size());
  for (auto& [root, ways] : groups) out.push_back(std::move(ways));
  return out;
}

// Trail edges of one way: split at junctions and at its ends.
void SplitWay(const WayStore& s, const WayRec& w, const std::vector<uint64_t>& junctions,
              const engine::ElevationSource* dem, std::vector<TrailEdge>& out) {
  TrailEdge e;
  auto flush = [&](uint64_t to_node) {
    if (e.points.size() >= 2) {
      e.to_node = to_node;
      e.length_m = engine::LineLengthM(e.points.data(), e.points.size());
      if (dem) {
        RouteGeometry g;
        g.points = e.points;
        g.part_starts = {0};
        const engine::ElevationProfile p = engine::SampleProfile(g, *dem);
        if (p.distance_m.size() >= 2) {
          const engine::ClimbFigures c = engine::ComputeClimb(p);
          e.ascent_m = static_cast<float>(c.ascent_m);
          e.descent_m = static_cast<float>(c.descent_m);
          e.has_elevation = true;
          e.elevations.clear();
          for (const PointE7& q : e.points) {
            double z = 0;
            if (!dem->ElevationAt(q.lat * 1e-7, q.lon * 1e-7, &z)) break;
            e.elevations.push_back(static_cast<float>(z));
          }
          if (e.elevations.size() != e.points.size()) e.elevations.clear();
        }
      }
      out.push_back(e);
    }
    e.points.clear();
    e.elevations.clear();
    e.ascent_m = e.descent_m = 0;
    e.has_elevation = false;
  };
  e.way_id = w.id;
  e.highway = s.strings.Get(w.highway);
  e.name = s.strings.Get(w.name);
  e.surface = s.strings.Get(w.surface);
  e.surface_class = SurfaceClass(e.surface);
  if (e.surface_class == engine::Surface::kUnknown) e.surface_class = ImpliedSurface(e.highway);
  e.sac = w.sac;
  e.foot = w.foot >= 3 ? 2 : w.foot == 2 ? 1 : 0;
  for (uint32_t k = 0; k < w.count; ++k) {
    const uint64_t node = s.node_ids[w.first + k];
    const PointE7 p = s.points[w.first + k];
    if (p.lat == kNoLocation) {  // a hole in the way: the edge ends at the last located node
      flush(e.points.empty() ? 0 : s.node_ids[w.first + k - 1]);
      continue;
    }
    if (e.points.empty()) e.from_node = node;
    e.points.push_back(p);
    const bool junction =
        k + 1 == w.count || (k > 0 && std::binary_search(junctions.begin(), junctions.end(), node));
    if (junction && e.points.size() >= 2) {
      flush(node);
      e.from_node = node;
      e.points.push_back(p);
    }
  }
}

}  // namespace

Result<std::string> DetectOsmFormat(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open: " + std::strerror(errno));
  char head[64] = {};
  in.read(head, sizeof head);
  return DetectOsmFormatOf(std::string_view(head, static_cast<size_t>(in.gcount())), path);
}

Result<std::string> DetectOsmFormatOf(std::string_view bytes, const std::string& name) {
  const std::string_view head = bytes.substr(0, 64);
  const size_t n = head.size();
  if (n == 0) return Status::InvalidArgument(name + ": empty file; expected OSM data");
  const auto* u = reinterpret_cast<const unsigned char*>(head.data());
  if (n >= 2 && u[0] == 0x1f && u[1] == 0x8b) return std::string("osm.gz");
  if (head.starts_with("BZh")) return std::string("osm.bz2");
  if (n >= 16 && head.substr(4).find("OSMHeader") != std::string_view::npos) {
    return std::string("pbf");
  }
  size_t i = 0;
  if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) i = 3;
  while (i < n && std::isspace(u[i])) ++i;
  const std::string_view rest = head.substr(i);
  if (rest.starts_with("<?xml") || rest.starts_with("<osm")) return std::string("osm");
  return Status::InvalidArgument(
      name +
      ": not an OSM file (expected an .osm.pbf, OSM XML, or gzip/bzip2-compressed OSM "
      "XML; the first bytes match none of them)");
}

Result<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open: " + std::strerror(errno));
  engine::Sha256Stream sha;
  // 1 MiB a read, the buffer left uninitialised: zeroed, it cost more than hashing a small
  // file (an eighth of the OSM fuzz target's time when it still read files).
  constexpr size_t n = size_t{1} << 20;
  const auto buf = std::make_unique_for_overwrite<char[]>(n);
  while (in) {
    in.read(buf.get(), static_cast<std::streamsize>(n));
    if (in.gcount() > 0) sha.Update(std::string_view(buf.get(), static_cast<size_t>(in.gcount())));
  }
  return engine::HexEncode(sha.Finish());
}

Result<OsmImportStats> ImportOsm(const OsmImportOptions& options, engine::MapSink& sink) {
  OsmImportStats stats;
  if (options.inputs.empty() && options.input_bytes.empty()) {
    return Status::InvalidArgument("no --osm input given");
  }
  const int threads = engine::ThreadsOrCores(options.threads);

  // Inputs: format from content, checksum, size; the node count estimate picks the index.
  std::vector<Input> inputs;
  double estimated_nodes = 0;
  auto add = [&](const std::string& name, const std::string& format, uint64_t size,
                 std::string sha256, osmium::io::File file) {
    OsmSourceManifest m;
    m.path = name;
    m.format = format;
    m.size_bytes = size;
    m.sha256 = std::move(sha256);
    estimated_nodes += static_cast<double>(size) / BytesPerNode(format);
    stats.sources.push_back(std::move(m));
    inputs.push_back({name, format, std::move(file)});
  };
  for (const std::string& path : options.inputs) {
    Result<std::string> format = DetectOsmFormat(path);
    if (!format.ok()) return format.status();
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return Status::IoError(path + ": " + ec.message());
    Result<std::string> sha = Sha256File(path);
    if (!sha.ok()) return sha.status();
    add(path, *format, size, *sha, osmium::io::File(path, *format));
  }
  for (const OsmImportOptions::Bytes& b : options.input_bytes) {
    Result<std::string> format = DetectOsmFormatOf(b.data, b.name);
    if (!format.ok()) return format.status();
    add(b.name, *format, b.data.size(), engine::Sha256Hex(b.data),
        osmium::io::File(b.data.data(), b.data.size(), *format));
  }

  osmium::thread::Pool pool(threads);
  double total_bytes = 0;  // of every input: the passes over them report their share read
  for (const OsmSourceManifest& m : stats.sources) total_bytes += static_cast<double>(m.size_bytes);
  total_bytes = std::max(total_bytes, 1.0);

  // Pass 1: relations.
  std::map<uint64_t, RelationRec> relations;
  {
    PhaseProgress progress(options, "relations");
    for (size_t k = 0; k < inputs.size(); ++k) {
      try {
        osmium::io::Reader reader(inputs[k].file, osmium::osm_entity_bits::relation, pool,
                                  osmium::io::read_meta::no);
        const osmium::io::Header header = reader.header();
        stats.sources[k].replication_timestamp = header.get("osmosis_replication_timestamp");
        if (stats.sources[k].replication_timestamp.empty()) {
          stats.sources[k].replication_timestamp = header.get("timestamp");
        }
        stats.sources[k].generator = header.get("generator");
        RelationCollector collector(relations, progress, stats.relations, stats.super_routes);
        double read_before = 0;
        for (size_t j = 0; j < k; ++j)
          read_before += static_cast<double>(stats.sources[j].size_bytes);
        progress.SetFraction(
            [&] { return (read_before + static_cast<double>(reader.offset())) / total_bytes; });
        osmium::apply(reader, collector);
        progress.SetFraction(nullptr);
        reader.close();
      } catch (const std::exception& e) {
        return Status::InvalidArgument(OsmiumError(inputs[k].path, e));
      }
    }
    stats.route_relations = relations.size();
    stats.phase_seconds.emplace_back("relations", progress.Done(stats.relations));
  }
  std::vector<uint64_t> needed;
  for (const auto& [id, r] : relations) {
    for (const Member& m : r.members) {
      if (m.type == 'w') needed.push_back(m.ref);
    }
  }
  std::sort(needed.begin(), needed.end());
  needed.erase(std::unique(needed.begin(), needed.end()), needed.end());

  // Pass 2: nodes and ways.
  WayStore store;
  {
    PhaseProgress progress(options, "nodes+ways");
    stats.node_index = options.node_index;
    std::string index_config = options.node_index;
    if (index_config.empty()) {
      stats.node_index = estimated_nodes > static_cast<double>(kDenseNodes) ? "dense_file_array"
                         : estimated_nodes > static_cast<double>(kFileBackedNodes)
                             ? "sparse_file_array"
                             : "flex_mem";
      index_config = stats.node_index;
    }
    std::string scratch_file;
    if (index_config.find("file") != std::string::npos &&
        index_config.find(',') == std::string::npos) {
      const std::string dir = options.scratch_dir.empty()
                                  ? std::filesystem::temp_directory_path().string()
                                  : options.scratch_dir;
      scratch_file = dir + "/stride-node-locations-" + std::to_string(::getpid()) + ".idx";
      index_config += "," + scratch_file;
    }
    using IndexMap = osmium::index::map::Map<osmium::unsigned_object_id_type, osmium::Location>;
    std::unique_ptr<IndexMap> index;
    try {
      index =
          osmium::index::MapFactory<osmium::unsigned_object_id_type, osmium::Location>::instance()
              .create_map(index_config);
    } catch (const std::exception& e) {
      return Status::InvalidArgument("node location index '" + index_config + "': " + e.what());
    }
    struct ScratchCleanup {
      std::string path;
      ~ScratchCleanup() {
        if (!path.empty()) std::filesystem::remove(path);
      }
    } cleanup{scratch_file};
    osmium::handler::NodeLocationsForWays<IndexMap> locations(*index);
    locations.ignore_errors();
    WayCollector collector(store, needed, progress, stats);
    double read_before = 0;  // bytes of the inputs read before this one
    for (size_t k = 0; k < inputs.size(); ++k) {
      const Input& in = inputs[k];
      try {
        osmium::io::Reader reader(in.file,
                                  osmium::osm_entity_bits::node | osmium::osm_entity_bits::way,
                                  pool, osmium::io::read_meta::no);
        progress.SetFraction(
            [&] { return (read_before + static_cast<double>(reader.offset())) / total_bytes; });
        osmium::apply(reader, locations, collector);
        progress.SetFraction(nullptr);
        reader.close();
      } catch (const std::exception& e) {
        return Status::InvalidArgument(OsmiumError(in.path, e));
      }
      read_before += static_cast<double>(stats.sources[k].size_bytes);
    }
    // One record per way id (inputs may overlap); the first one read wins.
    std::stable_sort(store.ways.begin(), store.ways.end(),
                     [](const WayRec& a, const WayRec& b) { return a.id < b.id; });
    store.ways.erase(std::unique(store.ways.begin(), store.ways.end(),
                                 [](const WayRec& a, const WayRec& b) { return a.id == b.id; }),
                     store.ways.end());
    stats.phase_seconds.emplace_back("nodes+ways", progress.Done(stats.nodes + stats.ways));
  }

  // Routes: relations and named trails, in id order. Each route's id is known before it is
  // built, so they are built a chunk at a time in that order and written as they come: only
  // two chunks of routes (geometry, profile) are held, the one being written and the next, not
  // all of them (which took 3 GB on the generated 10^8-node map).
  {
    PhaseProgress progress(options, "routes");
    const std::vector<std::vector<const WayRec*>> groups = NamedTrailGroups(store);
    struct Pending {
      uint64_t id;
      const RelationRec* relation;              // a relation's route, or
      const std::vector<const WayRec*>* trail;  // a named trail's ways
    };
    std::vector<Pending> pending;
    pending.reserve(relations.size() + groups.size());
    for (const auto& [id, r] : relations) pending.push_back({r.header.summary.id, &r, nullptr});
    for (const auto& ways : groups) {
      pending.push_back({engine::RouteIdForNamedTrail(ways.front()->id), nullptr, &ways});
    }
    std::stable_sort(pending.begin(), pending.end(),
                     [](const Pending& a, const Pending& b) { return a.id < b.id; });
    auto build_trail = [&](const std::vector<const WayRec*>& ways) -> std::optional<Route> {
      Line line = AssembleUnordered(store, ways);
      if (line.geometry.points.empty() || line.length_m < options.min_named_trail_m) {
        return std::nullopt;
      }
      Route r;
      r.origin = engine::OsmOrigin::kNamedTrail;
      r.osm_id = ways.front()->id;  // groups list ways in id order
      r.summary.id = engine::RouteIdForNamedTrail(r.osm_id);
      r.summary.type = engine::RouteType::kNamedTrail;
      r.route_tag = "named_trail";
      r.name = store.strings.Get(ways.front()->name);
      FinishRoute(store, ways, std::move(line), options.dem, r);
      return r;
    };
    constexpr size_t kChunk = 4096;
    std::vector<std::optional<Route>> built[2];
    uint64_t written = 0;
    size_t consumed = 0;
    progress.SetFraction(
        [&] { return static_cast<double>(consumed) / static_cast<double>(pending.size()); });
    auto build = [&](size_t begin, size_t end, int slot) {
      built[slot].assign(end - begin, std::nullopt);
      ParallelFor(end - begin, threads, [&](size_t i) {
        const Pending& p = pending[begin + i];
        built[slot][i] = p.relation ? BuildRelationRoute(store, relations, *p.relation, options.dem)
                                    : build_trail(*p.trail);
      });
    };
    auto consume = [&](size_t begin, size_t end, int slot) -> Status {
      for (size_t i = 0; i < end - begin; ++i) {
        const std::optional<Route>& r = built[slot][i];
        if (!r) {
          if (pending[begin + i].relation) ++stats.routes_without_geometry;
          continue;
        }
        STRIDE_RETURN_IF_ERROR(sink.AddRoute(*r));
        ++written;
        if (r->origin == engine::OsmOrigin::kNamedTrail) ++stats.named_trails;
        if (r->geometry.part_starts.size() > 1) ++stats.routes_with_gaps;
        if (r->summary.loop) ++stats.loops;
        if (options.dem && r->profile.empty()) ++stats.routes_without_elevation;
        stats.missing_members += r->missing_members;
        stats.route_length_m += r->length_m;
      }
      consumed = end;
      progress.Report(written);
      return Status::Ok();
    };
    STRIDE_RETURN_IF_ERROR(BuildAndConsume(pending.size(), kChunk, threads, build, consume));
    stats.routes = written;
    stats.phase_seconds.emplace_back("routes", progress.Done(written));
  }

  // Trail graph: walkable ways split at junctions (nodes two walkable ways share, or one way
  // passes twice).
  {
    PhaseProgress progress(options, "trail graph");
    // Every walkable way's node ids, sorted: ids seen twice are junctions. Counted first and
    // reserved at that size: grown by doubling, the list and its last copy were the import's
    // peak on a 10^8-node map (800 MB of ids in a 1.6 GB allocation beside the 0.8 GB one
    // being copied from).
    std::vector<uint32_t> walkable;
    size_t refs = 0;
    for (uint32_t i = 0; i < store.ways.size(); ++i) {
      if (store.ways[i].foot == 0) continue;
      walkable.push_back(i);
      refs += store.ways[i].count;
    }
    std::vector<uint64_t> all;
    all.reserve(refs);
    for (const uint32_t i : walkable) {
      const WayRec& w = store.ways[i];
      const uint64_t* ids = store.node_ids.data() + w.first;
      all.insert(all.end(), ids, ids + w.count);
    }
    stats.walkable_ways = walkable.size();
    std::sort(all.begin(), all.end());
    std::vector<uint64_t> junctions;
    size_t at_junctions = 0;  // ids in `all` that are junctions: each splits a way at most once
    for (size_t i = 1; i < all.size(); ++i) {
      if (all[i] == all[i - 1]) {
        if (junctions.empty() || junctions.back() != all[i]) {
          junctions.push_back(all[i]);
          at_junctions += 2;
        } else {
          ++at_junctions;
        }
      }
    }
    // Each way gives one edge and its points, and one more edge and point per split.
    sink.ExpectEdges(walkable.size() + at_junctions, refs + at_junctions);
    std::vector<uint64_t>().swap(all);
    // The store's node ids and points are read once more here, way after way, while the
    // graph grows beside them: what lies below the next way's are given back as the pass goes,
    // so the two are not held whole at once (ways in one file come in id order, as their
    // node lists were stored; when not, as from several files, nothing is given back early).
    const bool in_store_order = std::is_sorted(
        walkable.begin(), walkable.end(),
        [&](uint32_t a, uint32_t b) { return store.ways[a].first < store.ways[b].first; });
    engine::ReleaseBehind ids_done(store.node_ids.data()), points_done(store.points.data());
    auto done_below = [&](uint64_t first) {
      if (!in_store_order) return;
      ids_done.Behind(store.node_ids.data() + first);
      points_done.Behind(store.points.data() + first);
    };
    constexpr size_t kChunk = 2048;
    uint64_t next_id = 1;
    std::vector<std::vector<TrailEdge>> edges[2];
    auto build = [&](size_t begin, size_t end, int slot) {
      edges[slot].assign(end - begin, {});
      ParallelFor(end - begin, threads, [&](size_t i) {
        SplitWay(store, store.ways[walkable[begin + i]], junctions, options.dem, edges[slot][i]);
      });
    };
    // The chunk after `end` may be being built: what lies below its first way is done with.
    auto consume = [&](size_t, size_t end, int slot) -> Status {
      for (auto& per_way : edges[slot]) {
        for (TrailEdge& e : per_way) {
          e.id = next_id++;
          stats.edge_length_m += e.length_m;
          STRIDE_RETURN_IF_ERROR(sink.AddEdge(e));
        }
      }
      progress.Report(next_id - 1);
      if (end < walkable.size()) done_below(store.ways[walkable[end]].first);
      return Status::Ok();
    };
    STRIDE_RETURN_IF_ERROR(BuildAndConsume(walkable.size(), kChunk, threads, build, consume));
    stats.edges = next_id - 1;
    stats.phase_seconds.emplace_back("trail graph", progress.Done(stats.edges));
  }
  return stats;
}

}  // namespace stride::importers
