#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""GET /v1/tiles over HTTP: per-tile latency (p50, p99) and tile sizes at zooms 8-16.

Starts `stride serve --db DB` on a loopback port, picks tiles where routes are (around the
starts of routes the server lists, so no tile is trivially empty), sends them over one
keep-alive connection, one at a time, and prints a row per zoom.

    bench/scripts/tiles_bench.py DB [--stride build-release/stride] [--tiles 300]
Make a database of 10^6 routes with: build-release/datasets/gen_routes --db DB --routes 1000000
"""
import argparse
import http.client
import json
import math
import random
import socket
import subprocess
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tile_of(lat, lon, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--stride", default="build-release/stride")
    ap.add_argument("--tiles", type=int, default=300)
    ap.add_argument("--zooms", default="8-16", help="first-last")
    args = ap.parse_args()
    port = free_port()
    # The access log goes to a file: a pipe nobody reads would fill and stall the server.
    log = tempfile.NamedTemporaryFile("w+", prefix="tiles_bench_", suffix=".log")
    server = subprocess.Popen([args.stride, "serve", "--db", args.db, "--port", str(port),
                               "--rate-limit", "off"], stderr=log)
    try:
        started = time.perf_counter()
        while "listening" not in open(log.name).read():
            if server.poll() is not None:
                raise SystemExit("stride serve stopped: " + open(log.name).read())
            time.sleep(0.1)
        print(f"server ready in {time.perf_counter() - started:.1f} s", flush=True)
        conn = http.client.HTTPConnection("127.0.0.1", port)

        def get(path):
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()

        status, body = get("/v1/routes?bbox=-180,-85,180,85&limit=500")
        starts = [r["start"] for r in json.loads(body)["routes"]]
        random.seed(1)
        print(f"{'zoom':>4} {'tiles':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'mean KB':>8} {'max KB':>8}")
        first, last = map(int, args.zooms.split("-"))
        for z in range(first, last + 1):
            paths = []
            for _ in range(args.tiles):
                lon, lat = random.choice(starts)
                # Up to ~2 km from a route start: tiles with routes, not only their first one.
                lat += random.uniform(-0.02, 0.02)
                lon += random.uniform(-0.02, 0.02)
                x, y = tile_of(lat, lon, z)
                paths.append(f"/v1/tiles/{z}/{x}/{y}.mvt")
            for p in paths[:20]:  # warm-up
                get(p)
            times, sizes = [], []
            for p in paths:
                t = time.perf_counter()
                status, body = get(p)
                times.append(time.perf_counter() - t)
                assert status == 200, (p, status, body[:200])
                sizes.append(len(body))
            times.sort()
            print(f"{z:>4} {len(paths):>6} {times[len(times) // 2] * 1e3:8.2f} "
                  f"{times[int(len(times) * 0.99)] * 1e3:8.2f} {times[-1] * 1e3:8.2f} "
                  f"{sum(sizes) / len(sizes) / 1024:8.1f} {max(sizes) / 1024:8.1f}", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
