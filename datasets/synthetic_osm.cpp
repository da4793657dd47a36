// SPDX-License-Identifier: Apache-2.0
#include "datasets/synthetic_osm.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <osmium/builder/attr.hpp>
#include <osmium/io/any_output.hpp>
#include <osmium/memory/buffer.hpp>
#include <random>
#include <set>

#include "engine/geo/geodesy.hpp"
#include "importers/dem/srtm.hpp"

namespace stride::datasets {
namespace {

using namespace osmium::builder::attr;  // NOLINT: the attribute builder's vocabulary

constexpr double kJunctionSpacingM = 400;
constexpr int kInterior = 9;  // nodes inside each link: ~40 m segments
constexpr size_t kFlushBytes = 8 << 20;

struct Link {
  uint32_t a = 0, b = 0;  // junction indices
  uint64_t first_interior = 0;
  bool reversed = false;  // the way runs b -> a
  std::string highway, name, surface, sac, foot;
  bool walkable() const { return highway != "motorway" && foot != "no"; }
};

class Generator {
 public:
  Generator(const SyntheticOsmOptions& o) : o_(o), rng_(o.seed) {
    // g² junctions plus 2 g (g - 1) links of kInterior nodes: solve for g, round.
    const double k = kInterior, n = static_cast<double>(o.target_nodes);
    g_ = std::max<uint32_t>(
        3, static_cast<uint32_t>(std::lround((2 * k + std::sqrt(4 * k * k + 4 * (2 * k + 1) * n)) /
                                             (2 * (2 * k + 1)))));
    dlat_ = kJunctionSpacingM / 111'320.0;
    dlon_ = kJunctionSpacingM / (111'320.0 * std::cos(o.origin_lat * engine::kDegToRad));
  }

  Result<SyntheticOsmStats> Write(const std::string& path) {
    BuildLinks();
    BuildRelations();
    osmium::io::Header header;
    header.set("generator", "stride gen_osm (synthetic trail network)");
    header.set("osmosis_replication_timestamp", "2026-01-01T00:00:00Z");
    const double max_lat = o_.origin_lat + (g_ + 1) * dlat_,
                 max_lon = o_.origin_lon + (g_ + 1) * dlon_;
    header.add_box(osmium::Box(o_.origin_lon - dlon_, o_.origin_lat - dlat_, max_lon, max_lat));
    try {
      osmium::io::Writer writer(path, header, osmium::io::overwrite::allow);
      osmium::memory::Buffer buffer(kFlushBytes + (1 << 20),
                                    osmium::memory::Buffer::auto_grow::yes);
      auto flush = [&](bool force) {
        if (force || buffer.committed() > kFlushBytes) {
          writer(std::move(buffer));
          buffer = osmium::memory::Buffer(kFlushBytes + (1 << 20),
                                          osmium::memory::Buffer::auto_grow::yes);
        }
      };
      // Nodes: junctions 1..g², then each link's interior nodes.
      for (uint32_t i = 0; i < g_ * g_; ++i) {
        AddNode(buffer, i + 1, Junction(i));
        flush(false);
      }
      for (const Link& l : links_) {
        const auto [alat, alon] = Junction(l.a);
        const auto [blat, blon] = Junction(l.b);
        for (int k = 1; k <= kInterior; ++k) {
          const double t = static_cast<double>(k) / (kInterior + 1);
          // A gentle S-bend across the straight line.
          const double wiggle = 0.06 * std::sin(t * 2 * engine::kPi) * (l.a % 2 ? 1 : -1);
          const double lat = alat + t * (blat - alat) + wiggle * (blon - alon) * dlat_ / dlon_;
          const double lon = alon + t * (blon - alon) - wiggle * (blat - alat) * dlon_ / dlat_;
          AddNode(buffer, l.first_interior + static_cast<uint64_t>(k - 1), {lat, lon});
          flush(false);
        }
      }
      // Ways.
      for (size_t w = 0; w < links_.size(); ++w) {
        const Link& l = links_[w];
        std::vector<osmium::object_id_type> refs;
        refs.push_back(l.a + 1);
        for (int k = 0; k < kInterior; ++k)
          refs.push_back(static_cast<osmium::object_id_type>(l.first_interior + k));
        refs.push_back(l.b + 1);
        if (l.reversed) std::reverse(refs.begin(), refs.end());
        std::vector<std::pair<std::string, std::string>> tags = {{"highway", l.highway}};
        if (!l.name.empty()) tags.emplace_back("name", l.name);
        if (!l.surface.empty()) tags.emplace_back("surface", l.surface);
        if (!l.sac.empty()) tags.emplace_back("sac_scale", l.sac);
        if (!l.foot.empty()) tags.emplace_back("foot", l.foot);
        osmium::builder::add_way(buffer, _id(static_cast<osmium::object_id_type>(w + 1)),
                                 _version(1), _timestamp(osmium::Timestamp("2026-01-01T00:00:00Z")),
                                 _nodes(refs), _tags(tags));
        flush(false);
        ++stats_.ways;
      }
      // Relations.
      for (const Rel& r : rels_) {
        std::vector<osmium::builder::attr::member_type> members;
        for (const auto& [type, ref, role] : r.members) {
          members.emplace_back(type == 'w' ? osmium::item_type::way : osmium::item_type::relation,
                               static_cast<osmium::object_id_type>(ref), role.c_str());
        }
        osmium::builder::add_relation(buffer, _id(static_cast<osmium::object_id_type>(r.id)),
                                      _version(1),
                                      _timestamp(osmium::Timestamp("2026-01-01T00:00:00Z")),
                                      _members(members.begin(), members.end()), _tags(r.tags));
        flush(false);
        ++stats_.relations;
      }
      flush(true);
      writer.close();
    } catch (const std::exception& e) {
      return Status::IoError(path + ": cannot write OSM file: " + e.what());
    }
    return stats_;
  }

 private:
  struct Rel {
    uint64_t id;
    std::vector<std::tuple<char, uint64_t, std::string>> members;
    std::vector<std::pair<std::string, std::string>> tags;
  };

  std::pair<double, double> Junction(uint32_t i) const {
    const uint32_t row = i / g_, col = i % g_;
    // Deterministic jitter of up to a fifth of the spacing.
    const double jx = std::sin(i * 12.9898) * 0.2, jy = std::cos(i * 78.233) * 0.2;
    return {o_.origin_lat + (row + jy) * dlat_, o_.origin_lon + (col + jx) * dlon_};
  }

  void AddNode(osmium::memory::Buffer& buffer, uint64_t id, std::pair<double, double> latlon) {
    const osmium::Location loc(latlon.second, latlon.first);
    osmium::builder::add_node(buffer, _id(static_cast<osmium::object_id_type>(id)), _version(1),
                              _timestamp(osmium::Timestamp("2026-01-01T00:00:00Z")),
                              _location(loc));
    ++stats_.nodes;
    stats_.bbox.Extend(engine::PointE7{loc.y(), loc.x()});
  }

  template <typename T>
  const T& Pick(const std::vector<std::pair<double, T>>& weighted) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    for (const auto& [w, v] : weighted) {
      if ((u -= w) <= 0) return v;
    }
    return weighted.back().second;
  }

  void BuildLinks() {
    uint64_t next_interior = uint64_t{g_} * g_ + 1;
    auto add = [&](uint32_t a, uint32_t b) {
      Link l;
      l.a = a, l.b = b;
      l.first_interior = next_interior;
      next_interior += kInterior;
      l.reversed = std::uniform_real_distribution<double>(0, 1)(rng_) < 0.3;
      l.highway = Pick<std::string>({{0.40, "path"},
                                     {0.25, "track"},
                                     {0.15, "footway"},
                                     {0.10, "residential"},
                                     {0.03, "bridleway"},
                                     {0.02, "steps"},
                                     {0.03, "motorway"},
                                     {0.02, "primary"}});
      if (l.highway == "primary") l.foot = "no";
      l.surface = Pick<std::string>({{0.3, ""},
                                     {0.2, "gravel"},
                                     {0.2, "ground"},
                                     {0.15, "asphalt"},
                                     {0.1, "dirt"},
                                     {0.05, "compacted"}});
      if (l.highway == "path" && std::uniform_real_distribution<double>(0, 1)(rng_) < 0.2) {
        l.sac =
            Pick<std::string>({{0.6, "hiking"}, {0.3, "mountain_hiking"}, {0.1, "alpine_hiking"}});
      }
      link_at_[{std::min(a, b), std::max(a, b)}] = links_.size();
      links_.push_back(std::move(l));
    };
    for (uint32_t r = 0; r < g_; ++r) {
      for (uint32_t c = 0; c + 1 < g_; ++c) add(r * g_ + c, r * g_ + c + 1);
    }
    for (uint32_t r = 0; r + 1 < g_; ++r) {
      for (uint32_t c = 0; c < g_; ++c) add(r * g_ + c, (r + 1) * g_ + c);
    }
    // Named trails: runs of 3-8 row links of trail highways share a name.
    for (uint32_t r = 0; r < g_; ++r) {
      for (uint32_t c = 0; c + 1 < g_;) {
        const uint32_t len = std::uniform_int_distribution<uint32_t>(3, 8)(rng_);
        if (std::uniform_real_distribution<double>(0, 1)(rng_) < 0.5) {
          const std::string name = "Sentier " + std::to_string(r) + "-" + std::to_string(c);
          for (uint32_t k = c; k < std::min(c + len, g_ - 1); ++k) {
            Link& l = links_[link_at_.at({r * g_ + k, r * g_ + k + 1})];
            if (l.highway == "path" || l.highway == "track" || l.highway == "footway")
              l.name = name;
          }
        }
        c += len;
      }
    }
  }

  // The link between two junctions, when it exists and may be walked.
  int64_t WalkableLink(uint32_t a, uint32_t b) const {
    auto it = link_at_.find({std::min(a, b), std::max(a, b)});
    return it != link_at_.end() && links_[it->second].walkable() ? static_cast<int64_t>(it->second)
                                                                 : -1;
  }

  std::vector<uint64_t> RandomWalk(uint32_t start, uint32_t steps) {
    std::vector<uint64_t> ways;
    std::set<size_t> used;
    uint32_t at = start;
    for (uint32_t s = 0; s < steps; ++s) {
      std::vector<std::pair<uint32_t, size_t>> options;
      const uint32_t r = at / g_, c = at % g_;
      const int dr[4] = {-1, 1, 0, 0}, dc[4] = {0, 0, -1, 1};
      for (int d = 0; d < 4; ++d) {
        const int nr = static_cast<int>(r) + dr[d], nc = static_cast<int>(c) + dc[d];
        if (nr < 0 || nc < 0 || nr >= static_cast<int>(g_) || nc >= static_cast<int>(g_)) continue;
        const uint32_t next = static_cast<uint32_t>(nr) * g_ + static_cast<uint32_t>(nc);
        const int64_t l = WalkableLink(at, next);
        if (l >= 0 && !used.count(static_cast<size_t>(l)))
          options.emplace_back(next, static_cast<size_t>(l));
      }
      if (options.empty()) break;
      const auto& [next, l] =
          options[std::uniform_int_distribution<size_t>(0, options.size() - 1)(rng_)];
      used.insert(l);
      ways.push_back(l + 1);
      at = next;
    }
    return ways;
  }

  // A rectangle of junctions walked round; empty when a side is not walkable.
  std::vector<uint64_t> Loop(uint32_t r0, uint32_t c0, uint32_t h, uint32_t w) {
    std::vector<uint32_t> ring;
    for (uint32_t c = c0; c < c0 + w; ++c) ring.push_back(r0 * g_ + c);
    for (uint32_t r = r0; r < r0 + h; ++r) ring.push_back(r * g_ + c0 + w);
    for (uint32_t c = c0 + w; c > c0; --c) ring.push_back((r0 + h) * g_ + c);
    for (uint32_t r = r0 + h; r > r0; --r) ring.push_back(r * g_ + c0);
    std::vector<uint64_t> ways;
    for (size_t i = 0; i < ring.size(); ++i) {
      const int64_t l = WalkableLink(ring[i], ring[(i + 1) % ring.size()]);
      if (l < 0) return {};
      ways.push_back(static_cast<uint64_t>(l) + 1);
    }
    return ways;
  }

  void BuildRelations() {
    const uint64_t count = std::max<uint64_t>(4, uint64_t{g_} * g_ / 25);
    auto junction = [&] { return std::uniform_int_distribution<uint32_t>(0, g_ * g_ - 1)(rng_); };
    for (uint64_t n = 0; n < count; ++n) {
      Rel rel;
      rel.id = n + 1;
      const double kind = std::uniform_real_distribution<double>(0, 1)(rng_);
      std::vector<uint64_t> ways;
      if (kind < 0.2 && g_ > 8) {
        const uint32_t h = std::uniform_int_distribution<uint32_t>(2, 5)(rng_);
        const uint32_t w = std::uniform_int_distribution<uint32_t>(2, 5)(rng_);
        ways = Loop(std::uniform_int_distribution<uint32_t>(0, g_ - h - 1)(rng_),
                    std::uniform_int_distribution<uint32_t>(0, g_ - w - 1)(rng_), h, w);
        if (!ways.empty()) ++stats_.loops;
      }
      if (ways.empty())
        ways = RandomWalk(junction(), std::uniform_int_distribution<uint32_t>(8, 40)(rng_));
      if (ways.size() < 2) continue;
      if (kind >= 0.2 && kind < 0.3) {  // shuffled member list
        std::shuffle(ways.begin(), ways.end(), rng_);
      } else if (kind >= 0.3 && kind < 0.35 && ways.size() > 4) {  // a gap
        ways.erase(ways.begin() + static_cast<std::ptrdiff_t>(ways.size() / 2));
      }
      for (uint64_t w : ways) rel.members.emplace_back('w', w, "");
      if (kind >= 0.35 && kind < 0.45) {  // an approach and an alternative
        const std::vector<uint64_t> extra = RandomWalk(junction(), 3);
        for (size_t i = 0; i < extra.size(); ++i) {
          rel.members.emplace_back('w', extra[i], i == 0 ? "approach" : "alternative");
        }
      }
      const std::string route = Pick<std::string>({{0.70, "hiking"},
                                                   {0.10, "foot"},
                                                   {0.10, "running"},
                                                   {0.05, "fitness_trail"},
                                                   {0.05, "nordic_walking"}});
      rel.tags = {{"type", "route"},
                  {"route", route},
                  {"name", "Synthetic " + route + " " + std::to_string(rel.id)},
                  {"ref", "S" + std::to_string(rel.id)},
                  {"network", Pick<std::string>({{0.6, "lwn"}, {0.3, "rwn"}, {0.1, "nwn"}})},
                  {"osmc:symbol", "red:white:red_bar"}};
      rels_.push_back(std::move(rel));
      ++stats_.route_relations;
    }
    // Super-routes: every tenth route groups the two or three routes before it.
    const size_t plain = rels_.size();
    for (size_t i = 9; i < plain; i += 10) {
      Rel super;
      super.id = 1'000'000'000 + rels_[i].id;
      for (size_t k = i - 2; k <= i; ++k) super.members.emplace_back('r', rels_[k].id, "");
      super.tags = {{"type", "superroute"},
                    {"route", "hiking"},
                    {"name", "Synthetic long-distance " + std::to_string(i / 10)},
                    {"network", "nwn"}};
      rels_.push_back(std::move(super));
      ++stats_.super_routes;
    }
  }

  SyntheticOsmOptions o_;
  std::mt19937_64 rng_;
  uint32_t g_ = 0;
  double dlat_ = 0, dlon_ = 0;
  std::vector<Link> links_;
  std::map<std::pair<uint32_t, uint32_t>, size_t> link_at_;
  std::vector<Rel> rels_;
  SyntheticOsmStats stats_;
};

}  // namespace

Result<SyntheticOsmStats> WriteSyntheticOsm(const std::string& path,
                                            const SyntheticOsmOptions& options) {
  if (options.target_nodes < 100 || options.target_nodes > 200'000'000) {
    return Status::InvalidArgument("target nodes " + std::to_string(options.target_nodes) +
                                   ": expected 100 to 200000000");
  }
  Generator g(options);
  return g.Write(path);
}

double SyntheticElevation(double lat, double lon) {
  // Valleys ~20 km apart, ridges ~9 km, hillocks ~2 km: grades mostly 5-20 %, rarely 40 %.
  const double two_pi = 2 * engine::kPi;
  return 1400 + 600 * std::sin(two_pi * lat / 0.2) * std::cos(two_pi * lon / 0.25) +
         250 * std::sin(two_pi * (lat + 0.6 * lon) / 0.08) +
         40 * std::cos(two_pi * (lat - lon) / 0.02);
}

Status WriteSyntheticDem(const std::string& dir, const engine::BoxE7& bbox) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError(dir + ": " + ec.message());
  const int lat0 = static_cast<int>(std::floor(bbox.min_lat * 1e-7));
  const int lat1 = static_cast<int>(std::floor(bbox.max_lat * 1e-7));
  const int lon0 = static_cast<int>(std::floor(bbox.min_lon * 1e-7));
  const int lon1 = static_cast<int>(std::floor(bbox.max_lon * 1e-7));
  constexpr int n = 1201;
  std::vector<char> tile(static_cast<size_t>(n) * n * 2);
  for (int la = lat0; la <= lat1; ++la) {
    for (int lo = lon0; lo <= lon1; ++lo) {
      for (int r = 0; r < n; ++r) {
        for (int c = 0; c < n; ++c) {
          const double h = SyntheticElevation(la + 1 - r / 1200.0, lo + c / 1200.0);
          const auto v = static_cast<uint16_t>(static_cast<int16_t>(std::lround(h)));
          tile[(static_cast<size_t>(r) * n + c) * 2] = static_cast<char>(v >> 8);
          tile[(static_cast<size_t>(r) * n + c) * 2 + 1] = static_cast<char>(v & 0xff);
        }
      }
      const std::string name = importers::SrtmTileName(la, lo) + ".hgt";
      std::ofstream f(dir + "/" + name, std::ios::binary);
      f.write(tile.data(), static_cast<std::streamsize>(tile.size()));
      if (!f) return Status::IoError(dir + "/" + name + ": cannot write");
    }
  }
  return Status::Ok();
}

}  // namespace stride::datasets
