// SPDX-License-Identifier: Apache-2.0
#include "engine/trail/match.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <queue>
#include <string>
#include <tuple>
#include <unordered_map>

#include "engine/geo/geodesy.hpp"

namespace stride::engine::trail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double Straight(PointE7 a, PointE7 b) {
  return SegmentDistanceM(a.lat * 1e-7, a.lon * 1e-7, b.lat * 1e-7, b.lon * 1e-7);
}

// Walking metres from snap `a` to each of `targets` (infinity beyond `bound_m`): one Dijkstra
// by length, stopped once every target's edge ends are settled or the bound is passed.
std::vector<double> RouteDistances(const TrailGraph& g, const Snap& a,
                                   const std::vector<Snap>& targets, double bound_m) {
  std::unordered_map<uint32_t, double> dist;
  using E = std::pair<double, uint32_t>;
  std::priority_queue<E, std::vector<E>, std::greater<>> q;
  const GraphEdge& ae = g.edges[a.edge];
  auto relax = [&](uint32_t v, double d) {
    auto [it, inserted] = dist.try_emplace(v, d);
    if (inserted || d < it->second) {
      it->second = d;
      q.push({d, v});
    }
  };
  relax(ae.from, a.offset_m);
  relax(ae.to, ae.length_m - a.offset_m);
  size_t pending = 0;
  std::unordered_map<uint32_t, bool> wanted;
  for (const Snap& t : targets) {
    const GraphEdge& te = g.edges[t.edge];
    pending += wanted.try_emplace(te.from, false).second;
    pending += wanted.try_emplace(te.to, false).second;
  }
  while (!q.empty() && pending > 0) {
    const auto [d, v] = q.top();
    q.pop();
    if (d > dist[v]) continue;
    if (d > bound_m) break;
    if (auto w = wanted.find(v); w != wanted.end() && !w->second) {
      w->second = true;
      --pending;
    }
    for (const Arc* arc = g.arcs_begin(v); arc != g.arcs_end(v); ++arc) {
      relax(arc->to, d + g.edges[arc->edge()].length_m);
    }
  }
  std::vector<double> out(targets.size(), kInf);
  for (size_t i = 0; i < targets.size(); ++i) {
    const Snap& t = targets[i];
    const GraphEdge& te = g.edges[t.edge];
    double best = kInf;
    if (auto it = dist.find(te.from); it != dist.end()) best = it->second + t.offset_m;
    if (auto it = dist.find(te.to); it != dist.end()) {
      best = std::min(best, it->second + te.length_m - t.offset_m);
    }
    if (t.edge == a.edge) best = std::min(best, std::abs(t.offset_m - a.offset_m));
    out[i] = best <= bound_m ? best : kInf;
  }
  return out;
}

struct Layer {
  size_t point = 0;  // input index
  std::vector<Snap> cands;
  std::vector<double> score;
  std::vector<int> back;  // index into the previous layer's candidates; -1 starts a piece
};

}  // namespace

std::vector<MatchPoint> MatchPointsOf(const Track& t) {
  std::vector<MatchPoint> out;
  for (size_t i = 0; i < t.lat_deg.size(); ++i) {
    if (!std::isfinite(t.lat_deg[i]) || !std::isfinite(t.lon_deg[i])) continue;
    out.push_back({t.time_s[i],
                   {static_cast<int32_t>(std::lround(t.lat_deg[i] * 1e7)),
                    static_cast<int32_t>(std::lround(t.lon_deg[i] * 1e7))}});
  }
  return out;
}

Result<MatchResult> Match(const TrailGraph& g, const std::vector<MatchPoint>& points,
                          const MatchOptions& o) {
  if (points.size() < 2) {
    return Status::InvalidArgument("a track to match needs at least two points; it has " +
                                   std::to_string(points.size()));
  }
  MatchResult r;
  r.point_piece.assign(points.size(), -1);
  // Viterbi over the kept fixes; a run of layers joined by transitions is one piece.
  std::vector<std::vector<Layer>> runs;
  std::vector<Layer> run;
  auto close_run = [&] {
    if (!run.empty()) runs.push_back(std::move(run));
    run.clear();
  };
  PointE7 last_used{};
  bool have_last = false;
  const double two_sigma2 = 2 * o.sigma_m * o.sigma_m;
  for (size_t i = 0; i < points.size(); ++i) {
    const PointE7 p = points[i].p;
    if (have_last && i + 1 < points.size() && Straight(last_used, p) < o.min_spacing_m) continue;
    Layer layer;
    layer.point = i;
    layer.cands = g.Within(p, o.radius_m, o.max_candidates);
    if (layer.cands.empty()) {  // off the network
      close_run();
      have_last = false;
      continue;
    }
    layer.score.assign(layer.cands.size(), -kInf);
    layer.back.assign(layer.cands.size(), -1);
    bool joined = false;
    if (!run.empty()) {
      const Layer& prev = run.back();
      const double straight = Straight(points[prev.point].p, p);
      const double bound = o.max_detour * straight + 100.0;
      for (size_t a = 0; a < prev.cands.size(); ++a) {
        if (!std::isfinite(prev.score[a])) continue;
        const std::vector<double> route = RouteDistances(g, prev.cands[a], layer.cands, bound);
        for (size_t b = 0; b < layer.cands.size(); ++b) {
          if (!std::isfinite(route[b])) continue;
          const double s = prev.score[a] - std::abs(route[b] - straight) / o.beta_m;
          if (s > layer.score[b]) {
            layer.score[b] = s;
            layer.back[b] = static_cast<int>(a);
            joined = true;
          }
        }
      }
    }
    if (!joined) {
      close_run();
      std::fill(layer.score.begin(), layer.score.end(), 0.0);
    }
    for (size_t b = 0; b < layer.cands.size(); ++b) {
      if (std::isfinite(layer.score[b])) {
        const double d = layer.cands[b].distance_m;
        layer.score[b] -= d * d / two_sigma2;
      }
    }
    // Keep scores near zero so that long tracks do not lose precision.
    const double top = *std::max_element(layer.score.begin(), layer.score.end());
    for (double& s : layer.score) s -= top;
    run.push_back(std::move(layer));
    last_used = p;
    have_last = true;
  }
  close_run();

  FootOptions by_length;
  by_length.shortest = true;
  for (const std::vector<Layer>& layers : runs) {
    if (layers.size() < 2) continue;  // one fix on the network is no walk
    // Backtrack the best state sequence.
    std::vector<int> choice(layers.size());
    const std::vector<double>& last = layers.back().score;
    choice.back() = static_cast<int>(std::max_element(last.begin(), last.end()) - last.begin());
    for (size_t k = layers.size() - 1; k > 0; --k) {
      choice[k - 1] = layers[k].back[static_cast<size_t>(choice[k])];
      if (choice[k - 1] < 0) choice[k - 1] = 0;  // cannot happen inside a run
    }
    MatchPiece piece;
    piece.first_point = layers.front().point;
    piece.last_point = layers.back().point;
    // The walk, leg by leg, with the fixes' positions along it for the times.
    std::vector<Step> steps;
    std::vector<std::pair<double, double>> at_time;  // (metres along the piece, time)
    double along = 0;
    at_time.emplace_back(0.0, points[layers.front().point].time_s);
    for (size_t k = 1; k < layers.size(); ++k) {
      const Snap& a = layers[k - 1].cands[static_cast<size_t>(choice[k - 1])];
      const Snap& b = layers[k].cands[static_cast<size_t>(choice[k])];
      Result<Path> leg = ShortestPath(g, a, b, by_length);
      if (!leg.ok()) return Status::Internal("matched legs must join: " + leg.status().message());
      steps.insert(steps.end(), leg->steps.begin(), leg->steps.end());
      along += leg->distance_m;
      at_time.emplace_back(along, points[layers[k].point].time_s);
    }
    piece.path = Measure(g, steps, by_length);
    const int index = static_cast<int>(r.pieces.size());
    for (size_t i = piece.first_point; i <= piece.last_point; ++i) r.point_piece[i] = index;
    // Edges walked, with entry and exit times interpolated between the fixes.
    auto time_at = [&](double m) {
      auto it = std::lower_bound(at_time.begin(), at_time.end(), std::make_pair(m, -kInf));
      if (it == at_time.begin()) return it->second;
      if (it == at_time.end()) return at_time.back().second;
      const auto& [m1, t1] = *it;
      const auto& [m0, t0] = *(it - 1);
      return m1 > m0 ? t0 + (t1 - t0) * (m - m0) / (m1 - m0) : t1;
    };
    double pos = 0;
    for (const Step& s : steps) {
      const double len = std::abs(s.to_m - s.from_m);
      if (!r.edges.empty() && r.edges.back().piece == index && r.edges.back().edge == s.edge &&
          std::abs(r.edges.back().to_m - s.from_m) < 1e-6) {
        r.edges.back().to_m = s.to_m;
        r.edges.back().exit_time_s = time_at(pos + len);
      } else {
        r.edges.push_back({s.edge, s.from_m, s.to_m, time_at(pos), time_at(pos + len), index});
      }
      pos += len;
    }
    r.pieces.push_back(std::move(piece));
  }
  for (size_t i = 1; i < points.size(); ++i) {
    const double d = Straight(points[i - 1].p, points[i].p);
    (r.point_piece[i] >= 0 && r.point_piece[i] == r.point_piece[i - 1] ? r.on_network_m
                                                                       : r.off_network_m) += d;
  }
  return r;
}

namespace {

// Per (piece, route), or per route when !per_piece (piece -1): matched intervals per edge (so
// walking a stretch twice counts once), the first entry, the last exit, and the first matched
// edge on it (the order routes were reached, with or without times).
std::vector<RouteEffort> Walked(const TrailGraph& g, const MatchResult& m, bool per_piece,
                                std::vector<size_t>* first_edge) {
  struct Acc {
    std::map<uint32_t, std::vector<std::pair<double, double>>> by_edge;
    double start = std::numeric_limits<double>::infinity(),
           end = -std::numeric_limits<double>::infinity();
    size_t first = SIZE_MAX;
  };
  std::map<std::pair<int, uint32_t>, Acc> acc;
  for (size_t k = 0; k < m.edges.size(); ++k) {
    const MatchedEdge& e = m.edges[k];
    for (const uint32_t* r = g.routes_begin(e.edge); r != g.routes_end(e.edge); ++r) {
      Acc& a = acc[{per_piece ? e.piece : -1, *r}];
      a.by_edge[e.edge].emplace_back(std::min(e.from_m, e.to_m), std::max(e.from_m, e.to_m));
      if (std::isfinite(e.entry_time_s)) a.start = std::min(a.start, e.entry_time_s);
      if (std::isfinite(e.exit_time_s)) a.end = std::max(a.end, e.exit_time_s);
      a.first = std::min(a.first, k);
    }
  }
  std::vector<RouteEffort> out;
  for (auto& [key, a] : acc) {
    RouteEffort r;
    r.route = key.second;
    r.piece = key.first;
    for (auto& [edge, iv] : a.by_edge) r.covered_m += UnionLength(iv);
    if (std::isfinite(a.start) && std::isfinite(a.end)) {
      r.start_s = a.start;
      r.end_s = a.end;
    }
    out.push_back(r);
    first_edge->push_back(a.first);
  }
  return out;
}

double RouteLength(const TrailGraph& g, uint32_t route) {
  return route < g.route_length_m.size() ? g.route_length_m[route] : 0;
}

}  // namespace

std::vector<RouteEffort> RouteEfforts(const TrailGraph& g, const MatchResult& m, double min_share) {
  std::vector<size_t> first;
  std::vector<RouteEffort> out = Walked(g, m, /*per_piece=*/true, &first);
  std::erase_if(out, [&](const RouteEffort& r) {
    const double total = RouteLength(g, r.route);
    return total <= 0 || r.covered_m < min_share * total;
  });
  auto start = [](const RouteEffort& r) {
    return std::isnan(r.start_s) ? std::numeric_limits<double>::infinity() : r.start_s;
  };
  std::sort(out.begin(), out.end(), [&](const RouteEffort& a, const RouteEffort& b) {
    return std::make_tuple(a.piece, start(a), a.route) <
           std::make_tuple(b.piece, start(b), b.route);
  });
  return out;
}

std::vector<RouteCovered> RoutesWalked(const TrailGraph& g, const MatchResult& m) {
  std::vector<size_t> first;
  const std::vector<RouteEffort> walked = Walked(g, m, /*per_piece=*/false, &first);
  std::vector<size_t> order(walked.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::make_pair(first[a], walked[a].route) < std::make_pair(first[b], walked[b].route);
  });
  std::vector<RouteCovered> out;
  for (size_t i : order) {
    const RouteEffort& w = walked[i];
    const double total = RouteLength(g, w.route);
    if (total <= 0) continue;
    RouteCovered c;
    c.route = w.route;
    c.covered_m = std::min(w.covered_m, total);
    c.share = c.covered_m / total;
    c.first_reached_s = w.start_s;
    out.push_back(c);
  }
  return out;
}

}  // namespace stride::engine::trail
