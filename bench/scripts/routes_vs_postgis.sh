#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Route search, Stride against PostGIS in the same run, on the same routes and queries.
# Installs postgresql-15-postgis-3 and python3-psycopg2 from Debian if missing, starts a
# throw-away cluster on a local socket, loads every route of a generated database (default
# 10^6 routes; datasets/gen_routes) as a MULTILINESTRING with GiST indexes (geometry for
# ST_Intersects, geography for ORDER BY <-> LIMIT k), then runs 2,000 targets (half 10x10 km
# map views ordered by length or ascent, half k=10 nearest; mixed filters) against both,
# checks the ids and prints latencies and ratios (bench/scripts/postgis_compare.py).
# Stride is measured over HTTP (stride serve on loopback) and in process (route_db_tool).
#
#   bench/scripts/routes_vs_postgis.sh [ROUTES] [QUERIES]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/serve_helpers.sh
routes=${1:-1000000}
nq=${2:-2000}
bench_dir=${BENCH_DIR:-/tmp/stride-bench}
mkdir -p "$bench_dir"
pgbin=/usr/lib/postgresql/15/bin

sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
if [ ! -x "$pgbin/postgres" ] || [ ! -d /usr/share/postgresql/15/extension ] ||
   ! ls /usr/share/postgresql/15/extension/postgis.control >/dev/null 2>&1 ||
   ! /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; then
  $sudo apt-get install -y -qq postgresql-15-postgis-3 python3-psycopg2 >/dev/null
fi
source bench/scripts/generated_db.sh
queries="$bench_dir/queries-postgis.txt"
python3 bench/scripts/route_queries.py --n "$nq" --seed 2 --sorts length,ascent > "$queries"

# The throw-away cluster: a data directory and a socket directory of our own, no TCP.
work=$(mktemp -d)
chmod 755 "$work"
pg_user=postgres
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown "$pg_user" "$work" || pg_user=$(id -un)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  as_pg "$pgbin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
as_pg "$pgbin/initdb" -D "$work/data" -U postgres --auth=trust >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w start -o \
  "-c listen_addresses='' -k $work -c shared_buffers=4GB -c work_mem=64MB \
   -c maintenance_work_mem=2GB -c effective_cache_size=8GB -c fsync=off \
   -c synchronous_commit=off -c full_page_writes=off -c jit=off" >/dev/null
psql=(psql -h "$work" -U postgres -v ON_ERROR_STOP=1 -q)
"${psql[@]}" -d postgres -c "CREATE DATABASE stride"
"${psql[@]}" -d stride <<'SQL'
CREATE EXTENSION postgis;
CREATE TABLE routes (
  id bigint PRIMARY KEY, type text, length_m real, ascent_m real, max_grade real, loop boolean,
  surface text, difficulty smallint, network text, geom geometry(MultiLineString, 4326),
  geog geography(MultiLineString, 4326) GENERATED ALWAYS AS (geom::geography) STORED);
SQL
t0=$(date +%s.%N)
./build-release/bench/route_db_tool export --db "$db" |
  "${psql[@]}" -d stride -c "COPY routes (id, type, length_m, ascent_m, max_grade, loop, surface, difficulty, network, geom) FROM STDIN"
t1=$(date +%s.%N)
"${psql[@]}" -d stride -c "CREATE INDEX routes_geom ON routes USING gist (geom)" \
  -c "CREATE INDEX routes_geog ON routes USING gist (geog)" -c "VACUUM ANALYZE routes"
t2=$(date +%s.%N)
echo "postgis: loaded $("${psql[@]}" -d stride -Atc 'SELECT count(*) FROM routes') routes in" \
  "$(echo "$t1 - $t0" | bc) s, indexed in $(echo "$t2 - $t1" | bc) s;" \
  "table+indexes $("${psql[@]}" -d stride -Atc "SELECT pg_size_pretty(pg_total_relation_size('routes'))")"

port=$(free_port)
./build-release/stride serve --db "$db" --rate-limit off --port "$port" --quiet 2>"$work/serve.log" &
server=$!
wait_for_stride "$port" 120
echo "stride: $(curl -sf "http://127.0.0.1:$port/v1/health")"
echo "== Stride in process (route_db_tool query, the same targets, 5 rounds)"
inproc=$(./build-release/bench/route_db_tool query --db "$db" --queries "$queries" --repeat 5)
echo "$inproc"
echo "== Stride over HTTP against PostGIS over its socket, interleaved"
/usr/bin/python3 bench/scripts/postgis_compare.py --queries "$queries" --stride-port "$port" \
  --pg-host "$work" --inprocess "$inproc"
