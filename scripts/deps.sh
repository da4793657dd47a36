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
  libssl-dev              # SHA-256 of import manifests
  libcpp-httplib-dev      # the HTTP server (server/) and the tests' client
  curl                    # the demo's example requests
  tzdata                  # time zones of day-by-day challenges (engine/time)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
