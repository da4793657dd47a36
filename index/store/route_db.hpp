// SPDX-License-Identifier: Apache-2.0
//
// The route database on disk: RocksDB with the column families of index/store/FORMAT.md.
//
// RouteDbBuilder builds a whole database from an import. It writes into a new directory next
// to the target (`DIR.import-PID`): routes and trail edges stream in id order into sorted
// SST files (SstFileWriter), summaries and edge cells are sorted in memory and written the
// same way, everything is ingested (IngestExternalFile, files moved, not copied), the meta
// family gets the schema version and import manifest, and only then does Commit() put the
// new directory in place of DIR: an atomic directory exchange (renameat2 RENAME_EXCHANGE),
// after which the old database lives on as `DIR.previous` until the next import. A process
// serving DIR keeps reading the files it has open; nothing is ever written into DIR itself.
// A builder destroyed without Commit() removes its directory: a failed import leaves nothing;
// nor does one interrupted by a signal, when its command calls AbandonBuilds() (below).
//
// RouteDb opens a database read-only (any number of processes may) and implements
// engine::RouteStore.
//
// Thread-safety: RouteDb is safe for concurrent reads. RouteDbBuilder is single-threaded.
//
//   Result<std::unique_ptr<RouteDbBuilder>> b = RouteDbBuilder::Create("/srv/stride/db");
//   ImportOsm(options, **b);  (*b)->Commit(manifest_json);
//   Result<std::unique_ptr<RouteDb>> db = RouteDb::Open("/srv/stride/db");
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/route/route_store.hpp"
#include "engine/status.hpp"
#include "engine/trail/graph.hpp"
#include "engine/trail/hierarchy.hpp"
#include "index/store/files.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class SstFileWriter;
}  // namespace rocksdb

namespace stride::index {

inline constexpr int kSchemaVersion = 1;
inline constexpr const char* kFamilyMeta = "meta";
inline constexpr const char* kFamilyRoutes = "routes";
inline constexpr const char* kFamilySummaries = "route_summaries";
inline constexpr const char* kFamilyTrailGraph = "trail_graph";
// The routable trail graph (engine/trail/graph.hpp), a file beside the RocksDB files, written
// before the directory is switched into place like everything else.
inline constexpr const char* kTrailGraphFile = "trail.graph";
// Meta: the SHA-256 (hex) of what the contraction hierarchy was built from
// (engine::trail::ContractionInput), so the next build knows when it may keep it.
inline constexpr const char* kMetaContractionInput = "contraction_input_sha256";
// Meta: how far the hierarchy's node order has drifted from the network (decimal): the share
// of its nodes that, over the updates since the order was last computed by priority, were
// contracted in an order inherited without a place of their own (RouteDbBuilder::
// InheritHierarchyOrder). "0" after a build by priority; absent before updates inherited orders.
inline constexpr const char* kMetaHierarchyOrderDrift = "hierarchy_order_drift";

// One import or update of a database at a time: an exclusive lock (flock) on DIR.lock beside
// it, which the system releases when its holder exits, however it exits. The holder removes
// DIR.lock as it lets go (one killed leaves it, and the next command takes it over), so none
// is left beside a database, or beside nothing after an import that failed. Two commands building
// one database would each start from what they read first, and the one switched in last would
// drop the other's changes (an update of a country takes minutes: a minutely cron overlaps).
// stride import and stride update take it; other RouteDbBuilder users (tests, generators)
// manage their own directories. Move-only; the lock is released when it is destroyed.
class DbLock {
 public:
  // Fails (kUnavailable, naming the holder's process id) when another process holds it;
  // kIoError when DIR.lock cannot be created.
  static Result<DbLock> Acquire(const std::string& db_path);
  DbLock(DbLock&& other) noexcept;
  DbLock& operator=(DbLock&& other) noexcept;
  DbLock(const DbLock&) = delete;
  DbLock& operator=(const DbLock&) = delete;
  ~DbLock();

 private:
  DbLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void Release();
  int fd_ = -1;
  std::string path_;  // DIR.lock
};

// For a command stopped by a signal (stride import, stride update): removes the build
// directories of this process's builders and keeps every one of them from being switched in
// afterwards, and removes the DIR.lock files it holds (DbLock); the caller then exits (which
// releases those locks). A switch already under way finishes first, so DIR is the
// old database or the new one, never neither. True when one of this process's builds had been
// switched in before (its message should not say DIR is as it was). Thread-safe, not
// async-signal-safe: call it from a thread that waited for the signal (sigwait), not from a
// handler.
bool AbandonBuilds();

class RouteDbBuilder : public engine::MapSink {
 public:
  // Fails when DIR exists and is neither an empty directory nor a route database, or when
  // the directory beside it cannot be written.
  static Result<std::unique_ptr<RouteDbBuilder>> Create(const std::string& db_path);
  // Create's checks of DIR alone (nothing is written): for a caller that locks DIR first.
  static Status CheckTarget(const std::string& db_path);
  // Creates the directories above DIR that are missing (as mkdir -p does), so that
  // `--db data/new/db` works on a fresh machine; DIR itself is made by the build. Fails
  // naming the directory that could not be made.
  static Status CreateParents(const std::string& db_path);
  ~RouteDbBuilder() override;

  Status AddRoute(const engine::Route& route) override;
  Status AddEdge(const engine::TrailEdge& edge) override;
  void ExpectEdges(size_t edges, size_t points) override { graph_.Reserve(edges, points); }

  // Scratch space for the import (removed with the build directory).
  const std::string& build_dir() const { return build_dir_; }
  uint64_t routes() const { return routes_; }
  uint64_t edges() const { return edges_; }

  // Builds the routable trail graph from the edges and routes added so far, with its
  // contraction hierarchy (engine/trail/hierarchy.hpp; `progress` as HierarchyOptions's).
  // When the database this build replaces has a hierarchy built from the same nodes, arcs and
  // costs (engine::trail::ContractionInput: an update that renamed ways, or changed no
  // trail), that one is kept, byte for byte what contracting again would give (stats.reused).
  // Optional: Commit builds it when this was not called; call it to time and report it.
  // `out_of_memory`: a memory budget (HierarchyOptions::out_of_memory), or null. `threads`:
  // HierarchyOptions::threads (the hierarchy is the same whatever the count).
  // When the hierarchy of the database this build replaces cannot be kept (the network
  // changed), contract in its node order (engine::trail::InheritedOrder: nodes matched by way,
  // then by position, new ones first) instead of computing priorities, while the order's drift
  // (kMetaHierarchyOrderDrift: its value in the database replaced plus this build's share of
  // unmatched nodes) stays at most `max_drift`; past it, or with 0 (the default, a fresh
  // import's behaviour), by priority. Skips most of a contraction's time (the priority
  // estimates) for an update whose changes are small; the hierarchy answers the same costs,
  // with somewhat more shortcuts than one ordered afresh, and is not byte for byte the one a
  // fresh import builds (the network still is). Call before BuildTrailGraph.
  void InheritHierarchyOrder(double max_drift) { max_drift_ = max_drift; }
  // The drift recorded with this build (kMetaHierarchyOrderDrift), once the trail graph is built.
  double hierarchy_order_drift() const { return drift_; }

  engine::trail::HierarchyStats BuildTrailGraph(
      const std::function<void(size_t, size_t)>& progress = nullptr,
      const std::function<bool(size_t)>& out_of_memory = nullptr, int threads = 1);

  // Ingests everything, stores `meta` (key, value) pairs with the schema version, writes the
  // routable trail graph (kTrailGraphFile), closes the database and switches it into place.
  Status Commit(const std::vector<std::pair<std::string, std::string>>& meta);
  // Bytes of the committed database (SST, manifest and log files).
  uint64_t committed_bytes() const { return committed_bytes_; }

 private:
  RouteDbBuilder() = default;
  Status OpenWriter(std::unique_ptr<rocksdb::SstFileWriter>& w, rocksdb::ColumnFamilyHandle* cf,
                    const std::string& name);
  // What the database at db_path_ (the one this build replaces) recorded of its hierarchy,
  // read in one opening: kMetaContractionInput ("" when absent) and kMetaHierarchyOrderDrift
  // (0 when absent or unreadable).
  struct ReplacedMeta {
    std::string contraction_input;
    double drift = 0;
  };
  ReplacedMeta ReadReplacedMeta() const;
  // The hierarchy of the database at db_path_ when it fits built_graph_; null otherwise.
  std::shared_ptr<const engine::trail::Hierarchy> ReusableHierarchy(
      const ReplacedMeta& replaced) const;
  // The order to contract built_graph_ in, inherited from the hierarchy of the database at
  // db_path_ (InheritHierarchyOrder), and the drift it brings; nullopt to order by priority.
  std::optional<std::pair<std::vector<uint32_t>, double>> InheritableOrder(
      const ReplacedMeta& replaced) const;

  std::string db_path_, build_dir_, sst_dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;  // meta, routes, summaries, trail_graph
  std::unique_ptr<rocksdb::SstFileWriter> routes_writer_, edges_writer_;
  std::vector<std::pair<std::string, std::string>> summaries_;
  std::vector<std::pair<uint32_t, uint64_t>> edge_cells_;
  uint64_t last_route_ = 0, last_edge_ = 0, routes_ = 0, edges_ = 0;
  uint64_t committed_bytes_ = 0;
  bool committed_ = false;
  engine::trail::GraphBuilder graph_;
  std::optional<engine::trail::TrailGraph> built_graph_;
  // kTrailGraphFile with built_graph_'s network written, its hierarchy to come (Commit).
  std::optional<AtomicFileWriter> graph_file_;
  std::string contraction_input_;  // hex SHA-256 of built_graph_'s ContractionInput
  double max_drift_ = 0;           // InheritHierarchyOrder's
  double drift_ = 0;               // kMetaHierarchyOrderDrift of this build
  bool drift_known_ = false;       // drift_ is set (BuildTrailGraph ran)
};

class RouteDb : public engine::RouteStore {
 public:
  // Read-only. NotFound when there is no database at `path`; InvalidArgument when it is not a
  // Stride route database or its schema version is newer than this build understands.
  static Result<std::unique_ptr<RouteDb>> Open(const std::string& path);
  ~RouteDb() override;

  Result<engine::Route> GetRoute(uint64_t id) const override;
  Status ForEachSummary(const std::function<void(const engine::RouteSummary&)>& fn) const override;

  // Every stored route record as bytes, in id order (for checks and exports).
  Status ForEachRouteRecord(
      const std::function<void(uint64_t id, std::string_view bytes)>& fn) const;

  Result<engine::TrailEdge> GetEdge(uint64_t id) const;
  // Ids of edges filed under the cells that `box` overlaps (candidates: callers test the
  // geometry), sorted and unique. InvalidArgument when the box spans too many cells.
  Result<std::vector<uint64_t>> EdgeCandidates(const engine::BoxE7& box) const;
  Status ForEachEdge(const std::function<void(const engine::TrailEdge&)>& fn) const;

  // A meta value; NotFound when absent.
  Result<std::string> GetMeta(const std::string& key) const;
  // Every meta (key, value) whose key starts with `prefix`, in key order.
  std::vector<std::pair<std::string, std::string>> MetaWithPrefix(const std::string& prefix) const;
  // RocksDB's estimate of the keys in a family ("routes", ...).
  uint64_t EstimateKeys(const std::string& family) const;
  const std::string& path() const { return path_; }

 private:
  RouteDb() = default;
  rocksdb::ColumnFamilyHandle* Family(const std::string& name) const;

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  std::vector<std::string> cf_names_;
};

}  // namespace stride::index
