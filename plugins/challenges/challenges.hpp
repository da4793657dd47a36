// SPDX-License-Identifier: Apache-2.0
//
// The challenges plugin: day-by-day challenges ("30 days, at least 2 km a day"), weekly ones
// ("run 5 times a week for 4 weeks"), and cumulative / team distance challenges that advance
// along a real route (an OSM route of the route database, or a line of waypoints) with
// milestones and leaderboards, as a virtual-race app needs. Routes under /v1/challenges
// (README "Challenges"); state in the plugin's key-value namespace:
//
//   global  c/<id>           the challenge (its line, profile and milestones resolved)
//           m/<id>/<user>    a membership: team, time zone, start day
//           u/<user>/<id>    the same, by user (to find a deleted user's memberships)
//           t/<id>           derived, per team: distance, members, milestones reached; seq
//           s/<id>/<user>    derived, per member: team, distance, days or weeks completed
//           e/<id>/<seq>     the challenge's event log (milestone.reached / .withdrawn, ...)
//   user    r/<run_id>       what a stored run contributes: start, end, distance, sport
//           j/<id>           the user's own copy of the membership (their "my challenges")
//
// Derived state is exact under late sync and deletion: a run counts on the day (in the
// member's time zone) it was run, whenever it arrives; a deleted run is taken back out and a
// milestone no longer reached is withdrawn, with an event. Incremental updates equal a full
// recomputation from the run records (Recompute, and the property test).
//
// A change touches the team document and the rows of the members it changed, never the whole
// membership: a run of one member of a 10,000-member challenge writes two small values. The
// state is kept in memory once loaded (readers share it; writers change it in place and store
// what changed), so progress and leaderboards neither parse nor re-sort per request.
//
// Thread-safety: one mutex per plugin instance around every state change; readers take the
// state's reader lock.
#pragma once

#include "plugins/api/stride_plugin.h"

namespace stride::plugins::challenges {

// The bundled entry points (a shared build also exports them under the standard names).
const stride_plugin_info_t* Info();
int InitV1(const stride_host_api_t* host, stride_host_t* ctx, stride_plugin_t** self,
           const stride_plugin_api_t** api);

}  // namespace stride::plugins::challenges
