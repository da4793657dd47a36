#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the same route-search targets against `stride serve` (HTTP, keep-alive) and PostGIS
(psycopg2 over the local socket), interleaved query by query, checks that both return the
same ids and prints latency ratios. Used by routes_vs_postgis.sh.

Same ids: map views (ST_Intersects, ordered by length or ascent then id) must match exactly.
Nearest lists are ordered by distance, which Stride measures in a plane centred on the query
point and PostGIS's geography <-> on the sphere. Where the lists differ, PostGIS's distances of
Stride's picks are read back; sorted, they must equal PostGIS's own within 1 % (+1 m) at every
position: both are the k nearest, up to near-ties the two distance models order differently
(the largest such difference is printed). Anything else is a mismatch and fails the run.

Latency, two ways: as a Python client sees each (a minimal HTTP/1.1 keep-alive client, since
http.client's header parsing alone costs more than Stride's answer, vs psycopg2 on the local
socket; both include parsing the result in Python), PostGIS's own planning plus
execution time (EXPLAIN ANALYZE) against Stride's in-process API time (route_db_tool query,
passed in with --inprocess), which is the engine-to-engine ratio.
"""
import argparse
import json
import re
import socket
import sys
import time
import urllib.parse

import psycopg2

COLUMNS = {"min_length_m": ("length_m", ">="), "max_length_m": ("length_m", "<="),
           "min_ascent_m": ("ascent_m", ">="), "max_ascent_m": ("ascent_m", "<="),
           "max_grade": ("max_grade", "<="), "max_difficulty": ("difficulty", "<=")}
LISTS = {"type": "type", "surface": "surface", "network": "network"}


def to_sql(target):
    url = urllib.parse.urlsplit(target)
    p = dict(urllib.parse.parse_qsl(url.query))
    where, args = [], []
    for key, (col, op) in COLUMNS.items():
        if key in p:
            where.append(f"{col} {op} %s::real")
            args.append(float(p[key]))
    for key, col in LISTS.items():
        if key in p:
            where.append(f"{col} = ANY(%s)")
            args.append(p[key].split(","))
    if "loop" in p:
        where.append("loop = %s")
        args.append(p["loop"] == "true")
    if url.path == "/v1/routes/nearest":
        lat, lon, k = float(p["lat"]), float(p["lon"]), int(p.get("k", 10))
        pt = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography"
        sql = (f"SELECT id, geog <-> {pt} FROM routes"
               + (" WHERE " + " AND ".join(where) if where else "")
               + f" ORDER BY geog <-> {pt} LIMIT %s")
        return "nearest", sql, [lon, lat] + args + [lon, lat, k]
    minlon, minlat, maxlon, maxlat = (float(x) for x in p["bbox"].split(","))
    sort = {"length": "length_m", "ascent": "ascent_m"}[p.get("sort", "length")]
    sql = ("SELECT id, 0 FROM routes WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
           + "".join(" AND " + w for w in where)
           + f" ORDER BY {sort}, id LIMIT %s")
    return "bbox", sql, [minlon, minlat, maxlon, maxlat] + args + [int(p.get("limit", 50))]


class Http:
    """Keep-alive GETs over one socket; reconnects when the server closes."""

    def __init__(self, port):
        self.port = port
        self.connect()

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def get(self, target):
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        while len(rest) < n:
            rest += self.sock.recv(1 << 16)
        body, self.buf = rest[:n], rest[n:]
        if re.search(rb"(?i)connection: *close", head):
            self.sock.close()
            self.connect()
        return int(head[9:12]), body


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", required=True)
    ap.add_argument("--stride-port", type=int, required=True)
    ap.add_argument("--pg-host", required=True, help="socket directory")
    ap.add_argument("--pg-db", default="stride")
    ap.add_argument("--inprocess", default="{}",
                    help="route_db_tool query's JSON line for the same targets")
    a = ap.parse_args()
    targets = [l.strip() for l in open(a.queries) if l.strip()]
    pg = psycopg2.connect(host=a.pg_host, dbname=a.pg_db, user="postgres")
    pg.autocommit = True
    cur = pg.cursor()
    st = Http(a.stride_port)

    def stride(target):
        status, body = st.get(target)
        if status != 200:
            sys.exit(f"stride {target}: HTTP {status} {body[:200]}")
        routes = json.loads(body)["routes"]
        return [x["id"] for x in routes], [x["distance_m"] or 0.0 for x in routes]

    def postgis(target):
        kind, sql, args = to_sql(target)
        cur.execute(sql, args)
        rows = cur.fetchall()
        return kind, [r[0] for r in rows], [float(r[1]) for r in rows]

    for t in targets[:200]:  # warm both
        stride(t)
        postgis(t)
    lat = {"bbox": ([], [], []), "nearest": ([], [], [])}  # stride, postgis, postgis server-side
    same = ties = mismatches = 0
    worst_tie = 0.0
    for i, t in enumerate(targets):
        t0 = time.perf_counter()
        s_ids, s_d = stride(t)
        t1 = time.perf_counter()
        kind, p_ids, p_d = postgis(t)
        t2 = time.perf_counter()
        lat[kind][0].append((t1 - t0) * 1e3)
        lat[kind][1].append((t2 - t1) * 1e3)
        _, sql, args = to_sql(t)
        cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, args)
        plan = cur.fetchone()[0][0]
        lat[kind][2].append(plan["Execution Time"] + plan["Planning Time"])
        if s_ids == p_ids:
            same += 1
            continue
        if kind == "nearest" and len(s_ids) == len(p_ids):
            lat_, lon_ = (float(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(t).query))[k])
                          for k in ("lat", "lon"))
            cur.execute("SELECT geog <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography "
                        "FROM routes WHERE id = ANY(%s)", [lon_, lat_, s_ids])
            theirs_of_ours = sorted(float(r[0]) for r in cur.fetchall())
            rel = [abs(x - y) / max(y, 1.0) for x, y in zip(theirs_of_ours, p_d)]
            if len(theirs_of_ours) == len(p_d) and all(
                    abs(x - y) <= 1.0 + 0.01 * y for x, y in zip(theirs_of_ours, p_d)):
                ties += 1
                worst_tie = max([worst_tie] + rel)
                continue
        if True:
            mismatches += 1
            if mismatches <= 5:
                print(f"MISMATCH {t}\n  stride  {s_ids}\n  postgis {p_ids}", file=sys.stderr)
    print(f"queries {len(targets)}: same ids {same}, near-tie differences {ties} "
          f"(largest {worst_tie * 100:.2f} % of the distance), mismatches {mismatches}")
    print(f"client-side (ms):      {'query':8} {'stride_p50':>10} {'stride_p99':>10} {'pg_p50':>8} "
          f"{'pg_p99':>8} {'pg_srv_p50':>10} {'ratio_p50':>9} {'ratio_p99':>9}  (PostGIS / Stride)")
    for kind, (s, p, srv) in lat.items():
        if not s:
            continue
        print(f"{'':23}{kind:8} {pct(s, .5):10.3f} {pct(s, .99):10.3f} {pct(p, .5):8.3f} {pct(p, .99):8.3f} "
              f"{pct(srv, .5):10.3f} {pct(p, .5) / pct(s, .5):9.1f} {pct(p, .99) / pct(s, .99):9.1f}")
    inproc = json.loads(a.inprocess)
    if inproc:
        print(f"engine to engine (ms): {'query':8} {'stride_p50':>10} {'stride_p99':>10} "
              f"{'pg_p50':>8} {'pg_p99':>8} {'ratio_p50':>9} {'ratio_p99':>9}")
        for kind, (_, _, srv) in lat.items():
            s50, s99 = inproc[f"{kind}_p50_us"] / 1e3, inproc[f"{kind}_p99_us"] / 1e3
            print(f"{'':22}{kind:8} {s50:10.4f} {s99:10.4f} {pct(srv, .5):8.3f} "
                  f"{pct(srv, .99):8.3f} {pct(srv, .5) / s50:9.1f} {pct(srv, .99) / s99:9.1f}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
