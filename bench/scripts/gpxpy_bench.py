#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""gpxpy on the shared GPX files: parse + moving data + uphill/downhill, best of N runs.

Prints one JSON line: {"seconds": best total, "points": n, "files": k}. Run with Debian's
python3 (python3-gpxpy), not a virtualenv's.
"""
import glob
import json
import sys
import time

import gpxpy

files = sorted(glob.glob(sys.argv[1] + "/*.gpx"))
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
docs = [open(f, encoding="utf-8").read() for f in files]
best = None
points = 0
for _ in range(repeats):
    start = time.perf_counter()
    points = 0
    for d in docs:
        g = gpxpy.parse(d)
        g.get_moving_data()
        g.get_uphill_downhill()
        points += g.get_track_points_no()
    elapsed = time.perf_counter() - start
    best = elapsed if best is None else min(best, elapsed)
print(json.dumps({"seconds": best, "points": points, "files": len(files)}))
