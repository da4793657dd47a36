#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Sends route searches and directions to a running `stride serve`, one at a time over one
# keep-alive connection, until the file STOP exists; writes one line per request (the
# monotonic time it was sent, its latency in ms, the HTTP status) to OUT, and every 0.2 s
# the server's health (`imported_at`, `reloads`) so the time the server switched to an
# updated database shows in the log. The targets are drawn inside the database's bounding
# box from SEED: a 10 x 10 km map view of 20 routes, and directions between two points under
# 10 km apart.
#
#   serve_latency_probe.py PORT OUT STOP [--seed 1]
import argparse
import http.client
import json
import os
import random
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("out")
    ap.add_argument("stop")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)

    def get(path):
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        return r.status, body

    _, body = get("/v1/health")
    west, south, east, north = json.loads(body)["bbox"]
    dlat, dlon = 10_000 / 111_195, 10_000 / (111_195 * 0.7)
    last_health = 0.0
    with open(a.out, "w") as out:
        n = 0
        while not os.path.exists(a.stop):
            lat = rng.uniform(south, north - dlat)
            lon = rng.uniform(west, east - dlon)
            if n % 2 == 0:
                path = (f"/v1/routes?bbox={lon:.5f},{lat:.5f},{lon + dlon:.5f},{lat + dlat:.5f}"
                        "&sort=length&limit=20")
            else:
                path = (f"/v1/directions?from={lat:.5f},{lon:.5f}"
                        f"&to={lat + rng.uniform(0, dlat):.5f},{lon + rng.uniform(0, dlon):.5f}")
            t = time.monotonic()
            status, _ = get(path)
            out.write(f"req {t:.6f} {(time.monotonic() - t) * 1e3:.3f} {status}\n")
            n += 1
            if t - last_health >= 0.2:
                last_health = t
                _, body = get("/v1/health")
                h = json.loads(body)
                out.write(f"health {time.monotonic():.6f} {h['imported_at']} {h['reloads']}\n")


if __name__ == "__main__":
    main()
