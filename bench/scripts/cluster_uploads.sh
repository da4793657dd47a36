#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Uploads on one machine vs several servers (issue 20): POST /v1/runs of one generated GPX run
# (a new run each time) under wrk, 8 keep-alive connections for 10 s, always through HAProxy so
# every setup pays the same hop, in the same run and interleaved over two rounds:
#   rocksdb-1   one `stride serve --runs DIR` (embedded RocksDB, fsync per upload)
#   pg-1        one `stride serve --runs postgresql://...` (a local PostgreSQL 15, fsync on)
#   pg-3        three of them behind the balancer, one database
# Then failover: pg-3 again with one server killed -9 three seconds in (HAProxy health checks
# every 500 ms, a connection failure retried on another server): the errors clients saw and
# the worst latency; and PostgreSQL killed -9 and restarted under load: how long uploads got
# 503 before the first 201 again.
# Prints one JSON line per run and a summary of the medians. Builds Release (or BUILD=dir).
#
#   bench/scripts/cluster_uploads.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
bench_dir=${BENCH_DIR:-/tmp/stride-bench}/cluster
rm -rf "$bench_dir"
mkdir -p "$bench_dir"
export STRIDE_JWT_SECRET=${STRIDE_JWT_SECRET:-bench-secret-0123456789abcdef0123456789}
ensure_tools wrk haproxy
build=${BUILD:-build-release}
if [ "$build" = build-release ]; then
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_TESTS=OFF \
    -DSTRIDE_BUILD_BENCH=ON >/dev/null
fi
ninja -C "$build" stride gen_routes gen_activity >/dev/null
db="$bench_dir/routes"
"./$build/datasets/gen_routes" --db "$db" --routes 200 2>/dev/null
"./$build/datasets/gen_activity" --out "$bench_dir" --laps 1 >/dev/null
upload="$bench_dir/synthetic_run.gpx"
token=$("./$build/stride" token --user bench --scope "runner:read runner:write")

pgbin=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$bench_dir/pg"
[ "$(id -u)" -eq 0 ] && chown postgres: "$bench_dir/pg"
as_pg "$pgbin/initdb" -D "$bench_dir/pg/data" -A trust -U stride -E UTF8 --locale=C.UTF-8 >/dev/null
pg_port=$(free_port)
echo "$pg_port" >"$bench_dir/pg_port"
pg_start() {
  as_pg "$pgbin/pg_ctl" -D "$bench_dir/pg/data" -l "$bench_dir/pg/server.log" -w \
    -o "-k $bench_dir/pg -p $pg_port -c listen_addresses=" start >/dev/null
}
pg_start
pg="postgresql://stride@/postgres?host=$bench_dir/pg&port=$pg_port"
servers=()
haproxy_pid=""
stop_all() {
  kill "${servers[@]}" $haproxy_pid 2>/dev/null || true
  wait "${servers[@]}" $haproxy_pid 2>/dev/null || true
  servers=()
  haproxy_pid=""
}
trap 'stop_all; as_pg "$pgbin/pg_ctl" -D "$bench_dir/pg/data" -m immediate stop >/dev/null 2>&1 || true' EXIT

lb_port=$(free_port)
start() {  # start N RUNS: N servers over RUNS behind HAProxy on lb_port
  local n=$1 runs=$2 i port ports=()
  for i in $(seq "$n"); do
    port=$(free_port)
    "./$build/stride" serve --db "$db" --runs "$runs" --port "$port" --quiet --rate-limit off \
      2>"$bench_dir/serve$i.log" &
    servers+=($!)
    wait_for_stride "$port" 60
    ports+=("$port")
  done
  {
    printf 'defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n'
    printf '  retry-on conn-failure empty-response\n  retries 2\n  option redispatch\n'
    printf 'frontend f\n  bind 127.0.0.1:%s\n  default_backend b\nbackend b\n  balance roundrobin\n' "$lb_port"
    printf '  option httpchk GET /v1/health\n  default-server inter 500ms fall 2 rise 2\n'
    for i in "${!ports[@]}"; do printf '  server s%d 127.0.0.1:%s check\n' "$i" "${ports[$i]}"; done
  } >"$bench_dir/haproxy.cfg"
  haproxy -f "$bench_dir/haproxy.cfg" -db >"$bench_dir/haproxy.log" 2>&1 &
  haproxy_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$lb_port/v1/health" >/dev/null && break; sleep 0.1; done
}
load() {  # load SECONDS: wrk's JSON line
  UPLOAD="$upload" wrk -t2 -c8 -d"$1"s -H "Authorization: Bearer $token" \
    -s bench/scripts/wrk_upload.lua "http://127.0.0.1:$lb_port" | tail -1
}
results="$bench_dir/cluster_uploads.jsonl"
: >"$results"
for round in 1 2; do
  for setup in rocksdb-1 pg-1 pg-3; do
    case $setup in
      rocksdb-1) rm -rf "$bench_dir/runs"; start 1 "$bench_dir/runs" ;;
      pg-1) start 1 "$pg" ;;
      pg-3) start 3 "$pg" ;;
    esac
    load 2 >/dev/null  # warm-up
    line=$(load 10)
    echo "{\"setup\":\"$setup\",\"round\":$round,${line#\{}" | tee -a "$results"
    stop_all
  done
done

echo "== failover: pg-3, one server killed -9 at 3 s =="
start 3 "$pg"
( sleep 3; kill -9 "${servers[1]}" ) &
line=$(load 10)
echo "{\"setup\":\"pg-3-kill\",${line#\{}" | tee -a "$results"
stop_all

echo "== PostgreSQL killed -9 and restarted under load (pg-3) =="
start 3 "$pg"
/usr/bin/python3 - "$lb_port" "$token" "$upload" "$bench_dir" "$pgbin" <<'PY' | tee -a "$results"
import json, os, subprocess, sys, threading, time, urllib.request
port, token, upload, d, pgbin = sys.argv[1:]
body = open(upload, "rb").read()
log, stop = [], False
def client():
    while not stop:
        r = urllib.request.Request("http://127.0.0.1:%s/v1/runs" % port, data=body, method="POST",
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/gpx+xml"})
        try:
            with urllib.request.urlopen(r, timeout=10) as resp: st = resp.status
        except urllib.error.HTTPError as e: st = e.code
        except OSError: st = 0
        log.append((time.time(), st))
ts = [threading.Thread(target=client) for _ in range(4)]
for t in ts: t.start()
time.sleep(2)
pid = int(open(os.path.join(d, "pg/data/postmaster.pid")).readline())
killed = time.time()
os.kill(pid, 9)
time.sleep(1)
as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
port_no = open(os.path.join(d, "pg_port")).read().strip()
# What the killed postmaster left: its pid file and its socket's lock.
for f in ("pg/data/postmaster.pid", "pg/.s.PGSQL.%s" % port_no, "pg/.s.PGSQL.%s.lock" % port_no):
    try: os.remove(os.path.join(d, f))
    except OSError: pass
subprocess.run(as_pg + [pgbin + "/pg_ctl", "-D", d + "/pg/data", "-l", d + "/pg/server.log", "-w", "-o",
    "-k %s/pg -p %s -c listen_addresses=" % (d, port_no), "start"],
    check=True, capture_output=True)
restarted = time.time()
time.sleep(4)
stop = True
for t in ts: t.join()
after = [(t, s) for t, s in log if t > killed]
first_ok = next((t for t, s in after if s == 201 and t > restarted), None)
codes = {}
for t, s in after:
    if t < (first_ok or 1e18): codes[s] = codes.get(s, 0) + 1
print(json.dumps({"setup": "pg-restart", "down_s": round(restarted - killed, 2),
                  "first_201_after_restart_s": round(first_ok - restarted, 2) if first_ok else None,
                  "answers_while_down": codes}))
PY
stop_all

/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(setup, key):
    return statistics.median(r[key] for r in rows if r["setup"] == setup)
for s in ("rocksdb-1", "pg-1", "pg-3"):
    print(f"{s:10s} p50 {med(s, 'p50_ms'):7.2f} ms  p99 {med(s, 'p99_ms'):7.2f} ms  {med(s, 'rps'):6.0f} uploads/s")
print(f"pg-1 / rocksdb-1 throughput {med('pg-1', 'rps') / med('rocksdb-1', 'rps'):.2f}x, "
      f"pg-3 / pg-1 {med('pg-3', 'rps') / med('pg-1', 'rps'):.2f}x")
PY
