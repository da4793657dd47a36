#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A local Stride cluster for development and tests, all on loopback, all state in one folder
# (default demo/cluster): PostgreSQL (users' runs and plugin data), Redis (rate limits, stream
# events, the job queue), three `stride serve --queue-jobs` replicas of one route database behind
# HAProxy, and two `stride worker`s (PostgreSQL's files in a /tmp folder of their own, removed
# at the end). Debian's packages only (scripts/deps.sh installs them,
# haproxy included).
#
#   scripts/cluster.sh                 start it; serves on http://127.0.0.1:8090 until Ctrl-C
#   scripts/cluster.sh --check         start it, check it (below), stop it: exit 0 when all held
#   LB_PORT=... CLUSTER_DIR=... STRIDE=build/stride GEN_OSM=... GEN_ACTIVITY=...   where and what
# Exit 77 (a test's "skipped") when a package it needs is not installed.
#
# --check, through the load balancer as an app would use it: a challenge's event stream held on
# one replica hears an upload that HAProxy sends to another; a burst of uploads with a replica
# and then a worker killed -9 midway loses no acknowledged upload (each is readable through every
# replica) and leaves no job undone; delete-me leaves no row of the user in any table.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
dir=${CLUSTER_DIR:-demo/cluster}
stride=${STRIDE:-build/stride}
gen_osm=${GEN_OSM:-build/datasets/gen_osm}
export GEN_ACTIVITY=${GEN_ACTIVITY:-build/datasets/gen_activity}
lb_port=${LB_PORT:-8090}
[ -x "$stride" ] || { echo "cluster.sh: $stride not built (cmake --build build)" >&2; exit 1; }
for tool in redis-server haproxy curl python3; do
  command -v "$tool" >/dev/null || { echo "cluster.sh: $tool missing (scripts/deps.sh)" >&2; exit 77; }
done
pgbin=/usr/lib/postgresql/15/bin
[ -x "$pgbin/initdb" ] || { echo "cluster.sh: PostgreSQL 15 missing (scripts/deps.sh)" >&2; exit 77; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# PostgreSQL refuses to run as root: as root, its processes run as the package's postgres user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
wait_for() {  # wait_for FILE PATTERN: until FILE holds PATTERN (10 s)
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "cluster.sh: $1 never said '$2':" >&2; cat "$1" >&2; return 1
}
port_of() { grep -o 'listening on http://127.0.0.1:[0-9]*' "$1" | grep -o '[0-9]*$'; }

# --check picks a free port unless told: it runs beside other tests.
[ "$check" -eq 1 ] && [ -z "${LB_PORT:-}" ] && lb_port=$(free_port)
rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pids=()
# PostgreSQL's files in /tmp: its user (postgres, when run as root) must reach them, which a
# checkout under a private home may not allow, and its socket path must stay short.
pgdir=$(mktemp -d /tmp/stride-cluster-pg.XXXXXX)
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  [ -f "$pgdir/data/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap cleanup EXIT INT TERM

echo "== a route database (a generated trail network) =="
if [ -d demo/db ] && [ -z "${CLUSTER_FRESH_DB:-}" ]; then
  db=$(cd demo/db && pwd)
  echo "demo/db (from scripts/demo.sh)"
else
  "$gen_osm" --out "$dir/trails.osm.pbf" --nodes 20000 --dem "$dir/dem" >/dev/null
  "$stride" import --osm "$dir/trails.osm.pbf" --dem "$dir/dem" --db "$dir/db" --quiet
  db=$dir/db
  echo "$db"
fi

echo "== PostgreSQL 15 (socket in $pgdir), Redis, 3 servers, 2 workers, HAProxy on :$lb_port =="
[ "$(id -u)" -eq 0 ] && chown postgres: "$pgdir"
as_pg "$pgbin/initdb" -D "$pgdir/data" -A trust -U stride -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log"
pg_port=$(free_port)
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
  -o "-k $pgdir -p $pg_port -c listen_addresses= -c fsync=off" start >/dev/null
pg="postgresql://stride@/postgres?host=$pgdir&port=$pg_port"
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$dir/redis.log" &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis="redis://127.0.0.1:$redis_port"
secret=$(head -c 24 /dev/urandom | base64)
echo "$secret" >"$dir/jwt.secret"
export STRIDE_JWT_SECRET=$secret

start_server() {  # start_server N
  "$stride" serve --db "$db" --runs "$pg" --redis "$redis" --queue-jobs --port 0 --quiet \
    --trusted-proxy 127.0.0.1 --rate-limit write=600/m 2>"$dir/server$1.log" &
  echo $! >"$dir/server$1.pid"
  pids+=($!)
  wait_for "$dir/server$1.log" listening
  eval "server_port$1=$(port_of "$dir/server$1.log")"
}
start_worker() {  # start_worker N
  "$stride" worker --db "$db" --runs "$pg" --redis "$redis" --name "worker$1" --port 0 \
    --claim-after 2 --quiet 2>"$dir/worker$1.log" &
  echo $! >"$dir/worker$1.pid"
  pids+=($!)
  wait_for "$dir/worker$1.log" listening
}
for i in 1 2 3; do start_server "$i"; done
for i in 1 2; do start_worker "$i"; done

cat >"$dir/haproxy.cfg" <<EOF
global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option forwardfor
  retry-on conn-failure empty-response 503
  retries 2
  option redispatch
frontend stride
  bind 127.0.0.1:$lb_port
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /v1/health
  default-server inter 500ms fall 2 rise 2
  server s1 127.0.0.1:$server_port1 check
  server s2 127.0.0.1:$server_port2 check
  server s3 127.0.0.1:$server_port3 check
EOF
haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$lb_port/v1/health" >/dev/null && break; sleep 0.1; done
lb="http://127.0.0.1:$lb_port"
echo "load balancer  $lb  -> servers :$server_port1 :$server_port2 :$server_port3"
echo "workers        worker1 worker2 (logs in $dir)"
echo "PostgreSQL     $pg"
echo "Redis          $redis"
echo "token          STRIDE_JWT_SECRET=\$(cat $dir/jwt.secret) $stride token --user you"

if [ "$check" -eq 0 ]; then
  echo "serving until Ctrl-C"
  wait "${pids[@]}"
  exit 0
fi

echo "== check =="
python3 - "$lb" "$dir" "$stride" "$db" "$pg" "$redis" <<'PY'  # its exit code is the script's
import json, os, signal, subprocess, sys, threading, time, urllib.request

lb, d, stride, db, pg, redis = sys.argv[1:]
fail = []
def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok: fail.append(what)
def token(user):
    return subprocess.run([stride, "token", "--user", user, "--scope", "runner:read runner:write"],
                          capture_output=True, text=True, check=True).stdout.strip()
def req(method, url, user=None, body=None, ctype="application/json", headers=None):
    h = dict(headers or {})
    if user: h["Authorization"] = "Bearer " + token(user)
    if body is not None: h["Content-Type"] = ctype
    r = urllib.request.Request(url, data=body, method=method, headers=h)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
def pid_of(name):
    return int(open(os.path.join(d, name + ".pid")).read())
def port_of(name):
    text = open(os.path.join(d, name + ".log")).read()
    return int(text.split("listening on http://127.0.0.1:")[1].split()[0])
def gpx(seed):
    out = os.path.join(d, "runs", str(seed))
    os.makedirs(out, exist_ok=True)
    subprocess.run([os.environ["GEN_ACTIVITY"], "--out", out, "--seed", str(seed), "--days-ago",
                    str(1 + seed % 20)], check=True, capture_output=True)
    return open(os.path.join(out, "synthetic_run.gpx"), "rb").read()
servers = [port_of("server%d" % i) for i in (1, 2, 3)]

# A challenge stream held through the load balancer hears uploads on any replica.
st, body = req("POST", lb + "/v1/challenges", "ann", json.dumps(
    {"name": "Cluster relay", "kind": "route", "route_id": "r1", "milestone_every_m": 200}).encode())
check(st == 201, "a challenge created through the load balancer (%d%s)" % (st, "" if st == 201 else " " + body[:200].decode()))
cid = json.loads(body)["id"]
req("POST", lb + "/v1/challenges/%s/join" % cid, "ann", b"{}")
heard = []
def listen():
    r = urllib.request.Request(lb + "/v1/challenges/%s/events" % cid,
                               headers={"Accept": "text/event-stream", "Authorization": "Bearer " + token("fan")})
    with urllib.request.urlopen(r, timeout=20) as resp:
        for line in resp:
            if line.startswith(b"event: "): heard.append(line[7:].strip().decode())
            if len(heard) >= 2 and "milestone.reached" in heard: return
t = threading.Thread(target=listen, daemon=True)
t.start()
time.sleep(0.5)
st, body = req("POST", lb + "/v1/runs", "ann", gpx(1), "application/gpx+xml")
check(st == 201, "an upload through the load balancer (%d)" % st)
t.join(20)
check("milestone.reached" in heard, "the stream heard the upload's milestones: %s" % heard[:4])

# A burst; a server and then a worker killed -9 midway.
acknowledged, errors = [], []
def upload(seed):
    # As an app does: an upload that got no answer or a 5xx is sent again with the same key.
    for attempt in range(4):
        try:
            st, body = req("POST", lb + "/v1/runs", "bob", gpx(seed), "application/gpx+xml",
                           {"Idempotency-Key": "burst-%d" % seed})
        except OSError as e:
            st, body = 0, str(e).encode()
        if st in (200, 201):
            acknowledged.append(json.loads(body)["id"])
            return
        if st < 500 and st != 0: break
        time.sleep(0.5)
    errors.append(st)
threads = []
for seed in range(100, 130):
    if seed == 110: os.kill(pid_of("server2"), signal.SIGKILL)
    if seed == 120: os.kill(pid_of("worker1"), signal.SIGKILL)
    th = threading.Thread(target=upload, args=(seed,))
    th.start(); threads.append(th)
    time.sleep(0.05)
for th in threads: th.join()
check(len(acknowledged) == 30, "%d of 30 uploads acknowledged with a replica and a worker killed -9 (errors %s)" % (len(acknowledged), errors))
alive = [servers[0], servers[2]]
missing = [i for i in acknowledged for p in alive
           if req("GET", "http://127.0.0.1:%d/v1/runs/%s" % (p, i), "bob")[0] != 200]
check(not missing, "every acknowledged upload readable through every live replica (%d missing)" % len(missing))
def jobs():
    out = subprocess.run(["redis-cli", "-u", redis, "XPENDING", "stride:jobs", "workers"], capture_output=True, text=True).stdout.split()
    length = subprocess.run(["redis-cli", "-u", redis, "XLEN", "stride:jobs"], capture_output=True, text=True).stdout.strip()
    return int(out[0]) if out else 0, int(length or 0)
deadline = time.time() + 30
while time.time() < deadline and jobs() != (0, 0): time.sleep(0.2)
check(jobs() == (0, 0), "no job left undone (pending, waiting: %s)" % (jobs(),))

# Delete-me through the load balancer: no row of bob left in any table.
host, port = pg.split("host=")[1].split("&port=")
def bobs_rows():
    return int(subprocess.run(["psql", "-h", host, "-p", port, "-U", "stride", "-d", "postgres", "-tA", "-c",
        "SELECT (SELECT count(*) FROM stride_runs WHERE user_id='bob') + "
        "(SELECT count(*) FROM stride_idempotency WHERE user_id='bob') + "
        "(SELECT count(*) FROM stride_kv WHERE substring(k from 1 for 4) = '\\x626f6200'::bytea)"],
        capture_output=True, text=True).stdout.strip() or -1)
before = bobs_rows()
st, _ = req("DELETE", lb + "/v1/me", "bob")
check(st in (200, 202, 204), "DELETE /v1/me (%d)" % st)
time.sleep(1)
after = bobs_rows()
check(before >= 60 and after == 0, "rows of bob in stride_runs, stride_idempotency and stride_kv: %d before, %d after" % (before, after))
print("check: %s" % ("all held" if not fail else "%d failed" % len(fail)))
sys.exit(1 if fail else 0)
PY
