# SPDX-License-Identifier: Apache-2.0
# Sourced by the route-search benchmarks: builds Release (stride, gen_routes, route_db_tool)
# and sets `db` to a generated database of `$routes` routes in `$bench_dir`, generating it
# on first use (later runs reuse it).
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRIDE_BUILD_TESTS=OFF \
  -DSTRIDE_BUILD_BENCH=ON >/dev/null
ninja -C build-release stride gen_routes route_db_tool >/dev/null
db="$bench_dir/routes-$routes"
if [ ! -f "$db/CURRENT" ]; then
  echo "generating $routes routes into $db ..." >&2
  ./build-release/datasets/gen_routes --db "$db" --routes "$routes" 2>/dev/null
fi
