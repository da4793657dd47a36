#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The C API as a user gets it: `cmake --install` into a fresh prefix, then C11 programs built
# against what was installed (never the build tree) in the three ways a project would link it:
# pkg-config with the shared library, pkg-config with the static one, and CMake's
# find_package(stride). Each program analyses a generated recording (its JSON must be the CLI's,
# byte for byte) and queries a generated route database.
#
#   tests/capi/installed_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/stride_installed.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc=${CC:-cc}
cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror)

echo "== cmake --install into $work/prefix"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$(dirname "$(find "$work/prefix" -name stride.pc)")"
libdir=$(pkg-config --variable=libdir stride)
test -f "$libdir/libstride.so.1" && test -f "$libdir/libstride.a" && \
  test -f "$(pkg-config --variable=includedir stride)/stride/stride.h" || {
  echo "FAIL: the install lacks libstride.so.1, libstride.a or stride/stride.h"; exit 1; }

echo "== the headers compile as C11 (-Wall -Wextra -Wpedantic -Werror), each alone and together"
for h in "stride/stride.h" "stride/stride_plugin.h"; do
  printf '#include <%s>\nint main(void) { return 0; }\n' "$h" |
    $cc "${cflags[@]}" $(pkg-config --cflags stride) -x c - -o "$work/header_only"
done

echo "== the installed command: bin/stride, and libexec/stride/stride-full for all but analyze"
test -x "$work/prefix/bin/stride" && test -x "$work/prefix/libexec/stride/stride-full" || {
  echo "FAIL: the install lacks bin/stride or libexec/stride/stride-full"; exit 1; }
stride="$work/prefix/bin/stride"

echo "== data: a generated recording and a generated route database (by the installed stride)"
"$build/datasets/gen_activity" --out "$work" --noise 3 >/dev/null
"$build/datasets/gen_osm" --out "$work/map.osm.pbf" --nodes 20000 --dem "$work/dem" >/dev/null
"$stride" import --osm "$work/map.osm.pbf" --dem "$work/dem" --db "$work/db" >/dev/null 2>&1 || {
  echo "FAIL: the installed stride import (through libexec/stride/stride-full) failed"; exit 1; }
run="$work/synthetic_run.fit"
"$stride" analyze --json "$run" > "$work/cli.json"

check() {  # check NAME PROGRAM: runs it, compares its JSON with the CLI's
  local name=$1 program=$2
  "$program" "$run" "$work/db" > "$work/$name.json" || { echo "FAIL: $name: checks failed"; exit 1; }
  cmp -s "$work/$name.json" "$work/cli.json" || {
    echo "FAIL: $name: its analysis JSON differs from stride analyze --json"
    diff <(tr ',' '\n' < "$work/cli.json") <(tr ',' '\n' < "$work/$name.json") | head -20
    exit 1
  }
  echo "ok: $name"
}

echo "== pkg-config, shared library"
$cc "${cflags[@]}" "$src/tests/capi/capi_check.c" $(pkg-config --cflags --libs stride) -lm \
  -Wl,-rpath,"$libdir" -o "$work/pc_shared"
# (ldd's output is taken whole: `ldd | grep -q` fails under pipefail when grep stops early.)
loaded=$(ldd "$work/pc_shared")
[[ "$loaded" == *"$libdir/libstride.so.1"* ]] || {
  echo "FAIL: pc_shared does not load the installed libstride.so.1"; echo "$loaded"; exit 1; }
check pc_shared "$work/pc_shared"
$cc "${cflags[@]}" "$src/capi/example/analyze.c" $(pkg-config --cflags --libs stride) \
  -Wl,-rpath,"$libdir" -o "$work/example"
"$work/example" "$run" | tail -n 1 | cmp -s - "$work/cli.json" || {
  echo "FAIL: the example's JSON differs from stride analyze --json"; exit 1; }
echo "ok: capi/example/analyze.c"

echo "== pkg-config, static library"
$cc "${cflags[@]}" "$src/tests/capi/capi_check.c" $(pkg-config --cflags --libs stride-static) -lm \
  -o "$work/pc_static"
loaded=$(ldd "$work/pc_static")
if [[ "$loaded" == *libstride* ]]; then
  echo "FAIL: pc_static loads a libstride shared library"; exit 1
fi
check pc_static "$work/pc_static"

echo "== CMake find_package(stride)"
cmake -S "$src/tests/capi/consumer" -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
ninja -C "$work/consumer" >/dev/null
check cmake_shared "$work/consumer/check_shared"
check cmake_static "$work/consumer/check_static"
echo "== the Python module, installed"
pydir=$(dirname "$(find "$work/prefix" -name "_stride*.so")")
PYTHONPATH=$(dirname "$pydir") /usr/bin/python3 - "$run" "$work/cli.json" "$work/prefix" <<'PY'
import json, os, subprocess, sys
import stride
run, cli, prefix = sys.argv[1:]
assert stride.__file__.startswith(prefix), stride.__file__
maps = open(f"/proc/{os.getpid()}/maps").read()
assert os.path.join(prefix, "lib", "libstride.so") in maps.replace("//", "/") or \
    any(prefix in line and "libstride.so" in line for line in maps.splitlines()), \
    "the module did not load the installed libstride.so"
assert stride.analyze(run) == json.load(open(cli)), "stride.analyze differs from the CLI"
print("ok: import stride from", os.path.dirname(stride.__file__))
PY
strip -o "$work/stripped.so" "$libdir/libstride.so.1"
echo "installed: libstride.so $(stat -L -c %s "$libdir/libstride.so.1") bytes" \
  "($(stat -c %s "$work/stripped.so") stripped), libstride.a $(stat -c %s "$libdir/libstride.a") bytes"
