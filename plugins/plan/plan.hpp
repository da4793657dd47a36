// SPDX-License-Identifier: Apache-2.0
//
// The plan plugin ("plans", routes under /v1/plans): the runner's fitness and training load
// from their own runs, on engine/training. This first part answers
//
//   GET /v1/plans/fitness             VDOT from recent best efforts (which one, how old),
//                                     predictions for 5 K, 10 K, half and marathon with a
//                                     range, training paces E/M/T/I/R
//   GET /v1/plans/predict?distance_m= one prediction: VDOT equivalence, Riegel, the range
//   GET /v1/plans/load?from=&to=      per day: load, CTL, ATL, TSB; at `to`: EWMA and rolling
//                                     acute:chronic ratios, monotony, strain, and the spike of
//                                     the last run against the longest of the 30 days before
//   GET /v1/plans/current             the plan from today to the profile's goal race (or a
//                                     rolling 14 days): weeks, days with structured workouts,
//                                     warnings, and what was assumed (engine/training/plan.hpp)
//   GET /v1/plans/next                the next planned run
//
// each with `methods` naming the conventions. The plan is generated from the runs and the
// profile at each request; keeping it, matching runs to its days (done, missed, extra),
// readiness and adaptation come next (issue 13). Inputs: the athlete profile (GET /v1/me/profile:
// sex, max/rest HR, threshold pace, time zone) and, per stored run, a record kept in the plugin's
// namespace:
//
//   user  r/<run_id>  {start_s, distance_m, moving_s, avg_hr, gap, sport, efforts:[[m, s]...]}
//         seen        "1" once the runs stored before the plugin first served the user were
//                     read (runs_list + run_get, on the first request)
//
// Records follow run.stored / run.deleted; DELETE /v1/me removes them with the user's keys.
//
// Thread-safety: requests and events may run concurrently; one backfill per user at a time
// (users in parallel); the parsed records are shared read-only.
#pragma once

#include "plugins/api/stride_plugin.h"

namespace stride::plugins::plan {

const stride_plugin_info_t* Info();
int InitV1(const stride_host_api_t* host, stride_host_t* ctx, stride_plugin_t** self,
           const stride_plugin_api_t** api);

}  // namespace stride::plugins::plan
