# SPDX-License-Identifier: Apache-2.0
"""The Python module as a user calls it: analyze() equal to the CLI's JSON, read() streams
against the file as gpxpy reads it, errors as exceptions, a thread pool, route queries.

Run by ctest with PYTHONPATH=build/python, STRIDE_BUILD_DIR and STRIDE_DATASETS_DIR set."""
import concurrent.futures
import json
import math
import os
import pathlib
import subprocess

import numpy as np
import pytest

import stride

BUILD = pathlib.Path(os.environ.get("STRIDE_BUILD_DIR", "build"))
DATASETS = pathlib.Path(os.environ.get("STRIDE_DATASETS_DIR", "../shared/datasets"))
CLI = BUILD / "stride"


def cli_json(paths):
    """`stride analyze --json` over paths: {file: dict} for the files it analysed."""
    out = subprocess.run([str(CLI), "analyze", "--json", "--jobs", "2", *map(str, paths)],
                         capture_output=True, text=True, check=False).stdout
    return {d["file"]: d for d in map(json.loads, out.splitlines())}


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """A generated run (GPX, TCX, FIT) with 3 m of GPS noise and a stop."""
    d = tmp_path_factory.mktemp("gen")
    subprocess.run([str(BUILD / "datasets" / "gen_activity"), "--out", str(d), "--noise", "3"],
                   check=True, capture_output=True)
    return d


def shared_recordings():
    if not (DATASETS / "fit").is_dir():
        pytest.skip(f"shared datasets not found at {DATASETS} (clone next to ../shared)")
    files = []
    for sub in ("gpx", "tcx", "fit", "fit/edge_cases"):
        files += sorted(p for p in (DATASETS / sub).iterdir() if p.is_file())
    return files


def test_version():
    assert stride.__version__ == "0.1.0"
    assert stride.API_VERSION == 1
    assert stride.STREAMS[:3] == ("time", "lat", "lon")


def test_keep_freed_memory_is_set_at_import_and_can_be_undone():
    # The heap effect itself is tested on the engine (tests/engine/memory/keep_freed_test.cpp).
    assert stride.keep_freed_memory(0) is True
    assert stride.keep_freed_memory(64 << 20) is True


def test_analyze_equals_the_cli_for_generated_recordings(generated):
    files = sorted(generated.glob("synthetic_run.*"))
    assert len(files) == 3
    cli = cli_json(files)
    for f in files:
        assert stride.analyze(f) == cli[str(f)]
        # The same bytes from memory, named like the file.
        assert stride.analyze(f.read_bytes(), name=str(f)) == cli[str(f)]


def test_analyze_equals_the_cli_for_every_shared_recording():
    files = shared_recordings()
    assert len(files) > 100
    cli = cli_json(files)
    analysed = 0
    for f in files:
        try:
            got = stride.analyze(str(f))
        except stride.Error as e:
            assert str(f) not in cli, f"{f}: the CLI analysed it, the module raised {e!r}"
            continue
        assert got == cli[str(f)], f
        analysed += 1
    assert analysed > 100


def test_options_reach_the_analysis(generated):
    f = generated / "synthetic_run.gpx"
    a = stride.analyze(f, sport="hike", max_hr=200, rest_hr=50)
    assert a["source"]["sport"] == "hike"
    assert a["source"]["sport_source"] == "command line"
    cli = subprocess.run([str(CLI), "analyze", "--json", "--sport", "hike", "--max-hr", "200",
                          "--rest-hr", "50", "--hr-zones", "120,140,155,170", str(f)],
                         capture_output=True, text=True, check=True).stdout
    assert stride.analyze(f, sport="hike", max_hr=200, rest_hr=50,
                          hr_zones=[120, 140, 155, 170]) == json.loads(cli)


def test_read_gives_the_track_the_file_holds():
    """A noisy GPX read by gpxpy (an independent parser): same times, heart rates within the
    file's values, positions within metres, and the distance the analysis reports."""
    gpxpy = pytest.importorskip("gpxpy")
    files = [f for f in shared_recordings() if f.suffix == ".gpx"]
    checked = 0
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            try:
                g = gpxpy.parse(fh)
            except Exception:  # noqa: BLE001 - gpxpy refuses some files Stride reads
                continue
        points = [p for t in g.tracks for s in t.segments for p in s.points]
        if len(points) < 100 or any(p.time is None for p in points):
            continue
        a = stride.analyze(f)
        # Files whose times the analysis repaired (shared or meaningless times, respread) or
        # whose points lack positions are left out: their streams are not the file's points.
        p = a["points"]
        if p["times_ignored"] or p["retimed"] or p["kept_with_position"] != p["kept"]:
            continue
        s = stride.read(f)
        n = len(s["time"])
        assert all(len(v) == n for v in s.values()), f
        assert all(v.dtype == np.float64 for v in s.values())
        assert n == a["points"]["kept"], f
        # Kept times are a subset of the file's times, in order.
        file_times = {p.time.timestamp() for p in points}
        assert all(t in file_times for t in s["time"]), f
        assert np.all(np.diff(s["time"]) > 0), f
        # Smoothing moves a fix by metres, not kilometres: each kept point is near the file's
        # point of the same time.
        by_time = {p.time.timestamp(): p for p in points}
        worst = 0.0
        for t, lat, lon in zip(s["time"], s["lat"], s["lon"]):
            p = by_time[t]
            dy = (lat - p.latitude) * 111_132
            dx = (lon - p.longitude) * 111_320 * math.cos(math.radians(lat))
            worst = max(worst, math.hypot(dx, dy))
        assert worst < 150, f"{f}: a smoothed point {worst:.0f} m from its fix"
        assert s["distance"][-1] == pytest.approx(a["distance_m"], abs=0.05), f
        checked += 1
    assert checked >= 5


def test_read_of_a_generated_run(generated):
    s = stride.read(generated / "synthetic_run.fit")
    assert len(s["time"]) > 1500
    assert np.all(s["heart_rate"] == 150)
    assert np.all(np.isnan(s["power"]))
    assert s["distance"][-1] == pytest.approx(5400, rel=0.01)
    assert np.all(np.diff(s["distance"]) >= 0)


def test_errors_are_exceptions_that_say_where(generated, tmp_path):
    with pytest.raises(stride.InvalidInput, match="line 3") as e:
        stride.analyze(b'<gpx>\n<trk><trkseg>\n<trkpt lat="x" lon="1"/>')
    assert isinstance(e.value, ValueError) and e.value.code == 1
    with pytest.raises(stride.NotFound, match="no/such.fit") as e:
        stride.analyze("/no/such.fit")
    assert isinstance(e.value, LookupError) and e.value.code == 2
    with pytest.raises(stride.InvalidInput, match="sport: unknown sport 'swim'"):
        stride.analyze(generated / "synthetic_run.fit", sport="swim")
    with pytest.raises(stride.InvalidInput, match="hr_zones"):
        stride.analyze(generated / "synthetic_run.fit", hr_zones=[120, 140])
    with pytest.raises(stride.InvalidInput, match="must be below the maximum, 110 bpm"):
        stride.analyze(generated / "synthetic_run.fit", max_hr=110, rest_hr=115)
    with pytest.raises(stride.InvalidInput, match="zone 5 starts at 170 bpm"):
        stride.analyze(generated / "synthetic_run.fit", max_hr=165, hr_zones=[120, 140, 155, 170])
    with pytest.raises(stride.InvalidInput, match="source: expected a path"):
        stride.analyze(42)
    with pytest.raises(stride.InvalidInput, match="session: 1 out of range"):
        stride.read(generated / "synthetic_run.fit", session=1)
    # A FIT file cut short names the byte.
    fit = (generated / "synthetic_run.fit").read_bytes()
    with pytest.raises(stride.InvalidInput, match="byte"):
        stride.analyze(fit[:-1000])
    with pytest.raises(stride.NotFound, match="^elevation source .*nothing: no such folder") as e:
        stride.Dem(tmp_path / "nothing")
    assert "--dem" not in str(e.value)


def test_a_dem_that_cannot_be_read_says_which_files(tmp_path):
    """Pixels that do not read: the analysis keeps the recording's elevation, and the Dem says
    which file failed and why (the CLI prints it and exits 1)."""
    if not (DATASETS / "dem").is_dir():
        pytest.skip(f"shared datasets not found at {DATASETS} (clone next to ../shared)")
    cut = tmp_path / "andorra.tif"
    cut.write_bytes((DATASETS / "dem" / "andorra_srtm3_crop.tif").read_bytes()[:5000])
    hike = DATASETS / "gpx" / "andorra_hike_2015-08-16_adrutas_170708_a.gpx"
    dem = stride.Dem(cut)
    assert dem.unreadable() == []
    analysis = stride.analyze(hike, dem=dem)
    assert analysis["methods"]["elevation"]["source"] != "dem"
    bad = dem.unreadable()
    assert len(bad) == 1 and bad[0].startswith(f"{cut}: cannot read its pixels: "), bad
    whole = stride.Dem(DATASETS / "dem" / "andorra_srtm3_crop.tif")
    assert stride.analyze(hike, dem=whole)["methods"]["elevation"]["source"] == "dem"
    assert whole.unreadable() == []


def test_a_thread_pool_gives_what_one_thread_gives(generated):
    files = [generated / "synthetic_run.gpx", generated / "synthetic_run.tcx",
             generated / "synthetic_run.fit"] * 4
    if (DATASETS / "fit").is_dir():
        files += shared_recordings()[:40]
    serial = []
    for f in files:
        try:
            serial.append(stride.analyze(f))
        except stride.Error as e:
            serial.append(type(e))

    def one(f):
        try:
            return stride.analyze(f)
        except stride.Error as e:
            return type(e)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(one, files)) == serial


def test_analyze_many_keeps_the_order_and_reports_failures(generated):
    files = [generated / "synthetic_run.gpx", "/no/such.fit", generated / "synthetic_run.fit"]
    out = stride.analyze_many(files, workers=3, errors="return", sport="hike")
    assert out[0] == stride.analyze(files[0], sport="hike")
    assert isinstance(out[1], stride.NotFound)
    assert out[2] == stride.analyze(files[2], sport="hike")
    with pytest.raises(stride.NotFound):
        stride.analyze_many(files, workers=2)
    with pytest.raises(stride.InvalidInput, match="errors"):
        stride.analyze_many(files, errors="ignore")


# ---- route database ----

@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = tmp_path_factory.mktemp("db")
    subprocess.run([str(BUILD / "datasets" / "gen_osm"), "--out", str(d / "map.osm.pbf"),
                    "--nodes", "20000", "--dem", str(d / "dem")], check=True, capture_output=True)
    subprocess.run([str(CLI), "import", "--osm", str(d / "map.osm.pbf"), "--dem", str(d / "dem"),
                    "--db", str(d / "db")], check=True, capture_output=True)
    with stride.Database(d / "db") as database:
        database.path = d / "db"
        yield database


def test_routes_in_a_box_meet_the_filters(db):
    page = db.routes((-180, -85, 180, 85), type="hiking", min_length_m=2000, limit=7)
    assert len(page["routes"]) == 7
    for r in page["routes"]:
        assert r["type"] == "hiking" and r["length_m"] >= 2000
    more = db.routes((-180, -85, 180, 85), type="hiking", min_length_m=2000, limit=7,
                     cursor=page["next_cursor"])
    ids = {r["id"] for r in page["routes"]}
    assert not ids & {r["id"] for r in more["routes"]}


def test_nearest_route_and_profile(db):
    first = db.routes((-180, -85, 180, 85), limit=1)["routes"][0]
    lon, lat = first["start"]
    near = db.nearest(lat, lon, k=5)["routes"]
    assert len(near) == 5
    distances = [r["distance_m"] for r in near]
    assert distances == sorted(distances) and distances[0] < 1
    route = db.route(first["id"], format="geojson")
    assert route["length_m"] == first["length_m"]
    profile = db.profile(first["id"])
    assert profile["profile"]["distance_m"][0] == 0
    assert len(profile["profile"]["elevation_m"]) == len(profile["profile"]["distance_m"])


def test_directions_loop_and_match(db):
    two = db.routes((-180, -85, 180, 85), limit=2)["routes"]
    (a_lon, a_lat), (b_lon, b_lat) = two[0]["start"], two[1]["start"]
    walk = db.directions((a_lat, a_lon), (b_lat, b_lon), format="geojson", avoid_steps=True)
    straight = math.hypot((b_lat - a_lat) * 111_132,
                          (b_lon - a_lon) * 111_320 * math.cos(math.radians(a_lat)))
    assert walk["distance_m"] >= straight * 0.99
    loops = db.loop(a_lat, a_lon, 4000, alternatives=2, seed=5)["loops"]
    assert 1 <= len(loops) <= 2
    assert loops[0]["distance_m"] == pytest.approx(4000, rel=0.25)
    matched = db.match(walk["geometry"])
    assert matched["on_network_share"] > 0.95


def test_query_errors(db, tmp_path):
    with pytest.raises(stride.NotFound, match="no route r999999999"):
        db.route("r999999999")
    with pytest.raises(stride.InvalidInput, match="lat"):
        db.nearest(95, 0)
    with pytest.raises(stride.InvalidInput, match="limit"):
        db.routes((0, 0, 1, 1), limit=0)
    # Named as the library's caller knows it, not by the command line's flag.
    with pytest.raises(stride.NotFound, match="^database .*: no route database here") as e:
        stride.Database(tmp_path)
    assert "--db" not in str(e.value)
    closed = stride.Database(db.path)
    closed.close()
    with pytest.raises(stride.InvalidInput, match="closed"):
        closed.nearest(1, 2)
