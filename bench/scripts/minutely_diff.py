#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Writes an OpenStreetMap change file the size of a minutely replication diff (about 1,000
# changes) against an extract whose objects are all at version 1 (what datasets/gen_osm
# writes): ways renamed, ways deleted, nodes of other ways moved a few metres, and new ways of
# new nodes joined to the network. The mix follows a minutely diff's (mostly modifications,
# some creations, few deletions); which objects is drawn from SEED, so a run is repeatable.
# Reads the extract with osmium-tool (Debian's `osmium cat` and `osmium getid`).
#
#   minutely_diff.py EXTRACT.osm.pbf OUT.osc [--changes 1000] [--seed 1] [--mix renames]
#
# Prints one line: the counts written.
import argparse
import math
import random
import re
import subprocess
import sys
import tempfile
from xml.sax.saxutils import quoteattr

STAMP = "2026-01-01T00:01:00Z"  # one minute after gen_osm's data


def opl_unescape(s):
    return re.sub(r"%([0-9a-fA-F]+)%", lambda m: chr(int(m.group(1), 16)), s)


def parse_way(line):
    f = line.split(" ")
    wid = int(f[0][1:])
    tags, nodes = {}, []
    for field in f[1:]:
        if field.startswith("T") and len(field) > 1:
            for kv in field[1:].split(","):
                k, _, v = kv.partition("=")
                tags[opl_unescape(k)] = opl_unescape(v)
        elif field.startswith("N") and len(field) > 1:
            nodes = [int(n[1:]) for n in field[1:].split(",")]
    return wid, tags, nodes


def way_xml(wid, version, tags, nodes):
    out = [f'    <way id="{wid}" version="{version}" timestamp="{STAMP}">']
    out += [f'      <nd ref="{n}"/>' for n in nodes]
    out += [f"      <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
    out.append("    </way>")
    return "\n".join(out)


def node_xml(nid, version, lat, lon):
    return (f'    <node id="{nid}" version="{version}" timestamp="{STAMP}" '
            f'lat="{lat:.7f}" lon="{lon:.7f}"/>')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("extract")
    ap.add_argument("out")
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    # network: the mix below, which changes the walkable network; renames: only ways renamed,
    # a diff that leaves the network and its costs as they were (stride update then keeps
    # the contraction hierarchy).
    ap.add_argument("--mix", choices=["network", "renames"], default="network")
    a = ap.parse_args()
    rng = random.Random(a.seed)

    ways = subprocess.run(["osmium", "cat", "-t", "way", "-f", "opl", a.extract],
                          check=True, capture_output=True, text=True).stdout.splitlines()
    if not ways:
        sys.exit(f"minutely_diff: {a.extract} has no ways")
    # The mix: 25 % ways renamed, 5 % deleted, 60 % nodes moved (6 per way), 10 % created
    # (new ways of four new nodes: five objects each).
    n_rename = a.changes // 4 if a.mix == "network" else a.changes
    n_delete = a.changes // 20 if a.mix == "network" else 0
    n_create_ways = a.changes // 50 if a.mix == "network" else 0
    n_move = a.changes - n_rename - n_delete - 5 * n_create_ways
    picked = rng.sample(range(len(ways)), n_rename + n_delete + n_move // 6 + 1 + n_create_ways)
    parsed = [parse_way(ways[i]) for i in picked]
    renamed = parsed[:n_rename]
    deleted = parsed[n_rename:n_rename + n_delete]
    movers = parsed[n_rename + n_delete:n_rename + n_delete + n_move // 6 + 1]
    anchors = parsed[len(parsed) - n_create_ways:]

    # Nodes to move: interior nodes of the mover ways (the ends are junctions, kept in place).
    move_ids = []
    for _, _, nodes in movers:
        interior = nodes[1:-1]
        move_ids += rng.sample(interior, min(6, len(interior)))
    move_ids = move_ids[:n_move]
    anchor_ids = [nodes[0] for _, _, nodes in anchors]
    got = []
    if move_ids or anchor_ids:  # (none with --mix renames; osmium getid refuses no ids)
        with tempfile.NamedTemporaryFile("w", suffix=".ids") as ids:
            ids.write("\n".join(f"n{i}" for i in move_ids + anchor_ids) + "\n")
            ids.flush()
            got = subprocess.run(["osmium", "getid", "-f", "opl", "-i", ids.name, a.extract],
                                 check=True, capture_output=True, text=True).stdout.splitlines()
    where = {}
    for line in got:
        f = line.split(" ")
        x = next(v[1:] for v in f if v.startswith("x"))
        y = next(v[1:] for v in f if v.startswith("y"))
        where[int(f[0][1:])] = (float(y), float(x))

    modify, create, delete = [], [], []
    for nid in move_ids:  # moved 3 to 15 m in a random direction
        lat, lon = where[nid]
        d, b = rng.uniform(3, 15), rng.uniform(0, 2 * math.pi)
        lat += d * math.cos(b) / 111195.0
        lon += d * math.sin(b) / (111195.0 * math.cos(math.radians(lat)))
        modify.append(node_xml(nid, 2, lat, lon))
    for wid, tags, nodes in renamed:
        tags = dict(tags)
        tags["name"] = f"Renamed trail {wid}"
        modify.append(way_xml(wid, 2, tags, nodes))
    for wid, _, _ in deleted:
        delete.append(f'    <way id="{wid}" version="2" timestamp="{STAMP}"/>')
    next_node, next_way = 20_000_000_000, 20_000_000_000  # above anything gen_osm writes
    for (_, tags, _), anchor in zip(anchors, anchor_ids):
        lat, lon = where[anchor]
        chain = [anchor]
        b = rng.uniform(0, 2 * math.pi)
        for k in range(1, 5):  # a 200 m spur of four new nodes from an existing junction
            create.append(node_xml(next_node, 1, lat + 50 * k * math.cos(b) / 111195.0,
                                   lon + 50 * k * math.sin(b) /
                                   (111195.0 * math.cos(math.radians(lat)))))
            chain.append(next_node)
            next_node += 1
        create.append(way_xml(next_way, 1, {"highway": tags.get("highway", "path"),
                                            "name": f"New spur {next_way}"}, chain))
        next_way += 1

    with open(a.out, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                  '<osmChange version="0.6" generator="stride bench minutely_diff.py">\n')
        for name, block in (("modify", modify), ("create", create), ("delete", delete)):
            if block:
                out.write(f"  <{name}>\n" + "\n".join(block) + f"\n  </{name}>\n")
        out.write("</osmChange>\n")
    print(f"{a.out}: {len(modify) + len(create) + len(delete)} changes "
          f"({len(move_ids)} nodes moved, {len(renamed)} ways renamed, {len(deleted)} deleted, "
          f"{len(create)} objects created)")


if __name__ == "__main__":
    main()
