// SPDX-License-Identifier: Apache-2.0
#include "datasets/synthetic_chat.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "engine/run/run.hpp"
#include "engine/text/iso_time.hpp"
#include "engine/time/time_zone.hpp"

namespace stride::datasets {
namespace {

using engine::retrieval::Document;
using engine::retrieval::RunFacts;

constexpr const char* kWeekday[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                    "Friday", "Saturday", "Sunday"};
constexpr const char* kMonth[] = {"January",   "February", "March",    "April",
                                  "May",       "June",     "July",     "August",
                                  "September", "October",  "November", "December"};

const std::vector<std::string> kPlaces = {
    "Riverside Loop", "Castle Hill",    "Old Mill Trail", "Pine Ridge",
    "Lakeshore Path", "Quarry Circuit", "Vineyard Lane",  "Harbour Wall",
    "Beacon Climb",   "Orchard Track",  "Coll de Ordino", "Estany Blau",
    "Canal Towpath",  "Forest Park",    "Stadium Track",  "Ridgeway"};

struct Note {
  const char* text;
  std::vector<const char*> questions;
};
const std::vector<Note> kNotes = {
    {"felt dizzy in the heat, had to walk twice",
     {"Which run did I get dizzy?", "When did the heat make me dizzy?",
      "the run with the dizziness"}},
    {"left calf tight from the start",
     {"When was my calf tight?", "Which run had a tight left calf?", "calf tightness run"}},
    {"first run in the new blue Pegasus shoes, felt great",
     {"When did I first wear the Pegasus?", "Which run was in my new shoes?",
      "first outing in the blue Pegasus"}},
    {"saw a deer near the stream",
     {"The run where I saw a deer", "When did I see the deer?", "deer sighting run"}},
    {"stomach cramps after 8 km, no breakfast",
     {"Which run gave me stomach cramps?", "When did I get cramps?", "cramping stomach run"}},
    {"ran with Marta and Joan, chatty pace",
     {"When did I run with Marta?", "Which runs were with Joan?", "my run with Marta and Joan"}},
    {"strong headwind on the way back",
     {"The windy run with a headwind", "When was the headwind so strong?",
      "run against strong wind"}},
    {"rain the whole way, soaked",
     {"When did I get soaked in the rain?", "Which run was in the rain?", "rainy soaked run"}},
    {"knee ache on the descent",
     {"Which run did my knee ache downhill?", "When did the knee ache on a descent?",
      "aching knee run"}},
    {"tripped on a root and scraped my hand",
     {"When did I trip on a root?", "Which run did I scrape my hand?", "the run where I tripped"}},
};

struct Topic {
  const char* user;
  const char* coach;
  std::vector<const char*> questions;
};
const std::vector<Topic> kTopics = {
    {"my left knee hurts after hill repeats",
     "ease off the downhill repeats and ice the knee",
     {"What did I say about my knee?", "Did I mention knee pain?"}},
    {"thinking of buying carbon plate racing shoes",
     "carbon plates help most in races, not daily",
     {"What did I say about carbon plates?", "Did I mention racing shoes?"}},
    {"I travel to Berlin for work next month",
     "plan hotel treadmill runs in Berlin",
     {"What did I tell you about Berlin?", "Did I mention my work trip?"}},
    {"sleeping badly, waking at 4am",
     "poor sleep lowers readiness, keep it easy",
     {"What did I say about my sleep?", "Did I mention waking early?"}},
    {"my ferritin came back low",
     "low ferritin explains fatigue, talk to your doctor about iron",
     {"What did I say about ferritin?", "Did I mention my iron levels?"}},
    {"can I run a 10K in 45 minutes",
     "a 45 minute 10K needs about VDOT 46",
     {"What did I ask about a 45 minute 10K?", "Did I mention my 10K goal?"}},
    {"should I add strides after easy runs",
     "yes, 6 strides of 20 seconds twice a week",
     {"What did I ask about strides?", "Did I mention strides?"}},
    {"foam rolling makes my IT band worse",
     "skip rolling the IT band, strengthen the hips",
     {"What did I say about foam rolling?", "Did I mention my IT band?"}},
    {"going to an altitude camp in Font Romeu",
     "at altitude slow the easy pace by 10 seconds",
     {"What did I tell you about the altitude camp?", "Did I mention Font Romeu?"}},
    {"what gear for running at minus ten",
     "layers, gloves and a buff below minus five",
     {"What did I ask about cold weather gear?", "Did I mention running at minus ten?"}},
    {"physio appointment on Friday for my hamstring",
     "tell me what the physio says",
     {"What did I say about the physio?", "Did I mention my hamstring?"}},
    {"gels upset my stomach in long runs",
     "try chews or a drink mix in training first",
     {"What did I say about gels?", "Did I mention fuelling problems?"}},
    {"my chest strap gives weird heart rate spikes",
     "wet the strap and replace the battery",
     {"What did I say about the chest strap?", "Did I mention heart rate spikes?"}},
    {"my daughter wants to start running with me",
     "run-walk intervals are a great start for her",
     {"What did I say about my daughter?", "Did I mention running with my kid?"}},
    {"I want to try a trail ultra next year",
     "build to back-to-back long runs first",
     {"What did I say about an ultra?", "Did I mention trail ultras?"}},
    {"treadmill or outside when it is icy",
     "treadmill on icy days, 1 % incline",
     {"What did I ask about the treadmill?", "Did I mention icy roads?"}},
    {"my watch died mid run",
     "charge it the night before long runs",
     {"What did I say about my watch battery?", "Did I mention my watch dying?"}},
    {"lower back stiff after long drives",
     "mobility and core work twice a week",
     {"What did I say about my back?", "Did I mention stiffness after driving?"}},
    {"Achilles feels creaky in the morning",
     "calf raises and no hills for a week",
     {"What did I say about my Achilles?", "Did I mention a creaky tendon?"}},
    {"should I race the Christmas 5K",
     "race it as a tempo effort",
     {"What did I ask about the Christmas race?", "Did I mention the Christmas 5K?"}},
    {"coffee before runs makes me jittery",
     "try half a cup an hour before",
     {"What did I say about coffee?", "Did I mention caffeine?"}},
    {"my new job starts at 7, mornings are gone",
     "move the runs to lunchtime or evenings",
     {"What did I say about my new job?", "Did I mention my schedule change?"}},
    {"blisters on my right heel",
     "check the shoe size and use tape",
     {"What did I say about blisters?", "Did I mention my heel blisters?"}},
    {"pollen season makes me wheeze",
     "run after rain and talk to a doctor about asthma",
     {"What did I say about pollen?", "Did I mention wheezing?"}},
    {"is swimming good cross training",
     "yes, easy swims count as recovery",
     {"What did I ask about swimming?", "Did I mention cross training?"}},
};

std::string Date(int64_t day) {
  return engine::FormatDate(day);
}
void Civil(int64_t day, long long* y, unsigned* m, unsigned* d) {
  engine::CivilFromDays(day, y, m, d);
}
int Weekday(int64_t day) {
  return static_cast<int>(((day + 3) % 7 + 7) % 7);
}

}  // namespace

ChatHistory SyntheticChatHistory(const ChatHistoryOptions& o) {
  ChatHistory h;
  h.today = o.today;
  std::mt19937_64 rng(o.seed);
  auto uniform = [&](double a, double b) {
    return std::uniform_real_distribution<double>(a, b)(rng);
  };
  auto pick = [&](size_t n) {
    return static_cast<size_t>(std::uniform_int_distribution<size_t>(0, n - 1)(rng));
  };

  // Races: a half marathon ~200 days ago and a marathon ~60 days ago, on Sundays.
  int64_t half = o.today - 200, marathon = o.today - 60;
  while (Weekday(half) != 6) --half;
  while (Weekday(marathon) != 6) --marathon;

  uint64_t next_id = 1;
  for (int64_t day = o.today - o.days; day < o.today; ++day) {
    const int wd = Weekday(day);
    std::vector<std::string> types;
    if (day == half || day == marathon) {
      types.push_back("race");
    } else {
      if (wd == 1 || wd == 5) types.push_back("easy");
      if (wd == 2 && uniform(0, 1) < 0.4) types.push_back("easy");
      if (wd == 3) types.push_back(uniform(0, 1) < 0.5 ? "threshold" : "intervals");
      if (wd == 6) types.push_back("long");
      if (!types.empty() && uniform(0, 1) < 0.1) types.clear();  // a skipped day
    }
    for (int i = 0; i < o.extra_runs_per_day; ++i) types.push_back("easy");
    for (const std::string& type : types) {
      RunFacts r;
      r.run_id = engine::RunIdText(next_id++);
      r.day = day;
      r.local_hour = type == "long" || type == "race" ? 8 : (uniform(0, 1) < 0.5 ? 7 : 18);
      r.start_s = static_cast<double>(day) * 86400 + r.local_hour * 3600 + pick(1800);
      double pace = 330;  // s/km
      if (type == "easy") {
        r.distance_m = uniform(6000, 11000);
        pace = uniform(320, 350);
        r.name = "Easy run";
      } else if (type == "threshold") {
        r.distance_m = uniform(9000, 13000);
        pace = uniform(285, 300);
        r.name = "Tempo run";
      } else if (type == "intervals") {
        r.distance_m = uniform(8000, 11000);
        pace = uniform(290, 310);
        r.name = "Intervals";
      } else if (type == "long") {
        r.distance_m = uniform(15000, 30000);
        pace = uniform(330, 360);
        r.name = "Long run";
      } else {
        r.distance_m = day == marathon ? uniform(42200, 42500) : uniform(21100, 21300);
        pace = day == marathon ? 285 : 270;
        r.name = "Race";
        r.notes = day == marathon ? "race day: the Valencia marathon"
                                  : "race day: the city half marathon";
      }
      r.moving_s = r.distance_m / 1000 * pace;
      r.climb_m = uniform(20, 600);
      r.avg_hr = uniform(135, 170);
      if (r.distance_m >= 5000) r.efforts.push_back({5000, 5 * pace * uniform(0.93, 0.99)});
      if (r.distance_m >= 10000) r.efforts.push_back({10000, 10 * pace * uniform(0.95, 1.0)});
      r.places.push_back(type == "race" ? (day == marathon ? "Valencia" : "City Centre")
                                        : kPlaces[pick(kPlaces.size())]);
      h.runs.push_back(r);
    }
  }
  // Notes: each on 1 to 3 runs.
  std::map<size_t, std::vector<std::string>> note_runs;  // note -> run ids
  for (size_t n = 0; n < kNotes.size(); ++n) {
    const size_t count = 1 + pick(3);
    for (size_t c = 0; c < count; ++c) {
      RunFacts& r = h.runs[pick(h.runs.size())];
      if (!r.notes.empty()) continue;
      r.notes = kNotes[n].text;
      note_runs[n].push_back("run/" + r.run_id);
    }
  }
  for (const RunFacts& r : h.runs) h.docs.push_back(engine::retrieval::RunDocument(r));

  // 50 messages: 25 topics, the runner's and the coach's answer, over the last 75 days.
  for (size_t t = 0; t < kTopics.size(); ++t) {
    const int64_t day = o.today - 75 + static_cast<int64_t>(t) * 3;
    const double at = static_cast<double>(day) * 86400 + 20 * 3600;
    h.docs.push_back(
        engine::retrieval::MessageDocument(2 * t + 1, "user", kTopics[t].user, at, day));
    h.docs.push_back(engine::retrieval::MessageDocument(2 * t + 2, "assistant", kTopics[t].coach,
                                                        at + 60, day, kTopics[t].user));
  }
  // The plan: 28 days from today.
  std::map<int64_t, std::string> plan_type;
  std::vector<int64_t> changed;
  for (int64_t day = o.today; day < o.today + 28; ++day) {
    const int wd = Weekday(day);
    std::string type = "rest", desc;
    double m = 0;
    std::vector<std::string> reasons;
    if (wd == 1 || wd == 5) type = "easy", m = 8000, desc = "at 5:30 per km";
    if (wd == 3) type = "threshold", m = 10000, desc = "3 x 10 min at threshold pace";
    if (wd == 6) type = "long", m = 20000, desc = "steady at easy pace";
    if (day - o.today == 3) {
      type = "easy", m = 6000, desc = "easy instead of threshold";
      reasons = {"readiness 38 after poor sleep and a high resting heart rate"};
    }
    if (day - o.today == 12) {
      type = "rest", m = 0;
      reasons = {"illness reported: rest 2 days, then easy"};
    }
    if (day - o.today == 20) {
      type = "easy", m = 12000;
      reasons = {"acute:chronic ratio 1.6 above 1.5: a week at 80 %"};
    }
    if (!reasons.empty()) changed.push_back(day);
    plan_type[day] = type;
    h.docs.push_back(engine::retrieval::PlanDayDocument(day, type, m, desc, reasons));
  }

  // --- questions ---
  auto add = [&](const std::string& family, const std::string& text, std::vector<std::string> rel) {
    if (rel.empty()) return;
    for (const ChatQuestion& q : h.questions) {
      if (q.text == text) return;
    }
    h.questions.push_back({family, text, std::move(rel)});
  };
  std::map<int64_t, std::vector<const RunFacts*>> by_day;
  for (const RunFacts& r : h.runs) by_day[r.day].push_back(&r);
  auto runs_in = [&](int64_t from, int64_t to) {
    std::vector<const RunFacts*> out;
    for (const RunFacts& r : h.runs) {
      if (r.day >= from && r.day <= to) out.push_back(&r);
    }
    return out;
  };
  auto id = [](const RunFacts* r) { return "run/" + r->run_id; };
  auto best_by = [&](std::vector<const RunFacts*> runs, auto key) -> std::vector<std::string> {
    const RunFacts* best = nullptr;
    double bk = 0;
    for (const RunFacts* r : runs) {
      const double k = key(*r);
      if (std::isnan(k)) continue;
      if (!best || k < bk) best = r, bk = k;
    }
    if (!best) return {};
    return {id(best)};
  };
  auto effort = [](double m) {
    return [m](const RunFacts& r) {
      for (const auto& [d, s] : r.efforts) {
        if (d == m) return s;
      }
      return std::nan("");
    };
  };
  // A run on a date.
  std::vector<int64_t> single_days;
  for (const auto& [day, runs] : by_day) {
    if (runs.size() == 1) single_days.push_back(day);
  }
  for (int i = 0; i < 85 && !single_days.empty(); ++i) {
    const int64_t day = single_days[pick(single_days.size())];
    long long y = 0;
    unsigned m = 0, d = 0;
    Civil(day, &y, &m, &d);
    std::string text;
    switch (i % 4) {
      case 0:
        text = "How did my run on " + std::string(kMonth[m - 1]) + " " + std::to_string(d) + " go?";
        break;
      case 1:
        text = "How was my run on " + std::to_string(d) + " " + kMonth[m - 1] + "?";
        break;
      case 2:
        text = "Tell me about my " + Date(day) + " run";
        break;
      default:
        text = "What did I do on " + std::string(kMonth[m - 1]) + " " + std::to_string(d) + "?";
    }
    add("date", text, {id(by_day[day][0])});
  }
  for (int64_t day = o.today - 7; day < o.today; ++day) {
    auto it = by_day.find(day);
    if (it == by_day.end() || it->second.size() != 1) continue;
    add("date", std::string("How did my run on ") + kWeekday[Weekday(day)] + " go?",
        {id(it->second[0])});
    if (day == o.today - 1) add("date", "How was yesterday's run?", {id(it->second[0])});
  }
  // Longest, shortest, hilliest in a month (the latest one begun); fastest efforts.
  long long ty = 0;
  unsigned tm = 0, td = 0;
  Civil(o.today, &ty, &tm, &td);
  for (unsigned m = 1; m <= 12; ++m) {
    const long long y = m <= tm ? ty : ty - 1;
    const int64_t from = engine::DaysFromCivil(y, m, 1);
    const int64_t to =
        (m == 12 ? engine::DaysFromCivil(y + 1, 1, 1) : engine::DaysFromCivil(y, m + 1, 1)) - 1;
    const auto runs = runs_in(from, std::min<int64_t>(to, o.today));
    const std::string mn = kMonth[m - 1];
    add("month", "What was my longest run in " + mn + "?",
        best_by(runs, [](const RunFacts& r) { return -r.distance_m; }));
    add("month", "Shortest run in " + mn + "?",
        best_by(runs, [](const RunFacts& r) { return r.distance_m; }));
    add("month", "Which was my hilliest run in " + mn + "?",
        best_by(runs, [](const RunFacts& r) { return -r.climb_m; }));
    add("effort", "What's my fastest 5K in " + mn + "?", best_by(runs, effort(5000)));
    add("effort", "Best 10 km in " + mn + "?", best_by(runs, effort(10000)));
    std::vector<std::string> all;
    for (const RunFacts* r : runs) all.push_back(id(r));
    add("total", "How far did I run in " + mn + "?", all);
  }
  add("effort", "What's my fastest 5K since my marathon?",
      best_by(runs_in(marathon + 1, o.today), effort(5000)));
  add("effort", "Fastest 10K since my half marathon?",
      best_by(runs_in(half + 1, o.today), effort(10000)));
  add("effort", "My best 5 K since my half marathon",
      best_by(runs_in(half + 1, o.today), effort(5000)));
  add("effort", "Fastest 10 K since my marathon",
      best_by(runs_in(marathon + 1, o.today), effort(10000)));
  add("effort", "What is my fastest 5k this year?",
      best_by(runs_in(engine::DaysFromCivil(ty, 1, 1), o.today), effort(5000)));
  add("effort", "Fastest 10k this year?",
      best_by(runs_in(engine::DaysFromCivil(ty, 1, 1), o.today), effort(10000)));
  // Totals over weeks and months.
  const int64_t monday = o.today - Weekday(o.today);
  auto ids = [&](int64_t from, int64_t to) {
    std::vector<std::string> out;
    for (const RunFacts* r : runs_in(from, to)) out.push_back(id(r));
    return out;
  };
  add("total", "How far did I run last week?", ids(monday - 7, monday - 1));
  add("total", "How many runs did I do last week?", ids(monday - 7, monday - 1));
  add("total", "Total distance in the last 14 days", ids(o.today - 13, o.today));
  add("total", "How far have I run in the past 3 weeks?", ids(o.today - 20, o.today));
  add("total", "What was my mileage last month?",
      ids(engine::DaysFromCivil(tm == 1 ? ty - 1 : ty, tm == 1 ? 12 : tm - 1, 1),
          engine::DaysFromCivil(ty, tm, 1) - 1));
  add("total", "How much did I run this month?", ids(engine::DaysFromCivil(ty, tm, 1), o.today));
  // Places.
  for (const std::string& p : kPlaces) {
    std::vector<const RunFacts*> there;
    for (const RunFacts& r : h.runs) {
      if (r.places[0] == p) there.push_back(&r);
    }
    if (there.empty()) continue;
    std::vector<std::string> all;
    for (const RunFacts* r : there) all.push_back(id(r));
    std::sort(there.begin(), there.end(),
              [](const RunFacts* a, const RunFacts* b) { return a->start_s > b->start_s; });
    add("place", "How did my runs at " + p + " go?", all);
    add("place", "When was my last run at " + p + "?", {id(there[0])});
    add("place", "Longest run at " + p,
        best_by(there, [](const RunFacts& r) { return -r.distance_m; }));
  }
  // Notes.
  for (const auto& [n, runs] : note_runs) {
    for (const char* q : kNotes[n].questions) add("notes", q, runs);
  }
  // What was said.
  for (size_t t = 0; t < kTopics.size(); ++t) {
    for (const char* q : kTopics[t].questions) {
      add("said", q,
          {"message/" + std::to_string(2 * t + 1), "message/" + std::to_string(2 * t + 2)});
    }
  }
  // The plan: this week's days by weekday, tomorrow, dates, the changed days' reasons.
  for (int64_t day = o.today + 1; day < o.today + 7; ++day) {
    const std::string wd = kWeekday[Weekday(day)];
    add("plan", "What is planned on " + wd + "?", {"plan/" + Date(day)});
    add("plan", "Why is " + wd + " " + plan_type[day] + " now?", {"plan/" + Date(day)});
  }
  add("plan", "What's planned for tomorrow?", {"plan/" + Date(o.today + 1)});
  for (int64_t day = o.today + 7; day < o.today + 28; ++day) {
    long long y = 0;
    unsigned m = 0, d = 0;
    Civil(day, &y, &m, &d);
    add("plan", "What is my plan on " + std::string(kMonth[m - 1]) + " " + std::to_string(d) + "?",
        {"plan/" + Date(day)});
  }
  for (int64_t day : changed) {
    add("plan",
        "Why was the plan changed for the " + std::string(kWeekday[Weekday(day)]) + " that is " +
            plan_type[day] + "?",
        {"plan/" + Date(day)});
  }
  add("plan", "Why is my plan easier because of illness?", {"plan/" + Date(changed[1])});
  add("plan", "Which planned day changed because of poor sleep?", {"plan/" + Date(changed[0])});
  add("plan", "What did the plan change for the acute:chronic ratio?",
      {"plan/" + Date(changed[2])});
  return h;
}

}  // namespace stride::datasets
