# SPDX-License-Identifier: Apache-2.0
"""Stride in Python: the analysis `stride analyze` gives and the queries `stride serve` answers.

    import stride

    run = stride.analyze("run.fit")                 # a dict, equal to `stride analyze --json`
    print(run["distance_m"], run["moving_time_s"])
    streams = stride.read("run.fit")                # numpy arrays of the cleaned track
    print(streams["heart_rate"].mean())

    with stride.Database("/srv/stride/db") as db:   # a database `stride import` made
        near = db.nearest(42.5063, 1.5218, k=5, type="hiking")
        walk = db.directions((42.50, 1.52), (42.53, 1.58), avoid_steps=True)

Every function takes a path (str or os.PathLike) or the file's bytes. Errors raise
stride.InvalidInput (a ValueError: the message names the line or byte of a bad file, or the
parameter), stride.NotFound (a LookupError), stride.TooLarge, stride.Unavailable, or
stride.Error (their base class) with `.code`, the C API's STRIDE_E_* number.

The engine runs without the GIL: threads analyse files in parallel.
"""
import json as _json
import os as _os
from urllib.parse import urlencode as _urlencode

from . import _stride

__all__ = ["analyze", "analyze_many", "read", "keep_freed_memory", "Database", "Dem", "Error", "InvalidInput", "NotFound", "TooLarge",
           "Unavailable", "STREAMS", "__version__", "API_VERSION"]

__version__ = _stride.VERSION


def keep_freed_memory(nbytes):
    """Keeps up to `nbytes` of freed memory in the process for the next analysis instead of
    giving it back to the kernel after each one (glibc's trim threshold; stride.h,
    stride_keep_freed_memory). Process-wide. 0 sets glibc's default values back. Returns False
    where the allocator takes no such setting.

    Importing stride sets 64 MiB (analysing recordings given as bytes in a row is about a third
    faster; paths are not affected); set the environment variable STRIDE_MALLOC_DEFAULTS=1
    before the import to leave glibc's defaults.
    """
    return _stride.keep_freed_memory(int(nbytes))


if not _os.environ.get("STRIDE_MALLOC_DEFAULTS"):
    keep_freed_memory(64 << 20)
API_VERSION = _stride.API_VERSION
#: Names of the streams read() returns, in the C API's order.
STREAMS = tuple(_stride.STREAMS)


class Error(Exception):
    """A Stride call failed. `code` is the C API's STRIDE_E_* number."""

    def __init__(self, message, code=4):
        super().__init__(message)
        self.code = code


class InvalidInput(Error, ValueError):
    """A bad argument, or a file that is not what it claims (the message says where)."""


class NotFound(Error, LookupError):
    """No such file or route; no trail near a point; no path or loop."""


class TooLarge(Error):
    """Over a limit: file size, points, query size."""


class Unavailable(Error):
    """The database lacks what the query needs (a trail graph: re-import)."""


class Corrupt(Error):
    """The database is damaged."""


_stride._set_error_classes({1: InvalidInput, 2: NotFound, 3: Error, 4: Error, 5: TooLarge,
                            6: Unavailable, 7: Corrupt})


class Dem:
    """What `stride analyze --dem` takes (folders of SRTM .hgt tiles or GeoTIFF / VRT rasters,
    or raster files, comma-separated): elevation for tracks without a barometric altimeter."""

    def __init__(self, directory):
        self._dem = _stride.Dem(_os.fspath(directory))

    def unreadable(self):
        """The DEM's files that could not be read when an analysis needed them (damaged, cut
        short): a list of messages naming each file and why. Those analyses took their
        elevation from the recordings; `stride analyze` reports that as an error."""
        return _json.loads(self._dem.unreadable())


def _analysis(source, sport, max_hr, rest_hr, hr_zones, dem, name):
    options = _stride.options(sport=sport, max_hr=max_hr, rest_hr=rest_hr,
                              hr_zones=None if hr_zones is None else list(hr_zones),
                              dem=None if dem is None else dem._dem, name=name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _stride.analyze_buffer(source, options)
    try:
        path = _os.fspath(source)
    except TypeError:
        raise InvalidInput("source: expected a path (str or os.PathLike) or bytes, got "
                           + type(source).__name__, 1) from None
    if isinstance(path, bytes):
        path = _os.fsdecode(path)
    return _stride.analyze_file(path, options)


def analyze(source, *, sport=None, max_hr=None, rest_hr=None, hr_zones=None, dem=None,
            name=None):
    """Analyses a GPX, TCX or FIT recording; returns what `stride analyze --json` prints, as a dict.

    source: a path or the file's bytes (the format is told from the content).
    sport: "run", "walk", "hike" or "ride", overriding the file's (default: the file's, or
        inferred). max_hr, rest_hr: heart rates in bpm for zones and TRIMP (defaults: estimated,
        60). hr_zones: four increasing bpm values, the lower bounds of zones 2-5. dem: a
        stride.Dem. name: the "file" in the result (default: the path, or "" for bytes).
    """
    return _json.loads(_analysis(source, sport, max_hr, rest_hr, hr_zones, dem, name).json)


def analyze_many(sources, *, workers=None, errors="raise", **options):
    """analyze() over many recordings on a pool of threads (the engine runs without the GIL);
    returns the dicts in the order of `sources`.

    workers: threads (default: os.cpu_count()). errors: "raise" (the first failure, in order)
    or "return" (a failed recording's place holds its stride.Error).
    """
    if errors not in ("raise", "return"):
        raise InvalidInput(f"errors: expected 'raise' or 'return', got {errors!r}", 1)
    sources = list(sources)

    def one(source):
        try:
            return analyze(source, **options)
        except Error as e:
            if errors == "raise":
                raise
            return e

    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(workers or _os.cpu_count() or 1) as pool:
        return list(pool.map(one, sources))


def read(source, session=0, *, sport=None, max_hr=None, rest_hr=None, hr_zones=None, dem=None):
    """The cleaned and smoothed streams of one session, as a dict of numpy float64 arrays.

    Keys: time (seconds since 1970), lat, lon (degrees), elevation (m), heart_rate (bpm),
    cadence (rpm), speed (m/s), power (W), distance (metres from the start, as the analysis
    measured it), temperature (C); all of one length, NaN where the recording has no value.
    """
    a = _analysis(source, sport, max_hr, rest_hr, hr_zones, dem, None)
    if not 0 <= session < a.sessions:
        raise InvalidInput(f"session: {session} out of range; the file has {a.sessions}", 1)
    return {name: a.stream(session, k) for k, name in enumerate(STREAMS)}


def _query(params):
    """Keyword parameters as the HTTP API's query: True -> "true", lists joined by commas."""
    items = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        items.append((key, value))
    return _urlencode(items)


def _bytes_of(track):
    if isinstance(track, (bytes, bytearray, memoryview)):
        return bytes(track)
    if isinstance(track, dict):
        return _json.dumps(track).encode()
    with open(track, "rb") as f:
        return f.read()


class Database:
    """A route database `stride import` made, opened read-only. Safe to share between threads.

    Every query takes the HTTP API's parameters as keywords (limit=, cursor=, type="hiking",
    min_length_m=, format="geojson", avoid_steps=True, ...) and returns its answer as a dict.
    """

    def __init__(self, path):
        self._db = _stride.Database(_os.fspath(path))

    def close(self):
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def routes(self, bbox, **params):
        """GET /v1/routes: routes crossing bbox = (min_lon, min_lat, max_lon, max_lat)."""
        w, s, e, n = bbox
        return _json.loads(self._db.routes(w, s, e, n, _query(params)))

    def nearest(self, lat, lon, **params):
        """GET /v1/routes/nearest: the k (default 10) routes nearest a point."""
        return _json.loads(self._db.nearest(lat, lon, _query(params)))

    def route(self, route_id, **params):
        """GET /v1/routes/{id}: a route with its geometry and profile."""
        return _json.loads(self._db.route(str(route_id), _query(params)))

    def profile(self, route_id):
        """GET /v1/routes/{id}/profile."""
        return _json.loads(self._db.profile(str(route_id)))

    def directions(self, start, end, **params):
        """GET /v1/directions: a walk from start to end, each (lat, lon)."""
        return _json.loads(self._db.directions(start[0], start[1], end[0], end[1],
                                               _query(params)))

    def loop(self, lat, lon, distance_m, **params):
        """GET /v1/loops: round walks of about distance_m from a point."""
        return _json.loads(self._db.loop(lat, lon, distance_m, _query(params)))

    def match(self, track, **params):
        """POST /v1/match: a recording (path or bytes) or GeoJSON (dict) matched to the trails."""
        return _json.loads(self._db.match(_bytes_of(track), _query(params)))
