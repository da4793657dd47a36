// SPDX-License-Identifier: Apache-2.0
//
// Line simplification for what is drawn or sent, not for what is measured: Douglas-Peucker
// with a tolerance in metres, in a local plane centred on the line's first point (good to a
// few centimetres over the tens of kilometres of a route; see QueryPlane). Both ends are kept,
// and every point kept is one of the input's (no new coordinates).
//
// Trade-off: Douglas-Peucker keeps the shape within the tolerance but not the length; a route's
// length and profile are always computed from the full line (engine/route/profile.hpp).
//
// Thread-safety: a pure function.
#pragma once

#include <span>
#include <vector>

#include "engine/route/route.hpp"

namespace stride::engine {

// The points of `points` to keep so that no dropped point lies farther than `tolerance_m`
// from the simplified line. tolerance_m <= 0 or fewer than 3 points: the input unchanged.
// A span, so a part of a longer line (a route's part, a graph edge's shape) needs no copy.
std::vector<PointE7> SimplifyLine(std::span<const PointE7> points, double tolerance_m);

}  // namespace stride::engine
