#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Delta sync latency on a year of one runner's data (issue 19: pull p99 under 50 ms).

Drives a running `stride serve` (started by sync_bench.sh) over loopback:
  1. seeds a year: RUNS uploads spread over 365 days (generated GPX, gen_activity), notes and
     RPE on every run and WORKOUTS manual workout logs pushed, 60 days of check-ins, a profile
     with a goal (the plan publishes its days), a challenge joined, CHAT questions asked;
  2. a new device's first sync: every page from last_pulled_at=0 (500 a page), REPS times;
  3. an up-to-date device's pull with one change waiting (the common case), REPS times;
  4. a push of one edit, REPS times.
Prints p50/p90/p99/max per kind and what one full pull holds.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

port, token, gen = sys.argv[1], sys.argv[2], sys.argv[3]
RUNS = int(os.environ.get("RUNS", "250"))
WORKOUTS = int(os.environ.get("WORKOUTS", "150"))
CHAT = int(os.environ.get("CHAT", "25"))
REPS = int(os.environ.get("REPS", "200"))
base = "http://127.0.0.1:%s" % port
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}


def call(method, path, body=None, content_type="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    h = dict(headers)
    h["Content-Type"] = content_type
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def ok(status, body, what):
    if status not in (200, 201, 204):
        sys.exit("%s: %d %s" % (what, status, body[:300]))
    return json.loads(body) if body else None


now = time.time()
now_ms = int(now * 1000)
day = 86400
print("seeding a year: %d runs, %d workouts, 60 check-ins, a plan, a challenge, %d questions"
      % (RUNS, WORKOUTS, CHAT), file=sys.stderr)
ok(*call("PUT", "/v1/me/profile",
         {"time_zone": "UTC", "weekly_volume_km": 35, "max_hr_bpm": 188,
          "goal": {"distance_m": 21097.5,
                   "date": time.strftime("%Y-%m-%d", time.gmtime(now + 80 * day))}}),
   "profile")
run_ids = []
with tempfile.TemporaryDirectory() as tmp:
    for i in range(RUNS):
        days_ago = 1 + (364 * i) // max(RUNS - 1, 1)
        subprocess.run([gen, "--out", tmp, "--days-ago", str(days_ago), "--laps", "2",
                        "--interval", "5", "--seed", str(i + 1)], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "synthetic_run.gpx"), "rb") as f:
            run = ok(*call("POST", "/v1/runs", f.read(), "application/gpx+xml"), "upload")
        run_ids.append(run["id"])
pushes = {"runs": {"updated": [{"id": r, "updated_at": now_ms - 1000, "rpe": 5 + i % 4,
                                "notes": "run %d" % i} for i, r in enumerate(run_ids)]},
          "workouts": {"created": [{"id": "w%d" % i, "updated_at": now_ms - 1000,
                                    "start": time.strftime("%Y-%m-%dT18:00:00Z",
                                                           time.gmtime(now - (i * 2 + 1) * day)),
                                    "duration_s": 3000, "sport": "strength",
                                    "notes": "gym %d" % i} for i in range(WORKOUTS)]},
          "readiness": {"created": [{"id": time.strftime("%Y-%m-%d", time.gmtime(now - d * day)),
                                     "updated_at": now_ms - 1000, "sleep_h": 6 + d % 3,
                                     "soreness": d % 5} for d in range(0, 60)]}}
ok(*call("POST", "/v1/sync/push?last_pulled_at=0", {"changes": pushes}), "seed push")
ok(*call("GET", "/v1/plans/current"), "plan")
ch = ok(*call("POST", "/v1/challenges", {"name": "Three a week", "kind": "weekly"}), "challenge")
ok(*call("POST", "/v1/challenges/%s/join" % ch["id"], {}), "join")
for i in range(CHAT):
    ok(*call("POST", "/v1/chat/ask", {"question": "How far did I run in week %d?" % i}), "ask")
time.sleep(1)  # plugin events are delivered off the request thread


def pull_all(since):
    pages, records, t0 = 0, {}, time.perf_counter()
    while True:
        s, b = call("GET", "/v1/sync/pull?schema_version=1&last_pulled_at=%d" % since)
        p = ok(s, b, "pull")
        pages += 1
        for c, kinds in p["changes"].items():
            records[c] = records.get(c, 0) + sum(len(kinds[k]) for k in kinds)
        since = p["last_pulled_at"]
        if not p["has_more"]:
            return time.perf_counter() - t0, pages, records, since, len(b)


def report(name, xs):
    xs = sorted(x * 1000 for x in xs)
    q = lambda f: xs[min(len(xs) - 1, int(f * len(xs)))]
    print("%-40s n=%d  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms"
          % (name, len(xs), statistics.median(xs), q(0.9), q(0.99), xs[-1]))


_, pages, records, head, size = pull_all(0)
print("a full pull: %d pages, %d records (%s), last page %d bytes"
      % (pages, sum(records.values()),
         ", ".join("%s %d" % kv for kv in sorted(records.items())), size))
full = [pull_all(0)[0] for _ in range(max(REPS // 4, 10))]
report("first sync of a new device (all pages)", full)
incremental = []
for i in range(REPS):
    ok(*call("POST", "/v1/sync/push?last_pulled_at=%d" % head,
             {"changes": {"runs": {"updated": [{"id": run_ids[i % len(run_ids)],
                                                "updated_at": now_ms + i, "rpe": i % 10}]}}}),
       "push")
    t, _, recs, head, _ = pull_all(head)
    incremental.append(t)
report("pull with one change waiting", incremental)
push_t = []
for i in range(REPS):
    t0 = time.perf_counter()
    ok(*call("POST", "/v1/sync/push?last_pulled_at=%d" % head,
             {"changes": {"workouts": {"updated": [{"id": "w%d" % (i % WORKOUTS),
                                                    "updated_at": now_ms + REPS + i,
                                                    "rpe": i % 10}]}}}), "push")
    push_t.append(time.perf_counter() - t0)
report("push of one edit", push_t)
