#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Sets everything up and runs Stride's main jobs on data the project generates itself: builds,
# writes a synthetic trail network (OSM, 200k nodes) and its terrain (SRTM tiles), imports
# them into a route database in demo/db and shows what it holds; writes a synthetic run
# (GPX, TCX and FIT, with GPS noise, a hill and a stop) and analyses it, also through the C
# library and the Python module; then starts the
# route server on http://127.0.0.1:8080 (PORT=... to change), shows example requests (route
# search, foot routing, vector tiles, two OSM change files applied while serving (a renamed
# route keeps the contraction hierarchy; a new path contracts it in the old order), the map page
# at / with a screenshot in demo/map.png, two more servers sharing their rate limits through a
# local redis-server, a local cluster behind HAProxy with workers (scripts/cluster.sh --check),
# runs, plugins) and
# keeps serving until Ctrl-C (DEMO_NO_SERVE=1 skips the server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build stride gen_activity gen_osm stride_example_analyze stride_python >/dev/null
mkdir -p demo

echo "== route database =="
./build/datasets/gen_osm --out demo/trails.osm.pbf --nodes 200000 --dem demo/dem
./build/stride import --updatable --osm demo/trails.osm.pbf --dem demo/dem --db demo/db
echo
./build/stride inspect --db demo/db
echo
echo "first routes (id, origin, type, length, ascent, loop, parts, name):"
./build/stride inspect --db demo/db --list >demo/routes.txt
head -5 demo/routes.txt
echo
echo "one route as JSON (first 700 characters):"
./build/stride inspect --db demo/db --route relation/1 | tr -s ' \n' ' ' | cut -c1-700
echo
echo
echo "== run analysis =="
./build/datasets/gen_activity --out demo --laps 3 --noise 1.5 --days-ago 1  # run yesterday
echo
./build/stride analyze demo/synthetic_run.fit demo/synthetic_run.gpx
echo
echo "JSON of the TCX export (first 600 characters):"
./build/stride analyze --json demo/synthetic_run.tcx | cut -c1-600
echo
echo
echo "== a sparse hike: a fix every 20 s, one point in ten without a time =="
./build/datasets/gen_activity --out demo --hike --interval 20 --untimed 0.1 --days-ago 2
./build/stride analyze demo/synthetic_hike.gpx | grep -E "sport|distance|time |untimed"
echo "(the polyline counts the rest's wander; Stride counts the rest as a stop)"
echo
echo "== Stride as a library: the C API and the Python module =="
echo "capi/example/analyze.c on the run, and the 3 routes nearest a point of demo/db:"
./build/capi/stride_example_analyze demo/synthetic_run.fit | sed -n 1p  # (head would break the pipe)
./build/capi/stride_example_analyze --db demo/db 45.65 6.35 | cut -c1-300
echo
PYTHONPATH=build/python /usr/bin/python3 - <<'PY'
import stride
run = stride.analyze("demo/synthetic_run.fit")   # the dict `stride analyze --json` prints
streams = stride.read("demo/synthetic_run.fit")  # numpy arrays of the cleaned track
print(f"python: stride.analyze: {run['distance_m']:.1f} m, moving {run['moving_time_s']:.0f} s; "
      f"stride.read: {len(streams['time'])} points, mean heart rate "
      f"{streams['heart_rate'].mean():.0f} bpm")
with stride.Database("demo/db") as db:
    loop = db.loop(45.63, 6.34, 6000, alternatives=1)["loops"][0]
    print(f"python: Database.loop: a {loop['distance_m'] / 1000:.2f} km loop "
          f"(+{loop['ascent_m']:.0f} m) from 45.63, 6.34")
PY
echo
if [ "${DEMO_NO_SERVE:-0}" != 1 ]; then
  port=${PORT:-8080}
  echo "== route server =="
  # --dev: loopback only; a random token secret for this process, and a token printed for
  # user "dev" so the example upload below can authenticate.
  rm -rf demo/runs demo/runs.keys  # a fresh run database: the upload below is stored, not replayed
  # Encryption at rest: a key-encryption key made for the demo (an operator keeps theirs in a
  # secret store); each runner's records are sealed under a data key of their own.
  [ -s demo/kek ] || { ./build/stride keys new --id demo-kek >demo/kek; chmod 600 demo/kek; }
  # Geofences: uploads are tagged with the regions they touch (the synthetic run is in the first).
  cat >demo/regions.geojson <<'GEOJSON'
{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"name":"andorra-la-vella"},"geometry":{"type":"Polygon",
  "coordinates":[[[1.50,42.49],[1.54,42.49],[1.54,42.52],[1.50,42.52],[1.50,42.49]]]}},
 {"type":"Feature","properties":{"name":"escaldes"},"geometry":{"type":"Polygon",
  "coordinates":[[[1.54,42.50],[1.58,42.50],[1.58,42.52],[1.54,42.52],[1.54,42.50]]]}}]}
GEOJSON
  # The token secret for this process (also mints the operator's admin token below).
  STRIDE_JWT_SECRET=$(head -c 24 /dev/urandom | base64)
  export STRIDE_JWT_SECRET
  ./build/stride serve --db demo/db --runs demo/runs --kek-file demo/kek \
    --geofences demo/regions.geojson --dev --port "$port" 2>demo/serve.log &
  server=$!
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' INT TERM EXIT
  for _ in $(seq 100); do grep -q listening demo/serve.log && break; sleep 0.1; done
  grep listening demo/serve.log || { cat demo/serve.log; exit 1; }
  base="http://127.0.0.1:$port"
  for req in "/v1/health" \
      "/v1/routes?bbox=6.30,45.60,6.40,45.70&limit=2&sort=length&min_length_m=5000" \
      "/v1/routes/nearest?lat=45.65&lon=6.35&k=2&type=hiking,running&max_ascent_m=1500" \
      "/v1/routes/r3?zoom=12" "/v1/routes/r3/profile"; do
    echo
    echo "curl '$base$req'"
    curl -s "$base$req" | cut -c1-400
    echo
  done
  echo
  echo "== the API contract: OpenAPI 3.1, from the route table and the plugins =="
  echo "curl '$base/v1/openapi.json'"
  curl -s "$base/v1/openapi.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); ops=[(m.upper(),p,o) for p,i in d["paths"].items() for m,o in i.items()]; print(" ", d["openapi"], "-", len(ops), "operations,", sum(1 for _,_,o in ops if "x-plugin" in o), "of them from plugins (" + ", ".join(sorted({o["x-plugin"] for _,_,o in ops if "x-plugin" in o})) + "),", len(d["components"]["schemas"]), "shared schemas; e.g.", *[m + " " + p + ": " + o["summary"] for m,p,o in ops if p == "/v1/plans/next"])'
  echo
  echo "== foot routing on the trail graph: directions, and an 8 km loop from a door =="
  req="/v1/directions?from=45.62,6.32&to=45.66,6.37&via=45.64,6.33"
  echo "curl '$base$req'"
  curl -s "$base$req" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(" ", j["distance_m"], "m,", j["ascent_m"], "m up,", j["descent_m"], "m down,", round(j["duration_s"]/60), "min (Tobler); on", ", ".join(r["name"] for r in j["routes"][:3]), "...;", len(j["profile"]["elevation_m"]), "profile points; by", j["search"])'
  req="/v1/loops?lat=45.65&lon=6.35&distance_m=8000&alternatives=2&avoid_steps=true"
  echo "curl '$base$req'"
  curl -s "$base$req" | python3 -c 'import json,sys; j=json.load(sys.stdin); [print(" ", l["distance_m"], "m (", round(100*l["length_error"],1), "% off),", l["ascent_m"], "m up,", l["repeated_m"], "m walked twice,", round(100*l["path_share"]), "% on paths;", ", ".join(r["name"] for r in l["routes"][:2])) for l in j["loops"]]'
  echo "which trails did a track walk? (map matching: a walk from 45.62,6.32 to 45.66,6.37 as a GeoJSON line)"
  curl -s "$base/v1/directions?from=45.62,6.32&to=45.66,6.37&format=geojson" |
    python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["geometry"]))' >demo/walk.geojson
  echo "curl -X POST --data-binary @demo/walk.geojson '$base/v1/match'"
  curl -s -X POST --data-binary @demo/walk.geojson "$base/v1/match" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(" ", j["points"], "points,", round(100*j["on_network_share"]), "% on the network,", len(j["pieces"]), "piece(s),", len(j["edges"]), "edges; first:", ", ".join(e["name"] or e["highway"] for e in j["edges"][:4]))'
  echo
  echo "== vector tiles for a map (Mapbox Vector Tile 2.1): routes, and trails from zoom 13 =="
  for tile in 12/2120/1462 14/8480/5851; do  # around 45.65 N, 6.35 E
    echo "curl '$base/v1/tiles/$tile.mvt'"
    curl -s -o demo/tile.mvt -w "  %{http_code}, %{size_download} bytes, ETag %header{etag}\n" \
      "$base/v1/tiles/$tile.mvt"
  done
  echo
  echo "== keeping the map current: OSM change files applied while serving =="
  echo "the first renames route relation/1"
  # What a minutely diff does: a new version of the relation (here made with osmium getid and
  # a rename), applied to the database the server is serving; it reloads without a restart.
  osmium getid -f osm demo/trails.osm.pbf r1 | python3 -c '
import sys, time, xml.etree.ElementTree as ET
r = ET.parse(sys.stdin).getroot().find("relation")
r.set("version", str(int(r.get("version")) + 1))
r.set("timestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
for t in r.findall("tag"):
    if t.get("k") == "name": t.set("v", "Demo Ridge Trail")
print("<osmChange version=\"0.6\" generator=\"demo\"><modify>" + ET.tostring(r, encoding="unicode") + "</modify></osmChange>")' >demo/rename.osc
  echo "curl '$base/v1/routes/r1' | name: $(curl -s "$base/v1/routes/r1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')"
  echo "./build/stride update --db demo/db --osc demo/rename.osc"
  ./build/stride update --quiet --db demo/db --osc demo/rename.osc | sed 's/^/  /'
  for _ in $(seq 50); do
    [ "$(curl -s "$base/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reloads"])')" != 0 ] && break
    sleep 0.2
  done
  echo "curl '$base/v1/routes/r1' | name: $(curl -s "$base/v1/routes/r1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')  (reloaded, no restart)"
  ./build/stride inspect --db demo/db | grep -E '^(updatable|contraction hierarchy)' | sed 's/^/  /'
  echo "a second change file: a new path from the first node of way/1 (the walkable network"
  echo "changes, so the hierarchy is contracted again, in the node order of the one it replaces)"
  osmium getid -r -f osm demo/trails.osm.pbf w1 | python3 -c '
import sys, time, xml.etree.ElementTree as ET
root = ET.parse(sys.stdin).getroot()
first = root.find("way").find("nd").get("ref")
n = root.find("node[@id=\"%s\"]" % first)
lat, lon = float(n.get("lat")), float(n.get("lon"))
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))  # after the rename
nodes = "".join("<node id=\"%d\" version=\"1\" timestamp=\"%s\" lat=\"%.7f\" lon=\"%.7f\"/>"
                % (9000000000 + k, now, lat + 0.0009 * k, lon + 0.0004 * k) for k in (1, 2, 3))
refs = "".join("<nd ref=\"%s\"/>" % r for r in [first, 9000000001, 9000000002, 9000000003])
way = ("<way id=\"9000000000\" version=\"1\" timestamp=\"%s\">%s"
       "<tag k=\"highway\" v=\"path\"/><tag k=\"name\" v=\"Demo New Path\"/></way>" % (now, refs))
print("<osmChange version=\"0.6\" generator=\"demo\"><create>" + nodes + way + "</create></osmChange>")' >demo/path.osc
  echo "./build/stride update --db demo/db --osc demo/path.osc"
  ./build/stride update --quiet --db demo/db --osc demo/path.osc | grep '^trail graph' | sed 's/^/  /'
  ./build/stride inspect --db demo/db | grep -E '^contraction hierarchy' | sed 's/^/  /'
  token=$(grep -A1 'dev token' demo/serve.log | tail -1)
  echo
  echo "== the map page: open $base/ in a browser (MapLibre over these tiles; paste the token for runs) =="
  for file in / /web/app.js /web/maplibre-gl-csp.js; do
    curl -s -o /dev/null -w "  GET $file: %{http_code}, %{content_type}, %{size_download} bytes\n" "$base$file"
  done
  if [ -x /usr/bin/chromium ] && [ -d tests/web/node_modules/puppeteer-core ]; then
    node tests/web/shot.mjs "$base/#map=12/45.65/6.35" demo/map.png | sed 's/^/  headless Chromium: /'
  fi
  echo
  echo "== limits: every answer says what is left (public search: 600 a minute per address) =="
  echo "curl -i '$base/v1/routes?bbox=6.30,45.60,6.40,45.70&limit=1'"
  curl -s -i "$base/v1/routes?bbox=6.30,45.60,6.40,45.70&limit=1" | grep -i '^ratelimit' | tr -d '\r'
  echo
  if command -v redis-server >/dev/null; then
    echo "== two more servers of demo/db sharing their limits through Redis (--redis; search=4/m here) =="
    rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
    redis=$!
    for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
    replicas=()
    for i in 1 2; do
      ./build/stride serve --db demo/db --port 0 --quiet --rate-limit search=4/m \
        --redis "redis://127.0.0.1:$rport" 2>"demo/replica$i.log" &
      replicas+=($!)
    done
    rports=()
    for i in 1 2; do
      for _ in $(seq 100); do grep -q listening "demo/replica$i.log" && break; sleep 0.1; done
      rports+=("$(grep -o 'listening on http://127.0.0.1:[0-9]*' "demo/replica$i.log" | grep -o '[0-9]*$')")
    done
    for n in 1 2 3 4 5 6; do
      p=${rports[$((n % 2))]}
      printf '  search %d via :%s -> %s\n' "$n" "$p" "$(curl -s -o /dev/null -D - \
        "http://127.0.0.1:$p/v1/routes?bbox=6.30,45.60,6.40,45.70&limit=1" |
        tr -d '\r' | awk 'NR==1{s=$2} tolower($1)=="ratelimit-remaining:"{r=$2} tolower($1)=="retry-after:"{w=$2}
          END{print s (r!="" ? ", remaining " r : "") (w!="" ? ", retry after " w " s" : "")}')"
    done
    kill "${replicas[@]}" "$redis" 2>/dev/null; wait "${replicas[@]}" "$redis" 2>/dev/null || true
    echo
  fi
  if command -v haproxy >/dev/null && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    echo "== a cluster on this machine: PostgreSQL, Redis, 3 servers (--queue-jobs) behind HAProxy, 2 workers =="
    echo "CLUSTER_DIR=demo/cluster scripts/cluster.sh --check   # (without --check: keeps serving on :8090)"
    CLUSTER_DIR=demo/cluster bash scripts/cluster.sh --check 2>/dev/null | grep -E '^  (ok|FAIL)|^check:|^load balancer' |
      cut -c1-150 | sed 's/^/  /' || true
    echo
  fi
  echo "== a team challenge along route r3 (the bundled challenges plugin) =="
  echo "curl -X POST -H 'Authorization: Bearer \$TOKEN' $base/v1/challenges -d '{\"name\":\"Demo relay\",\"kind\":\"route\",\"route_id\":\"r3\",\"milestone_every_m\":1000}'"
  challenge=$(curl -s -X POST -H "Authorization: Bearer $token" "$base/v1/challenges" \
    -d '{"name":"Demo relay","kind":"route","route_id":"r3","milestone_every_m":1000}')
  echo "$challenge" | cut -c1-300
  cid=$(echo "$challenge" | sed -n 's/.*"id":"\([0-9a-f]\{16\}\)".*/\1/p')
  curl -s -X POST -H "Authorization: Bearer $token" "$base/v1/challenges/$cid/join" \
    -d '{"team":"demo"}' | cut -c1-200
  echo
  # A live subscriber (Server-Sent Events) from now until a few seconds after the upload.
  curl -s -N --max-time 4 -H "Authorization: Bearer $token" -H 'Accept: text/event-stream' \
    "$base/v1/challenges/$cid/events" >demo/events.sse 2>/dev/null &
  sse=$!
  race=$(date -u -d '+70 days' +%F)  # a 10 K ten weeks from now
  profile='{"time_zone":"Europe/Andorra","sex":"female","birth_year":1990,"max_hr_bpm":190,"rest_hr_bpm":50,"availability":{"days":["mon","tue","wed","thu","fri","sat","sun"],"minutes_per_day":60},"goal":{"distance_m":10000,"date":"'$race'"}}'
  echo "curl -X PUT -H 'Authorization: Bearer \$TOKEN' $base/v1/me/profile -d '$profile'"
  curl -s -X PUT -H "Authorization: Bearer $token" "$base/v1/me/profile" -d "$profile"
  echo
  echo
  echo "== run upload (bearer token from the server's --dev line) =="
  echo "curl -X POST --data-binary @demo/synthetic_run.fit -H 'Authorization: Bearer \$TOKEN' -H 'Idempotency-Key: demo-1' $base/v1/runs"
  uploaded=$(curl -s -X POST --data-binary @demo/synthetic_run.fit -H "Authorization: Bearer $token" \
    -H "Idempotency-Key: demo-1" -H "X-File-Name: synthetic_run.fit" "$base/v1/runs")
  echo "$uploaded" | cut -c1-500
  run_id=$(echo "$uploaded" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  echo "  regions (--geofences demo/regions.geojson): $(echo "$uploaded" | python3 -c 'import json,sys; print(json.load(sys.stdin)["regions"])')"
  echo
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/runs?limit=5'"
  curl -s -H "Authorization: Bearer $token" "$base/v1/runs?limit=5" | cut -c1-400
  echo
  echo
  echo "== the challenge after the upload: the team's position on r3 and the milestones it passed =="
  sleep 0.5  # events reach plugins off the request thread
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/challenges/$cid'"
  curl -s -H "Authorization: Bearer $token" "$base/v1/challenges/$cid" |
    sed 's/.*"teams":/"teams":/' | cut -c1-400
  echo
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/challenges/$cid/events'"
  curl -s -H "Authorization: Bearer $token" "$base/v1/challenges/$cid/events" | cut -c1-500
  echo
  echo
  echo "== six earlier runs (the last three weeks), so the plan has a history =="
  for ago in 3 5 8 10 13 16; do
    mkdir -p "demo/history/$ago"
    ./build/datasets/gen_activity --out "demo/history/$ago" --laps $((2 + ago % 4)) --noise 1.5 --seed "$ago" \
      --days-ago "$ago" >/dev/null
    curl -s -o /dev/null -w "  %{http_code} run of $ago days ago\n" -X POST \
      --data-binary "@demo/history/$ago/synthetic_run.fit" -H "Authorization: Bearer $token" \
      "$base/v1/runs"
  done
  echo
  echo "== the plan plugin: fitness from the run's best efforts, and the training load =="
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/plans/fitness'"
  curl -s -H "Authorization: Bearer $token" "$base/v1/plans/fitness" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print("vdot", j["vdot"], "from", json.dumps(j["from"])); [print(" ", p["name"], p["time_s"], "s, range", p["low_s"], "-", p["high_s"]) for p in j["predictions"]]; print("  paces s/km", json.dumps(j["paces_s_per_km"]))'
  echo
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/plans/predict?distance_m=21097.5'"
  curl -s -H "Authorization: Bearer $token" "$base/v1/plans/predict?distance_m=21097.5" |
    cut -c1-300
  echo
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/plans/load'   (the last 3 of 42 days, then the guards)"
  curl -s -H "Authorization: Bearer $token" "$base/v1/plans/load" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(json.dumps(j["days"][-3:])); print(json.dumps(j["at_to"])); print(json.dumps(j["runs"]))'
  echo
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/plans/current'   (the weeks; then the next run)"
  curl -s -H "Authorization: Bearer $token" "$base/v1/plans/current" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); [print(" ", w["start"], w["phase"], w["planned_km"], "km") for w in j["weeks"]]; print("  warnings:", j["warnings"], "assumptions:", j["assumptions"])'
  next=$(curl -s -H "Authorization: Bearer $token" "$base/v1/plans/next")
  echo "$next" | cut -c1-400
  echo
  echo
  echo "== a morning check-in: ill; the plan rests two days, then eases back =="
  checkin='{"ill":true,"rest_hr_bpm":58,"sleep_h":6,"soreness":4}'
  echo "curl -X POST -H 'Authorization: Bearer \$TOKEN' $base/v1/me/readiness -d '$checkin'"
  curl -s -X POST -H "Authorization: Bearer $token" "$base/v1/me/readiness" -d "$checkin" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); r=j["readiness"]; print(" ", j["date"], "readiness", r["score"], r["band"]); [print("   ", x) for x in r["reasons"]]'
  sleep 0.5  # the plan is recalculated off the request thread
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/plans/changes'"
  curl -s -H "Authorization: Bearer $token" "$base/v1/plans/changes" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); [print(" ", c["date"], json.dumps(c["before"]), "->", json.dumps(c["after"]), "|", c["cause"], "|", "; ".join(c["reasons"])) if c.get("date") else print(" ", c["cause"] + ":", "; ".join(c["reasons"])) for c in j["changes"][:4]]'
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/plans/current'   (the first days, with their state)"
  curl -s -H "Authorization: Bearer $token" "$base/v1/plans/current" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); [print(" ", d["date"], d["type"], d["distance_m"], d["state"], "|", "; ".join(d.get("changed", []))[:90]) for d in [d for d in j["days"] if d["date"] >= "'"$(date -u -d '-3 days' +%F)"'"][:8]]'
  echo
  echo "curl -H 'Authorization: Bearer \$TOKEN' -o demo/plan.ics '$base/v1/plans/calendar.ics'"
  curl -s -H "Authorization: Bearer $token" -o demo/plan.ics "$base/v1/plans/calendar.ics"
  grep -c BEGIN:VEVENT demo/plan.ics | sed 's/^/  events: /'
  grep -m1 -A6 BEGIN:VEVENT demo/plan.ics | sed 's/^/  /'
  next=$(curl -s -H "Authorization: Bearer $token" "$base/v1/plans/next")  # after the change
  day=$(echo "$next" | sed -n 's/.*"date":"\([0-9-]*\)".*/\1/p')
  echo "curl -H 'Authorization: Bearer \$TOKEN' -o demo/workout.fit '$base/v1/plans/days/$day/workout.fit'"
  curl -sf -H "Authorization: Bearer $token" -o demo/workout.fit "$base/v1/plans/days/$day/workout.fit"
  echo "  demo/workout.fit: $(stat -c %s demo/workout.fit) bytes, a FIT workout file for a watch"
  echo
  echo "== the coach chat: the runner's runs, plan and messages, retrieved and answered offline =="
  for q in "How far did I run in the last 3 weeks?" "What was my longest run?" \
      "How was my run yesterday?" "What is planned for tomorrow?"; do
    echo "curl -H 'Authorization: Bearer \$TOKEN' $base/v1/chat/ask -d '{\"question\":\"$q\"}'"
    curl -s -H "Authorization: Bearer $token" "$base/v1/chat/ask" -d "{\"question\":\"$q\"}" |
      python3 -c 'import json,sys; j=json.load(sys.stdin); print("  understood:", json.dumps(j["understood"])); print("  answer:", j["answer"][:300].replace("\n", "\n          "))'
  done
  q="Which of my runs was the fastest?"
  echo "curl -H 'Authorization: Bearer \$TOKEN' $base/v1/chat/retrieve -d '{\"question\":\"$q\",\"k\":3}'"
  curl -s -H "Authorization: Bearer $token" "$base/v1/chat/retrieve" -d "{\"question\":\"$q\",\"k\":3}" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); [print("  ", i["kind"], i["id"], "|", i["why"], "|", i["text"][:80]) for i in j["items"]]; print("   took", j["took_ms"], "ms")'
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/chat/messages?limit=2'"
  curl -s -H "Authorization: Bearer $token" "$base/v1/chat/messages?limit=2" | cut -c1-300
  echo
  echo
  echo "== encryption at rest: the chat question above, searched for in every file of demo/runs =="
  echo "grep -rlF 'How far did I run in the last 3 weeks?' demo/runs | wc -l"
  { grep -rlF 'How far did I run in the last 3 weeks?' demo/runs || true; } | wc -l
  echo "  data keys: $(find demo/runs.keys -name '*.key' | wc -l) in demo/runs.keys, wrapped by KEK '$(cut -d= -f1 demo/kek)' from demo/kek;"
  echo "  DELETE /v1/me destroys the runner's key first, so nothing of theirs opens afterwards"
  echo
  echo "== privacy: a zone round the run's start, a shared link, and the track others see =="
  home=$(curl -s -H "Authorization: Bearer $token" "$base/v1/runs/$run_id/track" |
    python3 -c 'import json,sys; c=json.load(sys.stdin)["geometry"]["coordinates"][0][0]; print(c[1], c[0])')
  read -r home_lat home_lon <<<"$home"
  zones="{\"zones\":[{\"name\":\"home\",\"lat\":$home_lat,\"lon\":$home_lon,\"radius_m\":200}]}"
  echo "curl -X PUT -H 'Authorization: Bearer \$TOKEN' $base/v1/me/privacy-zones -d '$zones'"
  curl -s -X PUT -H "Authorization: Bearer $token" "$base/v1/me/privacy-zones" -d "$zones"
  echo
  echo "curl -X POST -H 'Authorization: Bearer \$TOKEN' $base/v1/runs/$run_id/share"
  share=$(curl -s -X POST -H "Authorization: Bearer $token" "$base/v1/runs/$run_id/share")
  echo "$share"
  url=$(echo "$share" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  echo "curl '$base$url'   # no token: anyone with the link"
  curl -s "$base$url"
  echo
  own=$(curl -s -H "Authorization: Bearer $token" "$base/v1/runs/$run_id/track" |
    python3 -c 'import json,sys; print(sum(len(l) for l in json.load(sys.stdin)["geometry"]["coordinates"]))')
  shown=$(curl -s "$base$url/track" |
    python3 -c 'import json,sys; print(sum(len(l) for l in json.load(sys.stdin)["geometry"]["coordinates"]))')
  echo "  the owner's track: $own points; the shared track: $shown points, none within 200 m of home"
  echo
  echo "== an offline phone: one pull of everything, one push of what it did offline =="
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/sync/pull?last_pulled_at=0&schema_version=1'"
  pulled=$(curl -s -H "Authorization: Bearer $token" "$base/v1/sync/pull?last_pulled_at=0&schema_version=1")
  echo "$pulled" | python3 -c 'import json,sys; j=json.load(sys.stdin); [print("  %-20s created %3d  updated %2d  deleted %d" % (c, len(k["created"]), len(k["updated"]), len(k["deleted"]))) for c, k in sorted(j["changes"].items())]; print("  last_pulled_at", j["last_pulled_at"])'
  t=$(echo "$pulled" | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_pulled_at"])')
  now_ms=$(($(date +%s) * 1000))
  push="{\"changes\":{\"runs\":{\"updated\":[{\"id\":\"$run_id\",\"updated_at\":$now_ms,\"rpe\":6,\"notes\":\"felt easy\"}]},\"workouts\":{\"created\":[{\"id\":\"phone-1\",\"updated_at\":$now_ms,\"start\":\"$(date -u -d '-2 days' +%FT18:00:00Z)\",\"duration_s\":2700,\"sport\":\"strength\"}]}}}"
  echo "curl -X POST -H 'Authorization: Bearer \$TOKEN' '$base/v1/sync/push?last_pulled_at=$t' -d '$push'"
  curl -s -X POST -H "Authorization: Bearer $token" "$base/v1/sync/push?last_pulled_at=$t" -d "$push"
  echo
  stale="{\"changes\":{\"runs\":{\"updated\":[{\"id\":\"$run_id\",\"updated_at\":$((now_ms - 60000)),\"notes\":\"from the tablet\"}]}}}"
  echo "curl -X POST ... '$base/v1/sync/push?last_pulled_at=$t' -d '$stale'   # a tablet's older edit"
  curl -s -X POST -H "Authorization: Bearer $token" "$base/v1/sync/push?last_pulled_at=$t" -d "$stale" | cut -c1-330
  echo
  echo "curl -H 'Authorization: Bearer \$TOKEN' '$base/v1/sync/pull?last_pulled_at=$t'   # what another device pulls"
  curl -s -H "Authorization: Bearer $token" "$base/v1/sync/pull?last_pulled_at=$t" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); [print("  %s %s: %s" % (c, kind, ", ".join("%s %s" % (r["id"], json.dumps({f: r[f] for f in ("notes", "rpe", "sport", "duration_s") if f in r})) for r in k[kind]))) for c, k in sorted(j["changes"].items()) for kind in ("created", "updated") if k[kind]]'
  echo
  echo "== re-analysis after an import or a new release: the stored runs analysed again (admin token) =="
  admin=$(./build/stride token --user ops --scope admin --ttl 10m)
  echo "curl -X POST -H 'Authorization: Bearer \$ADMIN_TOKEN' '$base/v1/admin/reanalyze'"
  curl -s -X POST -H "Authorization: Bearer $admin" "$base/v1/admin/reanalyze" >/dev/null
  for _ in $(seq 100); do
    progress=$(curl -s -H "Authorization: Bearer $admin" "$base/v1/admin/reanalyze")
    case $progress in *'"finished"'*) break ;; esac
    sleep 0.1
  done
  echo "$progress" | python3 -c 'import json,sys; j=json.load(sys.stdin); print("  %s %s: %d runs, %d changed (same database, DEM and release: nothing to rewrite), %d failed" % (j["state"], j["mode"], j["runs"], j["changed"], j["failed"]))'
  echo
  echo "== what a live subscriber received meanwhile =="
  echo "curl -N -H 'Authorization: Bearer \$TOKEN' -H 'Accept: text/event-stream' '$base/v1/challenges/$cid/events'"
  wait "$sse" 2>/dev/null || true
  grep -E '^(id|event):' demo/events.sse | paste - - | head -8
  echo
  echo "TOKEN=$token"
fi
echo
echo "Try: ./build/stride inspect --db demo/db --route relation/2"
echo "     ./build/stride import --osm ../shared/datasets/osm/andorra-2021-10-28.osm.pbf --dem ../shared/datasets/dem --db demo/andorra"
echo "     ./build/stride analyze --json --max-hr 185 demo/synthetic_run.fit"
echo "     curl -H \"Authorization: Bearer \$TOKEN\" '<server>/v1/runs/<id>/track?format=gpx'"
echo "     curl -H \"Authorization: Bearer \$TOKEN\" -o export.tar '<server>/v1/me/export'"
if [ "${DEMO_NO_SERVE:-0}" != 1 ]; then
  echo
  echo "The server keeps running on $base (access log: demo/serve.log); Ctrl-C stops it."
  wait $server
fi
