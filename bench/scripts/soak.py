#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Drives a running `stride serve` with mixed traffic for a while and prints one line a minute:
the server's RSS, the p50/p99 of route searches in that minute, and how many answers were 2xx,
4xx (expected: bombs, bad requests), 5xx and transport errors. Called by soak.sh.

Traffic, all at once: searchers (keep-alive, map views and nearest queries from
route_queries.py), uploaders (a FIT file as a rotating set of users, each followed by a read of
the run; every third run deleted again), slow clients (a request head a byte a second),
idle keep-alive connections held open, and every few seconds a gzip bomb (1 MiB inflating to
1 GiB) to an endpoint that takes no body and to the upload.

  soak.py --port P --pid PID --tokens FILE --fit FILE --queries FILE
          [--minutes 30] [--searchers 6] [--uploaders 2] [--slow 50] [--idle 300]
"""
import argparse
import gzip
import http.client
import io
import json
import random
import socket
import subprocess
import sys
import threading
import time


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.search_ms = []
        self.codes = {"2xx": 0, "4xx": 0, "5xx": 0, "errors": 0}
        self.uploads = 0
        self.deletes = 0
        self.bombs_refused = 0

    def code(self, status):
        with self.lock:
            if status is None:
                self.codes["errors"] += 1
            else:
                self.codes["%dxx" % (status // 100)] = self.codes.get("%dxx" % (status // 100), 0) + 1

    def take(self):
        with self.lock:
            snap = (self.search_ms, dict(self.codes), self.uploads, self.deletes, self.bombs_refused)
            self.reset()
            return snap


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def searcher(port, targets, stop, c, seed):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        t = targets[rng.randrange(len(targets))]
        t0 = time.perf_counter()
        try:
            conn.request("GET", t)
            r = conn.getresponse()
            r.read()
            ms = (time.perf_counter() - t0) * 1000
            c.code(r.status)
            with c.lock:
                c.search_ms.append(ms)
        except Exception:
            c.code(None)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def uploader(port, tokens, fit, stop, c, seed):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    n = 0
    while not stop.is_set():
        token = tokens[rng.randrange(len(tokens))]
        h = {"Authorization": "Bearer " + token, "Content-Type": "application/octet-stream"}
        try:
            conn.request("POST", "/v1/runs", body=fit, headers=h)
            r = conn.getresponse()
            body = r.read()
            c.code(r.status)
            if r.status == 201:
                with c.lock:
                    c.uploads += 1
                run_id = json.loads(body)["id"]
                conn.request("GET", "/v1/runs/" + run_id, headers=h)
                g = conn.getresponse()
                g.read()
                c.code(g.status)
                n += 1
                if n % 3 == 0:
                    conn.request("DELETE", "/v1/runs/" + run_id, headers=h)
                    d = conn.getresponse()
                    d.read()
                    c.code(d.status)
                    if d.status == 204:
                        with c.lock:
                            c.deletes += 1
        except Exception:
            c.code(None)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def slow_client(port, stop):
    head = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            for b in head:
                if stop.is_set():
                    break
                s.send(bytes([b]))
                time.sleep(1)
            s.close()
        except OSError:
            time.sleep(1)  # cut off by the server's head deadline, as it should be


def idle_holder(port, count, stop):
    socks = []
    while not stop.is_set():
        while len(socks) < count:
            try:
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break
        time.sleep(5)
        # The server closes idle connections after its idle timeout: reopen what it closed.
        alive = []
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    s.close()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            alive.append(s)
        socks = alive
    for s in socks:
        s.close()


def bomber(port, tokens, stop, c):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as g:
        chunk = b"\0" * (1 << 20)
        for _ in range(1024):
            g.write(chunk)
    bomb = buf.getvalue()
    targets = [("POST", "/v1/x"), ("PUT", "/v1/runs"), ("POST", "/v1/runs"), ("DELETE", "/v1/me")]
    i = 0
    while not stop.wait(5):
        method, path = targets[i % len(targets)]
        i += 1
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(method, path, body=bomb,
                         headers={"Content-Encoding": "gzip",
                                  "Authorization": "Bearer " + tokens[0]})
            r = conn.getresponse()
            r.read()
            conn.close()
            c.code(r.status)
            if 400 <= r.status < 500:
                with c.lock:
                    c.bombs_refused += 1
        except Exception:
            c.code(None)


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--tokens", required=True, help="a file of bearer tokens, one per line")
    ap.add_argument("--fit", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--searchers", type=int, default=6)
    ap.add_argument("--uploaders", type=int, default=2)
    ap.add_argument("--slow", type=int, default=50)
    ap.add_argument("--idle", type=int, default=300)
    a = ap.parse_args()
    targets = [l.strip() for l in open(a.queries) if l.strip()]
    tokens = [l.strip() for l in open(a.tokens) if l.strip()]
    fit = open(a.fit, "rb").read()
    stop = threading.Event()
    c = Counters()
    threads = [threading.Thread(target=searcher, args=(a.port, targets, stop, c, i), daemon=True)
               for i in range(a.searchers)]
    # The last token is the bomber's alone: a bomb that got through could not touch a
    # user the uploaders count on.
    threads += [threading.Thread(target=uploader, args=(a.port, tokens[:-1], fit, stop, c, 100 + i),
                                 daemon=True) for i in range(a.uploaders)]
    threads += [threading.Thread(target=slow_client, args=(a.port, stop), daemon=True)
                for _ in range(a.slow)]
    threads.append(threading.Thread(target=idle_holder, args=(a.port, a.idle, stop), daemon=True))
    threads.append(threading.Thread(target=bomber, args=(a.port, tokens[-1:], stop, c), daemon=True))
    for t in threads:
        t.start()
    print("minute  rss_mib  searches  p50_ms  p99_ms  2xx  4xx  5xx  errors  uploads  deletes  bombs_refused",
          flush=True)
    rss = []
    total5xx = 0
    totalerr = 0
    start = time.time()
    minute = 0
    while time.time() - start < a.minutes * 60:
        time.sleep(max(0.0, start + (minute + 1) * 60 - time.time()))
        minute += 1
        ms, codes, ups, dels, bombs = c.take()
        r = rss_mib(a.pid)
        rss.append(r)
        total5xx += codes.get("5xx", 0)
        totalerr += codes["errors"]
        print("%6d  %7.1f  %8d  %6.2f  %6.2f  %d  %d  %d  %d  %d  %d  %d" % (
            minute, r, len(ms), pct(ms, 50), pct(ms, 99), codes.get("2xx", 0),
            codes.get("4xx", 0), codes.get("5xx", 0), codes["errors"], ups, dels, bombs),
            flush=True)
    stop.set()
    half = rss[len(rss) // 2:] or rss
    print("summary: %d minutes, RSS first %.1f MiB, max %.1f MiB, last %.1f MiB (second half "
          "min %.1f max %.1f), 5xx %d, transport errors %d" % (
              minute, rss[0], max(rss), rss[-1], min(half), max(half), total5xx, totalerr),
          flush=True)
    return 0 if total5xx == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
