#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a reproducible set of route-search API targets, one per line, for the scale
benchmarks: half map views (about 10 x 10 km, 50 results) and half k=10 nearest queries,
at uniform points of the region, each with one of the filter sets a running app sends.

  route_queries.py --n 20000 [--seed 1] [--region 36,-10,60,30] [--sorts length,ascent,distance]
"""
import argparse
import math
import random

FILTERS = [
    "",
    "&min_length_m=5000&max_length_m=12000&max_ascent_m=300",
    "&type=hiking&loop=true",
    "&max_grade=0.08&surface=unpaved,mixed",
    "&min_ascent_m=200&max_difficulty=3",
    "&network=iwn,nwn,rwn&min_length_m=10000",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--region", default="36,-10,60,30", help="MINLAT,MINLON,MAXLAT,MAXLON")
    ap.add_argument("--sorts", default="distance,length,ascent",
                    help="sort keys for the map-view queries")
    a = ap.parse_args()
    lat0, lon0, lat1, lon1 = (float(x) for x in a.region.split(","))
    sorts = a.sorts.split(",")
    rng = random.Random(a.seed)
    for i in range(a.n):
        lat = rng.uniform(lat0, lat1)
        lon = rng.uniform(lon0, lon1)
        f = FILTERS[rng.randrange(len(FILTERS))]
        if i % 2 == 0:
            print(f"/v1/routes/nearest?lat={lat:.6f}&lon={lon:.6f}&k=10{f}")
        else:
            dlat = 0.045
            dlon = 0.045 / math.cos(math.radians(lat))
            sort = sorts[(i // 2) % len(sorts)]
            print(f"/v1/routes?bbox={lon - dlon:.6f},{lat - dlat:.6f},{lon + dlon:.6f},"
                  f"{lat + dlat:.6f}&limit=50&sort={sort}{f}")


if __name__ == "__main__":
    main()
