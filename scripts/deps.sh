#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs the Debian 12 packages the build and the tests need, only when some are missing
# (so a developer's machine is not sent to apt on every run). Root runs apt-get directly;
# anyone else through sudo.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  nlohmann-json3-dev      # JSON output of the analysis (engine/track/analysis_json)
  libgtest-dev            # tests
  libbenchmark-dev        # bench/
  libproj-dev             # Karney geodesics as the reference in geodesy tests
  libboost-dev            # Boost.Geometry rtree: the index benchmark's baseline
  librocksdb-dev          # the route database (index/store)
  libprotobuf-dev protobuf-compiler  # stored records (proto/)
  libosmium2-dev          # OSM import (importers/osm); header-only, pulls protozero
  libexpat1-dev libbz2-dev zlib1g-dev liblz4-dev libzstd-dev  # libosmium / RocksDB codecs
  libssl-dev              # SHA-256, HMAC, TLS, AES-256-GCM of data at rest (index/crypto)
  libgeos-dev             # privacy zones and geofences: prepared polygons (engine/geometry)
  libgdal-dev             # GeoTIFF elevation in any CRS (importers/dem/gdal_raster; loaded on use)
  libcpp-httplib-dev      # the HTTP server (server/) and the tests' client
  libhnswlib-dev          # HNSW vector index of the chat memory (plugins/chat); header-only
  libhiredis-dev          # Redis client: limits shared by several servers (index/redis)
  redis-server            # the real Redis the tests of --redis start (tests/integration)
  libpq-dev               # PostgreSQL client: user data shared by several servers (index/pg)
  postgresql-15           # the real PostgreSQL its tests start (tests/support/postgres_server)
  postgresql-15-postgis-3 # run tracks as geometries in it (index/pg: stride_run_tracks)
  haproxy                 # the load balancer of the local cluster (scripts/cluster.sh)
  clang-14 libclang-rt-14-dev  # libFuzzer and clang's sanitizers: the fuzz targets (fuzz/)
  lld                     # the linker when installed: a quarter of GNU ld's time (CMakeLists.txt)
  pybind11-dev python3-dev  # the Python module (python/)
  python3-numpy python3-pytest python3-gpxpy  # its streams, its tests, their reference parser
  curl                    # the demo's example requests
  chromium                # the map page's browser tests (tests/web: headless, software WebGL)
  osmium-tool             # real OSM change files for stride update's tests (derive-changes)
  tzdata                  # time zones of day-by-day challenges (engine/time)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# From the npm registry, pinned by package-lock.json: Garmin's FIT SDK, the independent decoder
# the tests check Stride's FIT workout files with (tests/fit_sdk). Needs node (20 on Debian
# 12 machines here); without it those tests skip and say why.
cd "$(dirname "$0")/.."
if command -v npm >/dev/null 2>&1 && [ ! -d tests/fit_sdk/node_modules/@garmin/fitsdk ]; then
  echo "installing: @garmin/fitsdk (npm)" >&2
  npm ci --prefix tests/fit_sdk --no-audit --no-fund --loglevel=error >/dev/null
fi
# Redocly's OpenAPI linter (pinned the same way): the tests lint GET /v1/openapi.json with it.
if command -v npm >/dev/null 2>&1 && [ ! -x tests/openapi/node_modules/.bin/redocly ]; then
  echo "installing: @redocly/cli (npm)" >&2
  npm ci --prefix tests/openapi --no-audit --no-fund --loglevel=error >/dev/null
fi
# MapLibre GL JS (pinned the same way): vendored into the map page at build time (web/; the
# build embeds its dist/ files in the binary). Without it the page loads and says it has no map.
if command -v npm >/dev/null 2>&1 && [ ! -f web/node_modules/maplibre-gl/dist/maplibre-gl-csp.js ]; then
  echo "installing: maplibre-gl (npm)" >&2
  npm ci --prefix web --no-audit --no-fund --loglevel=error >/dev/null
fi
# puppeteer-core (pinned the same way): drives Debian's chromium through the map page in the
# browser tests (tests/web). It downloads no browser.
if command -v npm >/dev/null 2>&1 && [ ! -d tests/web/node_modules/puppeteer-core ]; then
  echo "installing: puppeteer-core (npm)" >&2
  npm ci --prefix tests/web --no-audit --no-fund --loglevel=error >/dev/null
fi
