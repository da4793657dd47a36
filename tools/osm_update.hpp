// SPDX-License-Identifier: Apache-2.0
//
// `stride update --db DIR --osc FILE [--osc FILE ...] [--state state.txt] [--threads N]
//  [--max-order-drift PERCENT] [--quiet]`
//
// Applies OpenStreetMap change files (.osc, .osc.gz, .osc.bz2: the replication diffs osmosis
// and osmium write, minutely to daily, or `osmium derive-changes` between two extracts) to a
// database imported with `stride import --updatable`, which keeps its extract in DIR/update/.
//
// How: the extract and the changes are merged object by object (the newest version of each
// object wins; a deletion removes it), streaming the extract and holding only the changes in
// memory, into a new extract in the new database's build directory; the database is then
// rebuilt from it with the options of its import (DEM, minimum trail length, node index) and
// switched into place like an import, so a running `stride serve` picks it up without a restart.
// The result is by construction what a fresh import of the updated extract gives, route by route
// and edge by edge (the tests check it on real diffs). Trade-off: an update costs a full import's
// time (Andorra 0.6 s; a continent, what its import takes); re-assembling only the routes and
// edges a diff touches is left for later. The contraction hierarchy, most of that time on a
// large map, is spared where it can be: kept when the walkable network and its costs are
// unchanged; otherwise contracted in the node order of the hierarchy replaced (new junctions
// first; index::RouteDbBuilder::InheritHierarchyOrder), which skips the priority estimates,
// while the nodes that order had no place for stay within --max-order-drift (0.5 % by default,
// summed over updates), then ordered afresh. An inherited order gives a hierarchy that answers
// the same costs but is not byte for byte a fresh import's (meta import.hierarchy "inherited";
// --max-order-drift 0 always orders afresh). On the generated 10^7-node map a minutely diff
// took 47 s instead of 87 s, its hierarchy 33 s instead of 73 s (bench/README).
//
// Refused with a clear message (exit 1, the database unchanged): a database not imported with
// --updatable; a change file already applied (its SHA-256 is recorded); a change file holding an
// object the database already has at that version or a newer one (the same diff again, or an
// older one), naming the first; changes of which none is newer than the data (without
// --state); with --state, a sequence number not after the recorded one.
// Recorded in the database's meta ("update"): the replication sequence number and timestamp
// (from --state, else the newest object timestamp), and every applied file with its counts.
//
// Thread-safety: a command; one import or update of a database at a time, enforced by
// index::DbLock (a second is refused while the first runs).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "engine/status.hpp"

namespace stride::tools {

// Copies the extract `input` into build_dir/update/ (the file a later update applies diffs to);
// returns the copy's path.
Result<std::string> KeepSource(const std::string& build_dir, const std::string& input);

struct ChangeCounts {
  uint64_t created = 0;   // objects the extract did not have
  uint64_t modified = 0;  // new versions of objects it had
  uint64_t deleted = 0;   // objects it had, removed
  std::string newest;     // the newest object timestamp of the changes (ISO 8601), or ""
};

// Writes `source` with `changes` applied to `out`, an .osm.pbf with LZ4 blocks instead of
// zlib's: on a 10^7-node map this step took 1.5 s instead of 4.6 s, and the update's two
// passes over the file 1.7 s instead of 2.2 s; the file is 29 % larger; osmium-tool reads it.
// Fails (writing nothing usable) when the source is not sorted by type and id, when a change
// file cannot be read, or (kAlreadyExists, naming it) when a change is not newer than what the
// source holds. Unless `sequenced` (the diffs' order is known from replication sequence
// numbers), it also fails when no change is newer than the data: the newest object timestamp
// of the source and `data_timestamp` (ISO 8601, "" for none), which catches an old diff that
// only re-creates objects deleted since.
Result<ChangeCounts> ApplyChanges(const std::string& source,
                                  const std::vector<std::string>& changes, const std::string& out,
                                  const std::string& data_timestamp = "", bool sequenced = false);

int RunUpdate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace stride::tools
