// SPDX-License-Identifier: Apache-2.0
#include "index/store/route_db.hpp"

#include <fcntl.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <utility>

#include "engine/hex.hpp"
#include "engine/sha256.hpp"
#include "index/store/files.hpp"
#include "index/store/keys.hpp"
#include "index/store/record_codec.hpp"
#include "index/store/rocks_status.hpp"

namespace stride::index {
namespace fs = std::filesystem;
namespace {

// Positions in FamilyNames(), and so in every handle vector opened from it.
enum Cf : size_t { kCfDefault = 0, kCfMeta, kCfRoutes, kCfSummaries, kCfTrailGraph };

const std::vector<std::string>& FamilyNames() {
  static const std::vector<std::string> kNames = {rocksdb::kDefaultColumnFamilyName, kFamilyMeta,
                                                  kFamilyRoutes, kFamilySummaries,
                                                  kFamilyTrailGraph};
  return kNames;
}

rocksdb::CompressionType BestCompression() {
  const std::vector<rocksdb::CompressionType> have = rocksdb::GetSupportedCompressions();
  for (rocksdb::CompressionType c : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(have.begin(), have.end(), c) != have.end()) return c;
  }
  return rocksdb::kNoCompression;
}

// One set of options for every family: LZ4 blocks of 16 KiB, a bloom filter for point
// lookups of routes and edges, index and filter blocks in the block cache.
rocksdb::Options FamilyOptions() {
  rocksdb::Options o;
  o.compression = BestCompression();
  rocksdb::BlockBasedTableOptions t;
  t.block_size = 16 * 1024;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

std::vector<rocksdb::ColumnFamilyDescriptor> Descriptors() {
  const rocksdb::Options o = FamilyOptions();
  std::vector<rocksdb::ColumnFamilyDescriptor> d;
  for (const std::string& name : FamilyNames()) {
    d.emplace_back(name, rocksdb::ColumnFamilyOptions(o));
  }
  return d;
}

// The database directory as every name beside it is made from: "a/./db/" -> "a/db".
fs::path NormalDbPath(const std::string& db_path) {
  fs::path db = fs::path(db_path).lexically_normal();
  if (db.filename().empty()) db = db.parent_path();  // trailing slash
  return db;
}

bool ProcessAlive(long pid) {
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// Removes build directories of imports that died (their process is gone).
void RemoveStaleBuilds(const fs::path& db) {
  std::error_code ec;
  const fs::path parent = db.parent_path().empty() ? fs::path(".") : db.parent_path();
  const std::string prefix = db.filename().string() + ".import-";
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    char* stop = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &stop, 10);
    // (DIR.import-PID.interrupted: one that AbandonBuilds could not remove whole)
    const bool ends = stop && (*stop == '\0' || std::strcmp(stop, ".interrupted") == 0);
    if (ends && pid > 0 && !ProcessAlive(pid)) fs::remove_all(it->path(), ec);
  }
}

// The build directories of this process's builders not yet switched in or removed, for
// AbandonBuilds(). Commit's switch holds the mutex, so an abandon waits for it to finish.
struct ActiveBuilds {
  std::mutex mu;
  std::set<std::string> dirs;
  bool abandoned = false;
  bool switched = false;        // a build was switched in
  std::set<std::string> locks;  // the DIR.lock files this process holds (DbLock)
};
ActiveBuilds& Active() {
  static ActiveBuilds* a = new ActiveBuilds();  // never destroyed: used until _Exit
  return *a;
}

uint64_t DirectoryBytes(const fs::path& dir) {
  uint64_t sum = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) sum += it->file_size(ec);
  }
  return sum;
}

// Hex SHA-256 of what the graph's hierarchy is contracted from (kMetaContractionInput).
std::string ContractionInputDigest(const engine::trail::TrailGraph& g) {
  engine::Sha256Stream sha;
  engine::trail::ContractionInput(g, [&sha](std::string_view bytes) { sha.Update(bytes); });
  return engine::HexEncode(sha.Finish());
}

}  // namespace

// ---- builder -------------------------------------------------------------------------------

Status RouteDbBuilder::CheckTarget(const std::string& db_path) {
  if (db_path.empty()) return Status::InvalidArgument("--db: empty path");
  const fs::path db = NormalDbPath(db_path);
  std::error_code ec;
  if (fs::exists(db, ec)) {
    if (!fs::is_directory(db, ec)) {
      return Status::InvalidArgument("--db " + db.string() + ": exists and is not a directory");
    }
    if (!fs::is_empty(db, ec) && !fs::exists(db / "CURRENT", ec)) {
      return Status::InvalidArgument("--db " + db.string() +
                                     ": exists and is not a route database (no RocksDB CURRENT "
                                     "file); refusing to replace it");
    }
  }
  return Status::Ok();
}

Status RouteDbBuilder::CreateParents(const std::string& db_path) {
  const std::string db = NormalDbPath(db_path).string();
  return CreateParentDirectories(db, "--db " + db + ": ");
}

Result<std::unique_ptr<RouteDbBuilder>> RouteDbBuilder::Create(const std::string& db_path) {
  STRIDE_RETURN_IF_ERROR(CheckTarget(db_path));
  const fs::path db = NormalDbPath(db_path);
  std::error_code ec;
  RemoveStaleBuilds(db);
  std::unique_ptr<RouteDbBuilder> b(new RouteDbBuilder());
  b->db_path_ = db.string();
  {
    std::lock_guard lock(Active().mu);
    if (Active().abandoned) return Status::Unavailable("--db " + db.string() + ": interrupted");
    b->build_dir_ = db.string() + ".import-" + std::to_string(::getpid());
    Active().dirs.insert(b->build_dir_);
  }
  b->sst_dir_ = b->build_dir_ + "/import-scratch";
  fs::remove_all(b->build_dir_, ec);
  if (!fs::create_directories(b->sst_dir_, ec)) {
    return Status::IoError("--db " + db.string() + ": cannot create the build directory " +
                           b->build_dir_ + ": " + ec.message());
  }
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(dbo, b->build_dir_, Descriptors(), &b->cfs_, &raw);
  if (!s.ok()) {
    fs::remove_all(b->build_dir_, ec);
    return FromRocks(s, "--db " + db.string() + ": cannot create the database");
  }
  b->db_.reset(raw);
  STRIDE_RETURN_IF_ERROR(b->OpenWriter(b->routes_writer_, b->cfs_[kCfRoutes], "routes.sst"));
  STRIDE_RETURN_IF_ERROR(b->OpenWriter(b->edges_writer_, b->cfs_[kCfTrailGraph], "edges.sst"));
  return b;
}

RouteDbBuilder::~RouteDbBuilder() {
  routes_writer_.reset();
  edges_writer_.reset();
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
    db_->Close().PermitUncheckedError();
    db_.reset();
  }
  if (!committed_ && !build_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(build_dir_, ec);
  }
  if (!build_dir_.empty()) {
    std::lock_guard lock(Active().mu);
    Active().dirs.erase(build_dir_);
  }
}

Result<DbLock> DbLock::Acquire(const std::string& db_path) {
  const fs::path db = NormalDbPath(db_path);
  const std::string path = db.string() + ".lock";
  // A holder removes the file as it lets go, so a command that opened it just before locks a
  // file no longer at the path: it checks that the path still names what it locked, and if
  // not opens again (a few times: each round means another command finished meanwhile).
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::IoError("--db " + db.string() + ": cannot create the lock file " + path +
                             ": " + std::strerror(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      char pid[32] = {};
      const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
      ::close(fd);
      if (e != EWOULDBLOCK) {
        return Status::IoError("--db " + db.string() + ": cannot lock " + path + ": " +
                               std::strerror(e));
      }
      std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : "";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
        holder.pop_back();
      }
      return Status::Unavailable("--db " + db.string() +
                                 ": another import or update of it is running" +
                                 (holder.empty() ? "" : " (process " + holder + ")") +
                                 "; one at a time: try again when it has finished");
    }
    struct stat held = {};
    struct stat named = {};
    const bool same = ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 &&
                      held.st_dev == named.st_dev && held.st_ino == named.st_ino;
    if (!same) {
      ::close(fd);
      if (attempt < 8) continue;
      return Status::Unavailable("--db " + db.string() + ": " + path +
                                 " keeps being replaced; try again");
    }
    // The pid is only for the message of a second command; the lock holds without it, so a
    // failure to write it is not an error.
    const std::string me = std::to_string(::getpid()) + "\n";
    [[maybe_unused]] const bool pid_written =
        ::ftruncate(fd, 0) == 0 &&
        ::pwrite(fd, me.data(), me.size(), 0) == static_cast<ssize_t>(me.size());
    {
      std::lock_guard held_here(Active().mu);
      Active().locks.insert(path);
    }
    return DbLock(fd, path);
  }
}

DbLock::DbLock(DbLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

DbLock& DbLock::operator=(DbLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

DbLock::~DbLock() {
  Release();
}

void DbLock::Release() {
  if (fd_ < 0) return;
  {
    std::lock_guard held_here(Active().mu);
    Active().locks.erase(path_);
  }
  ::unlink(path_.c_str());  // while still held: see Acquire
  ::close(fd_);             // releases the flock
  fd_ = -1;
}

bool AbandonBuilds() {
  ActiveBuilds& a = Active();
  a.mu.lock();  // held until the process exits: nothing is switched in after this
  a.abandoned = true;
  const std::set<std::string> dirs = a.dirs;
  for (const std::string& dir : dirs) {
    // The import's threads may still be writing into it: moved aside first (a file opened by
    // its path from now on fails), then removed; a few tries for files that appear meanwhile.
    std::error_code ec;
    const std::string doomed = dir + ".interrupted";
    const std::string& gone = ::rename(dir.c_str(), doomed.c_str()) == 0 ? doomed : dir;
    for (int attempt = 0; attempt < 5 && fs::exists(gone, ec); ++attempt) fs::remove_all(gone, ec);
  }
  // Once more, for a directory a thread made again meanwhile (the build's first one, made just
  // after it was registered, or RocksDB's): the caller exits next, which leaves a thread only
  // that moment to make one.
  std::error_code ec;
  for (const std::string& dir : dirs) fs::remove_all(dir, ec);
  a.dirs.clear();
  // The locks go as a DbLock lets go (the process exits next, which releases them): no
  // DIR.lock is left beside DIR or beside nothing.
  for (const std::string& lock : a.locks) ::unlink(lock.c_str());
  return a.switched;
}

Status RouteDbBuilder::OpenWriter(std::unique_ptr<rocksdb::SstFileWriter>& w,
                                  rocksdb::ColumnFamilyHandle* cf, const std::string& name) {
  w = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), FamilyOptions(), cf);
  return FromRocks(w->Open(sst_dir_ + "/" + name), "cannot write " + sst_dir_ + "/" + name);
}

Status RouteDbBuilder::AddRoute(const engine::Route& route) {
  const uint64_t id = route.summary.id;
  if (routes_ > 0 && id <= last_route_) {
    return Status::Internal("route ids must increase: " + std::to_string(id) + " after " +
                            std::to_string(last_route_));
  }
  last_route_ = id;
  STRIDE_RETURN_IF_ERROR(FromRocks(routes_writer_->Put(RouteKey(id), EncodeRoute(route)),
                                   "writing route " + std::to_string(id)));
  summaries_.emplace_back(SummaryKey(route.summary), EncodeSummary(route.summary));
  graph_.AddRoute(route);
  ++routes_;
  return Status::Ok();
}

Status RouteDbBuilder::AddEdge(const engine::TrailEdge& edge) {
  if (edges_ > 0 && edge.id <= last_edge_) {
    return Status::Internal("edge ids must increase: " + std::to_string(edge.id));
  }
  last_edge_ = edge.id;
  STRIDE_RETURN_IF_ERROR(FromRocks(edges_writer_->Put(EdgeKey(edge.id), EncodeEdge(edge)),
                                   "writing trail edge " + std::to_string(edge.id)));
  engine::BoxE7 box;
  for (const engine::PointE7& p : edge.points) box.Extend(p);
  for (uint32_t cell : CellsForBox(box, 1 << 20)) edge_cells_.emplace_back(cell, edge.id);
  graph_.AddEdge(edge);
  ++edges_;
  return Status::Ok();
}

engine::trail::HierarchyStats RouteDbBuilder::BuildTrailGraph(
    const std::function<void(size_t, size_t)>& progress,
    const std::function<bool(size_t)>& out_of_memory, int threads) {
  built_graph_ = std::move(graph_).Build(/*snap_index=*/false);  // contracted and written only
  graph_ = engine::trail::GraphBuilder();
  // The network is written now, and the graph then keeps only what contraction reads: the
  // shapes, elevations and names are not held through the contraction, which sets the
  // import's peak on large maps (10^8 nodes: 1.4 GiB of the 2.1 GiB network). Should the
  // write fail (a full disk), the graph stays whole and Commit writes it, reporting why.
  Result<AtomicFileWriter> file =
      AtomicFileWriter::Create(build_dir_ + "/" + kTrailGraphFile, 0644);
  if (file.ok() &&
      file->Append([&](const ByteSink& out) { built_graph_->SerializeNetworkTo(out); }).ok()) {
    graph_file_.emplace(std::move(*file));
    // The edges' ways stay when an order may be inherited: InheritedOrder matches junctions
    // by way (8 bytes an edge).
    std::vector<uint64_t> ways;
    if (max_drift_ > 0) ways = std::move(built_graph_->edge_way);
    built_graph_->KeepOnlyWhatContractionReads();
    built_graph_->edge_way = std::move(ways);
  }
  engine::trail::HierarchyOptions options;
  options.progress = progress;
  options.out_of_memory = out_of_memory;
  options.threads = threads;
  options.index_by_rank = false;  // written, not searched: `stride serve` indexes it when it reads
  engine::trail::HierarchyStats stats;
  contraction_input_ = ContractionInputDigest(*built_graph_);
  drift_known_ = true;
  const ReplacedMeta replaced = ReadReplacedMeta();
  if (std::shared_ptr<const engine::trail::Hierarchy> kept = ReusableHierarchy(replaced)) {
    built_graph_->hierarchy = std::move(kept);
    drift_ = replaced.drift;  // the order kept with it
    stats.reused = true;
    if (progress) progress(built_graph_->nodes(), built_graph_->nodes());
    return stats;
  }
  drift_ = 0;
  if (max_drift_ > 0) {
    if (auto inherited = InheritableOrder(replaced)) {
      options.order = std::move(inherited->first);
      drift_ = inherited->second;
    }
    if (graph_file_) std::vector<uint64_t>().swap(built_graph_->edge_way);  // written already
  }
  built_graph_->hierarchy = std::make_shared<const engine::trail::Hierarchy>(
      engine::trail::BuildHierarchy(*built_graph_, options, &stats));
  return stats;
}

RouteDbBuilder::ReplacedMeta RouteDbBuilder::ReadReplacedMeta() const {
  ReplacedMeta m;
  Result<std::unique_ptr<RouteDb>> old = RouteDb::Open(db_path_);
  if (!old.ok()) return m;  // none (a first import), or unreadable
  if (Result<std::string> digest = (*old)->GetMeta(kMetaContractionInput); digest.ok()) {
    m.contraction_input = std::move(*digest);
  }
  if (Result<std::string> drift = (*old)->GetMeta(kMetaHierarchyOrderDrift); drift.ok()) {
    char* end = nullptr;
    const double d = std::strtod(drift->c_str(), &end);
    if (end != drift->c_str() && std::isfinite(d) && d > 0) m.drift = d;
  }
  return m;
}

std::shared_ptr<const engine::trail::Hierarchy> RouteDbBuilder::ReusableHierarchy(
    const ReplacedMeta& replaced) const {
  // First the digest the database this build replaces recorded of its contraction's input: a
  // different one (the usual case when the network changed) costs nothing more. The same one,
  // and what contraction reads of the old graph is parsed (GraphParse::kContraction: no
  // shapes, names or routes), from a mapping whose pages go as they are copied, and its own
  // digest taken (the hierarchy is kept only when the graph it was contracted from is the one
  // in the file, not only the one the meta names), then dropped but for its hierarchy, which
  // is written, not searched, here (it is not indexed by rank; `stride serve` parses it fully).
  if (replaced.contraction_input != contraction_input_) return nullptr;
  Result<MappedFile> mapped = MappedFile::Open(db_path_ + "/" + kTrailGraphFile);
  if (!mapped.ok()) return nullptr;  // none (a first import), or unreadable: build
  Result<engine::trail::TrailGraph> old = engine::trail::TrailGraph::Parse(
      mapped->bytes(), [&](size_t parsed) { mapped->Release(parsed); },
      engine::trail::GraphParse::kContraction);
  if (!old.ok() || !old->hierarchy) return nullptr;
  if (ContractionInputDigest(*old) != contraction_input_) return nullptr;
  return old->hierarchy;
}

std::optional<std::pair<std::vector<uint32_t>, double>> RouteDbBuilder::InheritableOrder(
    const ReplacedMeta& replaced) const {
  const size_t n = built_graph_->nodes();
  if (n == 0) return std::nullopt;
  const double before = replaced.drift;
  if (before >= max_drift_) return std::nullopt;  // nothing left to drift by
  // What InheritedOrder reads of the old graph, nothing else (at 10^7 nodes 64 MB of its 350).
  Result<MappedFile> mapped = MappedFile::Open(db_path_ + "/" + kTrailGraphFile);
  if (!mapped.ok()) return std::nullopt;
  Result<engine::trail::TrailGraph> old = engine::trail::TrailGraph::Parse(
      mapped->bytes(), [&](size_t parsed) { mapped->Release(parsed); },
      engine::trail::GraphParse::kOrder);
  if (!old.ok() || !old->hierarchy) return std::nullopt;
  size_t matched = 0;
  std::vector<uint32_t> order = engine::trail::InheritedOrder(*built_graph_, *old, &matched);
  const double drift = before + static_cast<double>(n - matched) / static_cast<double>(n);
  if (drift > max_drift_) return std::nullopt;
  return std::make_pair(std::move(order), drift);
}

Status RouteDbBuilder::Commit(const std::vector<std::pair<std::string, std::string>>& meta) {
  if (!db_) return Status::Internal("Commit called twice");
  // Finish the streamed files; write the sorted ones; ingest all (moved, not copied).
  std::vector<std::pair<rocksdb::ColumnFamilyHandle*, std::string>> ingest;
  auto finish = [&](std::unique_ptr<rocksdb::SstFileWriter>& w, uint64_t count,
                    rocksdb::ColumnFamilyHandle* cf, const std::string& name) -> Status {
    if (count > 0) {
      STRIDE_RETURN_IF_ERROR(FromRocks(w->Finish(), "finishing " + name));
      ingest.emplace_back(cf, sst_dir_ + "/" + name);
    }
    w.reset();
    return Status::Ok();
  };
  STRIDE_RETURN_IF_ERROR(finish(routes_writer_, routes_, cfs_[kCfRoutes], "routes.sst"));
  STRIDE_RETURN_IF_ERROR(finish(edges_writer_, edges_, cfs_[kCfTrailGraph], "edges.sst"));

  std::sort(summaries_.begin(), summaries_.end());
  if (!summaries_.empty()) {
    std::unique_ptr<rocksdb::SstFileWriter> w;
    STRIDE_RETURN_IF_ERROR(OpenWriter(w, cfs_[kCfSummaries], "summaries.sst"));
    for (const auto& [k, v] : summaries_) {
      STRIDE_RETURN_IF_ERROR(FromRocks(w->Put(k, v), "writing summaries"));
    }
    STRIDE_RETURN_IF_ERROR(finish(w, summaries_.size(), cfs_[kCfSummaries], "summaries.sst"));
  }
  std::vector<std::pair<std::string, std::string>>().swap(summaries_);
  std::sort(edge_cells_.begin(), edge_cells_.end());
  if (!edge_cells_.empty()) {
    std::unique_ptr<rocksdb::SstFileWriter> w;
    STRIDE_RETURN_IF_ERROR(OpenWriter(w, cfs_[kCfTrailGraph], "edge_cells.sst"));
    for (const auto& [cell, id] : edge_cells_) {
      STRIDE_RETURN_IF_ERROR(FromRocks(w->Put(EdgeCellKey(cell, id), ""), "writing edge cells"));
    }
    STRIDE_RETURN_IF_ERROR(finish(w, edge_cells_.size(), cfs_[kCfTrailGraph], "edge_cells.sst"));
  }
  std::vector<std::pair<uint32_t, uint64_t>>().swap(edge_cells_);

  rocksdb::IngestExternalFileOptions io;
  io.move_files = true;
  for (const auto& [cf, file] : ingest) {
    STRIDE_RETURN_IF_ERROR(FromRocks(db_->IngestExternalFile(cf, {file}, io), "ingesting " + file));
  }
  rocksdb::WriteBatch batch;
  batch.Put(cfs_[kCfMeta], "schema_version", std::to_string(kSchemaVersion)).PermitUncheckedError();
  for (const auto& [k, v] : meta) batch.Put(cfs_[kCfMeta], k, v).PermitUncheckedError();
  if (!contraction_input_.empty()) {
    batch.Put(cfs_[kCfMeta], kMetaContractionInput, contraction_input_).PermitUncheckedError();
  }
  if (drift_known_) {
    char drift[32];
    std::snprintf(drift, sizeof drift, "%.9g", drift_);
    batch.Put(cfs_[kCfMeta], kMetaHierarchyOrderDrift, drift).PermitUncheckedError();
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  STRIDE_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "writing meta"));
  STRIDE_RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions(), cfs_), "flushing"));
  for (rocksdb::ColumnFamilyHandle* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
  cfs_.clear();
  STRIDE_RETURN_IF_ERROR(FromRocks(db_->Close(), "closing the new database"));
  db_.reset();
  std::error_code ec;
  fs::remove_all(sst_dir_, ec);
  {
    if (!built_graph_) BuildTrailGraph();
    // Streamed from the graph: a serialized copy beside it set the import's peak memory
    // (at 10^7 nodes a 347 MB file: peak 1,799 MiB with the copy, 1,528 MiB streamed).
    Status written;
    if (graph_file_) {
      written = graph_file_->Append(
          [&](const ByteSink& out) { built_graph_->SerializeHierarchyTo(out); });
      if (written.ok()) written = graph_file_->Finish(/*sync=*/true);
      graph_file_.reset();
    } else {
      written =
          WriteFileAtomicStreamed(build_dir_ + "/" + kTrailGraphFile, /*sync=*/true, 0644,
                                  [&](const ByteSink& out) { built_graph_->SerializeTo(out); });
    }
    built_graph_.reset();
    STRIDE_RETURN_IF_ERROR(written);
  }

  // Switch: exchange the directories atomically, keep the old one as DIR.previous. Not once
  // the command is interrupted (AbandonBuilds), and an interruption waits for it.
  std::lock_guard switching(Active().mu);
  if (Active().abandoned) return Status::Unavailable("interrupted: " + db_path_ + " is unchanged");
  Active().dirs.erase(build_dir_);
  const std::string previous = db_path_ + ".previous";
  if (!fs::exists(db_path_, ec)) {
    if (::rename(build_dir_.c_str(), db_path_.c_str()) != 0) {
      return Status::IoError("cannot move " + build_dir_ + " to " + db_path_ + ": " +
                             std::strerror(errno));
    }
  } else {
    fs::remove_all(previous, ec);
    if (::renameat2(AT_FDCWD, build_dir_.c_str(), AT_FDCWD, db_path_.c_str(), RENAME_EXCHANGE) ==
        0) {
      if (::rename(build_dir_.c_str(), previous.c_str()) != 0) fs::remove_all(build_dir_, ec);
    } else {
      // No atomic exchange on this file system: two renames, a moment without DIR.
      if (::rename(db_path_.c_str(), previous.c_str()) != 0 ||
          ::rename(build_dir_.c_str(), db_path_.c_str()) != 0) {
        return Status::IoError("cannot put the new database in place of " + db_path_ + ": " +
                               std::strerror(errno));
      }
    }
    if (fs::is_directory(previous, ec) && fs::is_empty(previous, ec)) fs::remove(previous, ec);
  }
  Active().switched = true;
  committed_ = true;
  committed_bytes_ = DirectoryBytes(db_path_);
  return Status::Ok();
}

// ---- reader --------------------------------------------------------------------------------

Result<std::unique_ptr<RouteDb>> RouteDb::Open(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(fs::path(path) / "CURRENT", ec)) {
    return Status::NotFound("--db " + path + ": no route database here (run stride import)");
  }
  std::unique_ptr<RouteDb> db(new RouteDb());
  db->path_ = path;
  std::vector<std::string> present;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &present);
  if (!s.ok()) return FromRocks(s, "--db " + path);
  for (const std::string& f : FamilyNames()) {
    if (std::find(present.begin(), present.end(), f) == present.end()) {
      return Status::InvalidArgument("--db " + path + ": not a Stride route database (no '" + f +
                                     "' column family)");
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> d = Descriptors();
  rocksdb::DBOptions dbo;
  dbo.max_open_files = -1;  // keep every file open: reads survive the directory being switched
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(dbo, path, d, &db->cfs_, &raw);
  if (!s.ok()) return FromRocks(s, "--db " + path + ": cannot open");
  db->db_.reset(raw);
  db->cf_names_ = FamilyNames();
  Result<std::string> version = db->GetMeta("schema_version");
  if (!version.ok()) {
    return Status::InvalidArgument("--db " + path + ": no schema_version (an unfinished import?)");
  }
  if (std::atoi(version->c_str()) > kSchemaVersion) {
    return Status::InvalidArgument("--db " + path + ": schema version " + *version +
                                   " is newer than this build's " + std::to_string(kSchemaVersion));
  }
  return db;
}

RouteDb::~RouteDb() {
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
    db_->Close().PermitUncheckedError();
  }
}

rocksdb::ColumnFamilyHandle* RouteDb::Family(const std::string& name) const {
  for (size_t i = 0; i < cf_names_.size(); ++i) {
    if (cf_names_[i] == name) return cfs_[i];
  }
  return nullptr;
}

Result<engine::Route> RouteDb::GetRoute(uint64_t id) const {
  rocksdb::PinnableSlice v;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[kCfRoutes], RouteKey(id), &v);
  if (s.IsNotFound()) return Status::NotFound("no route with id " + std::to_string(id));
  if (!s.ok()) return FromRocks(s, "reading route " + std::to_string(id));
  return DecodeRoute(std::string_view(v.data(), v.size()));
}

Status RouteDb::ForEachSummary(const std::function<void(const engine::RouteSummary&)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfSummaries]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    engine::RouteSummary s;
    if (!DecodeSummary(std::string_view(it->value().data(), it->value().size()), &s)) {
      return Status::Corruption("route_summaries: value of " + std::to_string(it->value().size()) +
                                " bytes; expected " + std::to_string(kSummaryValueSize));
    }
    fn(s);
  }
  return FromRocks(it->status(), "scanning route_summaries");
}

Status RouteDb::ForEachRouteRecord(
    const std::function<void(uint64_t id, std::string_view bytes)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a full scan would only evict what point reads need
  ro.readahead_size = 4 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfRoutes]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8)
      return Status::Corruption("routes: key of " + std::to_string(it->key().size()) + " bytes");
    fn(GetBigEndian64(it->key().data()), std::string_view(it->value().data(), it->value().size()));
  }
  return FromRocks(it->status(), "scanning routes");
}

Result<engine::TrailEdge> RouteDb::GetEdge(uint64_t id) const {
  rocksdb::PinnableSlice v;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[kCfTrailGraph], EdgeKey(id), &v);
  if (s.IsNotFound()) return Status::NotFound("no trail edge with id " + std::to_string(id));
  if (!s.ok()) return FromRocks(s, "reading trail edge " + std::to_string(id));
  return DecodeEdge(std::string_view(v.data(), v.size()));
}

Result<std::vector<uint64_t>> RouteDb::EdgeCandidates(const engine::BoxE7& box) const {
  const std::vector<uint32_t> cells = CellsForBox(box);
  if (cells.empty() && !box.empty()) {
    return Status::InvalidArgument(
        "box spans more than 4096 trail-graph cells; query a smaller area");
  }
  std::vector<uint64_t> ids;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cfs_[kCfTrailGraph]));
  for (uint32_t cell : cells) {
    const std::string prefix = EdgeCellPrefix(cell);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().size() == prefix.size() + 8) {
        ids.push_back(GetBigEndian64(it->key().data() + prefix.size()));
      }
    }
  }
  STRIDE_RETURN_IF_ERROR(FromRocks(it->status(), "scanning trail_graph cells"));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Status RouteDb::ForEachEdge(const std::function<void(const engine::TrailEdge&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cfs_[kCfTrailGraph]));
  for (it->Seek("e"); it->Valid() && it->key().starts_with("e"); it->Next()) {
    Result<engine::TrailEdge> e =
        DecodeEdge(std::string_view(it->value().data(), it->value().size()));
    if (!e.ok()) return e.status();
    fn(*e);
  }
  return FromRocks(it->status(), "scanning trail_graph");
}

Result<std::string> RouteDb::GetMeta(const std::string& key) const {
  std::string v;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[kCfMeta], key, &v);
  if (s.IsNotFound()) return Status::NotFound("meta: no key '" + key + "'");
  if (!s.ok()) return FromRocks(s, "reading meta " + key);
  return v;
}

std::vector<std::pair<std::string, std::string>> RouteDb::MetaWithPrefix(
    const std::string& prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kCfMeta]));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  return out;
}

uint64_t RouteDb::EstimateKeys(const std::string& family) const {
  uint64_t n = 0;
  if (rocksdb::ColumnFamilyHandle* cf = Family(family)) {
    db_->GetIntProperty(cf, "rocksdb.estimate-num-keys", &n);
  }
  return n;
}

}  // namespace stride::index
