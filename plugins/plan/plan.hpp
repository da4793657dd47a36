// SPDX-License-Identifier: Apache-2.0
//
// The plan plugin ("plans", routes under /v1/plans): the runner's fitness and training load
// from their own runs, and a training plan that follows what really happened (engine/training).
//
//   GET /v1/plans/fitness             VDOT from recent best efforts (which one, how old),
//                                     predictions for 5 K, 10 K, half and marathon with a
//                                     range, training paces E/M/T/I/R
//   GET /v1/plans/predict?distance_m= one prediction: VDOT equivalence, Riegel, the range
//   GET /v1/plans/load?from=&to=      per day: load, CTL, ATL, TSB; at `to`: EWMA and rolling
//                                     acute:chronic ratios, monotony, strain, and the spike of
//                                     the last run against the longest of the 30 days before
//   GET /v1/plans/current             the stored plan: the last 14 days with their state (rest,
//                                     done with its run, missed, extra runs), the next 28 days
//                                     (or a rolling 14 without a goal), the weeks to the goal
//                                     race, each day's reasons when the adjuster changed it,
//                                     the signals it acted on
//   GET /v1/plans/next                the next planned run not yet done
//   GET /v1/plans/changes?date=&limit=&before=   every material change (another kind of day,
//                                     or 10 % and 1 km off) with its reasons, newest first
//   GET /v1/plans/calendar.ics        the plan as an iCalendar feed (engine/training/
//                                     plan_calendar.hpp), one all-day event per planned run
//   GET /v1/plans/days/{date}/workout.fit   that day's workout as a FIT workout file
//                                     (engine/training/fit_workout.hpp)
//
// each with `methods` naming the conventions. Recalculation (generate from today, adjust with
// engine/training/adapt.hpp, keep each week that did not change materially, record the
// changes) runs at 01:00 in the runner's time zone (the host's daily tick), after each stored
// or deleted run and readiness check-in of a runner who has a plan, and on reading when the
// stored plan is from another day or the profile changed since. Inputs: the athlete profile
// (GET /v1/me/profile), the readiness check-ins (GET /v1/me/readiness), and per stored run a
// record kept in the plugin's namespace:
//
//   user  r/<run_id>  start_s, distance_m, moving_s, avg_hr, gap, sport, efforts [(m, s)...]
//                     in a small binary layout (EncodeRecord in plan.cpp; JSON read too)
//         seen        "1" once the runs stored before the plugin first served the user were
//                     read (runs_list + run_get, on the first request)
//         plan        the stored plan: days as compact arrays (StoredDay in plan.cpp; the past
//                     14 kept as they were planned, the next
//                     28 day by day), weeks to the race,
//                     inputs (what it was made from, to explain the next change), signals
//         c/<%016u>   a change {id, at, date, before, after, reasons, triggers, cause}
//         c_next      the next change id
//
// Records follow run.stored / run.deleted; DELETE /v1/me removes them with the user's keys.
//
// Thread-safety: requests and events may run concurrently; one backfill per user at a time
// (users in parallel), one recalculation per user at a time; the parsed records are shared
// read-only.
#pragma once

#include <string>

#include "plugins/api/stride_plugin.h"

namespace stride::plugins::plan {

const stride_plugin_info_t* Info();
int InitV1(const stride_host_api_t* host, stride_host_t* ctx, stride_plugin_t** self,
           const stride_plugin_api_t** api);

// The record the plugin keeps of a run (key r/<run_id>), from the run's JSON as GET
// /v1/runs/{id} answers it; for tools that fill a namespace without the host (bench/).
std::string EncodeRunRecord(const std::string& run_json);

}  // namespace stride::plugins::plan
