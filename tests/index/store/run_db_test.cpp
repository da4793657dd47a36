// SPDX-License-Identifier: Apache-2.0
#include "index/store/run_db.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "engine/track/analysis_json.hpp"
#include "tests/support/stored_run.hpp"

namespace stride::index {
namespace {
namespace fs = std::filesystem;

class RunDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        (fs::path(::testing::TempDir()) / ("stride_run_db_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    Reopen();
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    db_.reset();
    Result<std::unique_ptr<RunDb>> db = RunDb::Open(dir_, {});
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db).value();
  }

  static engine::Run MakeRun(const std::string& user, double start, uint32_t seed) {
    return testing::MakeStoredRun(user, start, seed);
  }

  std::string dir_;
  std::unique_ptr<RunDb> db_;
};

TEST_F(RunDbTest, StoresAndReadsBackEveryPart) {
  const engine::Run run = MakeRun("alice", 1.7e9, 1);
  Result<engine::RunStore::PutResult> put = db_->Put(run, "");
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_FALSE(put->existed);
  Reopen();  // from the log / files, not memory
  Result<engine::Run> got = db_->Get("alice", put->id, {});
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->summary.id, put->id);
  EXPECT_EQ(got->summary.distance_m, run.summary.distance_m);
  EXPECT_TRUE(std::isnan(got->summary.ascent_m));
  EXPECT_EQ(got->original, run.original);
  // The analysis comes back typed: every field the JSON shows, and the coverage.
  EXPECT_EQ(engine::AnalysisJson("f", got->sessions), engine::AnalysisJson("f", run.sessions));
  // 299 steps of 1e-5 deg north and west at 42.5N: 1.112 m and 0.820 m, so 1.382 m each.
  EXPECT_NEAR(got->sessions.at(0).distance_m, 299 * 1.382, 5);
  EXPECT_EQ(got->sessions.at(0).distance_m, run.sessions[0].distance_m);
  ASSERT_EQ(got->coverage.size(), 1u);
  EXPECT_EQ(got->coverage[0].id, run.coverage[0].id);
  EXPECT_EQ(got->coverage[0].osm, "relation/1");
  EXPECT_EQ(got->coverage[0].covered_m, 617.25);
  EXPECT_EQ(got->coverage[0].first_reached_s, 1.7e9 + 12);
  EXPECT_TRUE(got->schema1_analysis_json.empty());
  ASSERT_EQ(got->tracks.size(), 1u);
  const engine::Track& a = run.tracks[0];
  const engine::Track& b = got->tracks[0];
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(b.time_s[i], a.time_s[i], 0.0005);
    EXPECT_NEAR(b.lat_deg[i], a.lat_deg[i], 0.51e-7);
    EXPECT_NEAR(b.lon_deg[i], a.lon_deg[i], 0.51e-7);
    EXPECT_EQ(std::isnan(b.ele_m[i]), std::isnan(a.ele_m[i])) << i;
    if (!std::isnan(a.ele_m[i])) {
      EXPECT_NEAR(b.ele_m[i], a.ele_m[i], 0.005);
    }
    EXPECT_EQ(std::isnan(b.hr_bpm[i]), std::isnan(a.hr_bpm[i])) << i;
    EXPECT_TRUE(std::isnan(b.power_w[i]));
  }
  // Summaries only: no original, no tracks.
  Result<engine::Run> light = db_->Get("alice", put->id, {false, false});
  ASSERT_TRUE(light.ok());
  EXPECT_TRUE(light->original.empty());
  EXPECT_TRUE(light->tracks.empty());
  EXPECT_EQ(engine::AnalysisJson("f", light->sessions), engine::AnalysisJson("f", run.sessions));
}

TEST_F(RunDbTest, ListsNewestFirstInPagesAndOnlyTheUsersOwn) {
  std::vector<uint64_t> alice;  // in start order
  for (int i = 0; i < 23; ++i) {
    // Starts shuffled; bob's interleave with alice's in time.
    const double start = 1.7e9 + ((i * 7) % 23) * 3600;
    alice.push_back(db_->Put(MakeRun("alice", start, i), "").value().id);
    ASSERT_TRUE(db_->Put(MakeRun("bob", start + 1, 100 + i), "").ok());
  }
  ASSERT_TRUE(db_->Put(MakeRun("alice2", 1.9e9, 7), "").ok());  // a user id alice prefixes
  std::vector<double> starts;
  std::string cursor;
  size_t pages = 0;
  do {
    Result<engine::RunStore::Page> p = db_->List("alice", cursor, 5);
    ASSERT_TRUE(p.ok()) << p.status().message();
    for (const auto& s : p->runs) {
      EXPECT_EQ(s.user_id, "alice");
      starts.push_back(s.start_time_s);
    }
    cursor = p->next_cursor;
    ++pages;
  } while (!cursor.empty());
  EXPECT_EQ(pages, 5u);
  ASSERT_EQ(starts.size(), 23u);
  for (size_t k = 1; k < starts.size(); ++k) EXPECT_GT(starts[k - 1], starts[k]);
  EXPECT_FALSE(db_->List("alice", "zz", 5).ok());
  // Another user's run is not found by id.
  EXPECT_EQ(db_->Get("bob", alice[0], {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->Get("alice2", alice[0], {}).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(db_->Delete("bob", alice[0]).value());
}

TEST_F(RunDbTest, ReplaceRewritesTheAnalysisInPlaceAndListUsersPages) {
  engine::Run run = MakeRun("bob", 1.7e9, 1);
  run.idempotency_key = "k1";
  Result<engine::RunStore::PutResult> put = db_->Put(run, "digest");
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE(db_->Put(MakeRun("bob", 1.6e9, 2), "").ok());
  Result<engine::Run> stored = db_->Get("bob", put->id, {});
  ASSERT_TRUE(stored.ok());
  // A new analysis that moves the start (the list order) and the distance.
  engine::Run again = *stored;
  again.summary.start_time_s = 1.5e9;
  again.summary.distance_m += 100;
  ASSERT_TRUE(db_->Replace(again).ok());
  Reopen();
  Result<engine::Run> got = db_->Get("bob", put->id, {});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->summary.distance_m, run.summary.distance_m + 100);
  EXPECT_EQ(got->original, run.original);
  EXPECT_EQ(got->idempotency_key, "k1");
  Result<engine::RunStore::Page> page = db_->List("bob", "", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->runs.size(), 2u);      // moved, not copied
  EXPECT_EQ(page->runs[1].id, put->id);  // now the oldest
  // The key still finds it.
  Result<std::optional<uint64_t>> key = db_->FindByIdempotencyKey("bob", "k1", "digest");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->value_or(0), put->id);
  // A run that is gone (or another user's) is not written.
  engine::Run foreign = again;
  foreign.summary.user_id = "eve";
  EXPECT_EQ(db_->Replace(foreign).code(), StatusCode::kNotFound);
  ASSERT_TRUE(db_->Delete("bob", put->id).ok());
  EXPECT_EQ(db_->Replace(again).code(), StatusCode::kNotFound);

  // Users with runs, in pages: a user prefix of another ("al" / "alice") is its own user.
  for (const char* u : {"alice", "al", "carol", "alice", "dave"}) {
    ASSERT_TRUE(db_->Put(MakeRun(u, 1.7e9, 3), "").ok());
  }
  std::vector<std::string> users;
  std::string after;
  for (int i = 0; i < 10; ++i) {
    Result<std::vector<std::string>> p = db_->ListUsers(after, 2);
    ASSERT_TRUE(p.ok());
    users.insert(users.end(), p->begin(), p->end());
    if (p->size() < 2) break;
    after = p->back();
  }
  EXPECT_EQ(users, (std::vector<std::string>{"al", "alice", "bob", "carol", "dave"}));
}

TEST_F(RunDbTest, IdempotencyKeyStoresOnce) {
  engine::Run run = MakeRun("alice", 1.7e9, 1);
  run.idempotency_key = "upload-1";
  const auto first = db_->Put(run, "digest-a").value();
  const auto again = db_->Put(run, "digest-a").value();
  EXPECT_FALSE(first.existed);
  EXPECT_TRUE(again.existed);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(db_->List("alice", "", 100).value().runs.size(), 1u);
  EXPECT_EQ(db_->Put(run, "digest-b").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*db_->FindByIdempotencyKey("alice", "upload-1", "digest-a").value(), first.id);
  // Keys are per user.
  engine::Run bobs = MakeRun("bob", 1.7e9, 2);
  bobs.idempotency_key = "upload-1";
  EXPECT_FALSE(db_->Put(bobs, "digest-b").value().existed);
  // Deleting the run frees the key.
  EXPECT_TRUE(db_->Delete("alice", first.id).value());
  EXPECT_FALSE(db_->FindByIdempotencyKey("alice", "upload-1", "digest-a").value().has_value());
  EXPECT_EQ(db_->Get("alice", first.id, {}).status().code(), StatusCode::kNotFound);
}

class ManualClock : public engine::Clock {
 public:
  double NowS() const override { return now_s; }
  double now_s = 1.8e9;
};

// The idempotency records as RocksDB holds them, read beside Stride's code.
size_t IdempotencyRecords(const std::string& dir) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies({}, dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly({}, dir, families, &handles, &raw).ok());
  size_t n = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != "idempotency") continue;
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator({}, handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  }
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
  return n;
}

TEST_F(RunDbTest, IdempotencyKeysExpireAndTheirRecordsGo) {
  db_.reset();
  ManualClock clock;
  RunDb::Options o;
  o.clock = &clock;  // the default TTL: 7 days
  Result<std::unique_ptr<RunDb>> opened = RunDb::Open(dir_, o);
  ASSERT_TRUE(opened.ok());
  db_ = std::move(opened).value();
  engine::Run run = MakeRun("alice", 1.7e9, 1);
  run.idempotency_key = "upload-1";
  const auto first = db_->Put(run, "digest-a").value();
  clock.now_s += 7 * 86400 - 1;  // a retry on the last second of the week is the same upload
  EXPECT_TRUE(db_->Put(run, "digest-a").value().existed);
  EXPECT_EQ(db_->Put(run, "digest-b").status().code(), StatusCode::kAlreadyExists);
  clock.now_s += 2;  // then the key is free: a new run, another body allowed
  const auto second = db_->Put(run, "digest-b").value();
  EXPECT_FALSE(second.existed);
  EXPECT_NE(second.id, first.id);
  EXPECT_EQ(db_->List("alice", "", 100).value().runs.size(), 2u);
  // Deleting the first run leaves the key to the second, which now holds it.
  EXPECT_TRUE(db_->Delete("alice", first.id).value());
  EXPECT_EQ(*db_->FindByIdempotencyKey("alice", "upload-1", "digest-b").value(), second.id);
  // Another key, written now; a week and a day later a compaction drops both records.
  engine::Run other = MakeRun("bob", 1.7e9, 2);
  other.idempotency_key = "upload-2";
  ASSERT_TRUE(db_->Put(other, "digest-c").ok());
  ASSERT_TRUE(db_->Compact().ok());
  db_.reset();
  EXPECT_EQ(IdempotencyRecords(dir_), 2u);  // within the week: kept
  opened = RunDb::Open(dir_, o);
  ASSERT_TRUE(opened.ok());
  db_ = std::move(opened).value();
  clock.now_s += 8 * 86400;
  ASSERT_TRUE(db_->Compact().ok());
  db_.reset();
  EXPECT_EQ(IdempotencyRecords(dir_), 0u);
  Reopen();
  EXPECT_EQ(db_->List("alice", "", 100).value().runs.size(), 1u);  // the runs stay
  EXPECT_EQ(db_->List("bob", "", 100).value().runs.size(), 1u);
}

TEST_F(RunDbTest, DeleteUserRemovesEverythingOfThatUserOnly) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    engine::Run r = MakeRun("carol", 1.7e9 + i, i);
    r.idempotency_key = "k" + std::to_string(i);
    ids.push_back(db_->Put(r, "d").value().id);
  }
  const uint64_t dave = db_->Put(MakeRun("dave", 1.7e9, 9), "").value().id;
  // Random original bytes stay raw in the zstd frame: a piece of one is findable on disk.
  const std::string marker = MakeRun("carol", 1.7e9, 0).original.substr(100, 64);
  auto on_disk = [&] {
    size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), {});
      if (bytes.find(marker) != std::string::npos) ++files;
    }
    return files;
  };
  EXPECT_GT(on_disk(), 0u);
  Result<std::vector<uint64_t>> gone = db_->DeleteUser("carol");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->size(), 5u);
  Reopen();
  EXPECT_TRUE(db_->List("carol", "", 100).value().runs.empty());
  for (uint64_t id : ids) {
    EXPECT_EQ(db_->Get("carol", id, {}).status().code(), StatusCode::kNotFound);
  }
  EXPECT_FALSE(db_->FindByIdempotencyKey("carol", "k0", "d").value().has_value());
  EXPECT_TRUE(db_->Get("dave", dave, {}).ok());
  // The bytes are gone from the files too (logs retired, tables compacted), not only hidden.
  db_.reset();
  EXPECT_EQ(on_disk(), 0u);
}

TEST_F(RunDbTest, RefusesBadUserIdsAndForeignDirectories) {
  EXPECT_FALSE(db_->Put(MakeRun("", 1.7e9, 1), "").ok());
  EXPECT_FALSE(db_->Put(MakeRun(std::string("a\0b", 3), 1.7e9, 1), "").ok());
  const std::string other = dir_ + "-other";
  fs::create_directories(other);
  std::ofstream(other + "/notes.txt") << "mine";
  EXPECT_FALSE(RunDb::Open(other, {}).ok());
  fs::remove_all(other);
}

// Backups taken while writing, restored beside the database and compared run by run.
TEST_F(RunDbTest, BackupsRestoreExactlyWhatWasStoredBeforeThem) {
  const std::string backups = dir_ + "-backups";
  const std::string restored = dir_ + "-restored";
  fs::remove_all(backups);
  fs::remove_all(restored);
  std::vector<uint64_t> first;
  for (int i = 0; i < 5; ++i) {
    Result<engine::RunStore::PutResult> p = db_->Put(MakeRun("alice", 1.7e9 + i * 3600, i), "");
    ASSERT_TRUE(p.ok());
    first.push_back(p->id);
  }
  Result<engine::KeyValue*> ns = db_->PluginNamespace("plan");
  ASSERT_TRUE(ns.ok());
  ASSERT_TRUE((*ns)->Put(std::string("alice\0plan", 10), "week 1").ok());
  Result<engine::BackupInfo> b1 = db_->Backup(backups);
  ASSERT_TRUE(b1.ok()) << b1.status().message();
  EXPECT_EQ(b1->id, 1u);
  EXPECT_GT(b1->size_bytes, 5u * 5000);  // at least the original files
  EXPECT_GT(b1->files, 0u);
  // After the backup: another run, a deleted one, a changed plugin value.
  Result<engine::RunStore::PutResult> later = db_->Put(MakeRun("bob", 1.8e9, 9), "");
  ASSERT_TRUE(later.ok());
  ASSERT_TRUE(db_->Delete("alice", first[0]).ok());
  ASSERT_TRUE((*ns)->Put(std::string("alice\0plan", 10), "week 2").ok());
  Result<engine::BackupInfo> b2 = db_->Backup(backups);
  ASSERT_TRUE(b2.ok()) << b2.status().message();
  EXPECT_EQ(b2->id, 2u);
  Result<std::vector<engine::BackupInfo>> list = RunDb::ListBackups(backups);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, 1u);
  EXPECT_LE((*list)[0].created_unix_s, (*list)[1].created_unix_s);

  // Backup 1: the five runs of alice, none of bob, the first plugin value.
  ASSERT_TRUE(RunDb::Restore(backups, 1, restored).ok());
  {
    Result<std::unique_ptr<RunDb>> r = RunDb::Open(restored, {});
    ASSERT_TRUE(r.ok()) << r.status().message();
    Result<engine::RunStore::Page> page = (*r)->List("alice", "", 100);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->runs.size(), 5u);
    for (size_t i = 0; i < first.size(); ++i) {
      Result<engine::Run> a = db_->Get("alice", first[i], {});
      Result<engine::Run> b = (*r)->Get("alice", first[i], {});
      ASSERT_TRUE(b.ok()) << i;
      if (i == 0) {
        EXPECT_FALSE(a.ok());  // deleted after the backup: only the backup has it
        EXPECT_EQ(b->original, MakeRun("alice", 1.7e9, 0).original);
        continue;
      }
      ASSERT_TRUE(a.ok());
      EXPECT_EQ(b->original, a->original) << i;
      EXPECT_EQ(engine::AnalysisJson("f", b->sessions), engine::AnalysisJson("f", a->sessions));
    }
    EXPECT_TRUE((*r)->List("bob", "", 100)->runs.empty());
    Result<engine::KeyValue*> rns = (*r)->PluginNamespace("plan");
    ASSERT_TRUE(rns.ok());
    EXPECT_EQ((*rns)->Get(std::string("alice\0plan", 10))->value_or(""), "week 1");
  }
  // Into a directory that holds something: refused, and nothing touched.
  const Status busy = RunDb::Restore(backups, 2, restored);
  EXPECT_EQ(busy.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(busy.message().find("exists and is not empty"), std::string::npos);
  fs::remove_all(restored);
  // The newest (id 0): bob's run, alice's first gone, the second plugin value.
  ASSERT_TRUE(RunDb::Restore(backups, 0, restored).ok());
  {
    Result<std::unique_ptr<RunDb>> r = RunDb::Open(restored, {});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->List("alice", "", 100)->runs.size(), 4u);
    EXPECT_EQ((*r)->List("bob", "", 100)->runs.size(), 1u);
    EXPECT_EQ((*(*r)->PluginNamespace("plan"))->Get(std::string("alice\0plan", 10))->value_or(""),
              "week 2");
  }
  fs::remove_all(restored);
  // A backup that is not there, a directory without backups.
  EXPECT_EQ(RunDb::Restore(backups, 7, restored).code(), StatusCode::kNotFound);
  EXPECT_EQ(RunDb::ListBackups(dir_ + "-nothing").status().code(), StatusCode::kNotFound);
  // Damaged files are found by their checksums before anything is restored. Every table file
  // is damaged: which ones backup 1 holds depends on the directory's order.
  int damaged_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(backups)) {
    if (e.path().extension() == ".sst") {
      const auto size = static_cast<std::streamoff>(fs::file_size(e.path()));
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(size / 2);
      const char was = static_cast<char>(f.get());
      f.seekp(size / 2);
      f.put(static_cast<char>(was ^ 0x5a));
      ++damaged_files;
    }
  }
  ASSERT_GT(damaged_files, 0);
  const Status damaged = RunDb::Restore(backups, 1, restored);
  EXPECT_EQ(damaged.code(), StatusCode::kCorruption) << damaged.message();
  EXPECT_FALSE(fs::exists(restored));
  // Keeping the newest one purges the rest.
  ASSERT_TRUE(db_->Backup(backups, /*keep=*/1).ok());
  ASSERT_EQ(RunDb::ListBackups(backups)->size(), 1u);
  EXPECT_EQ(RunDb::ListBackups(backups)->front().id, 3u);
  // Never inside the database itself.
  EXPECT_EQ(db_->Backup(dir_ + "/backups").status().code(), StatusCode::kInvalidArgument);
  fs::remove_all(backups);
}

// Where an operator points a restore: new nested directories are made, a file or the backup
// directory itself is refused with the reason, an empty directory is filled, and no staging
// directory is left behind (one left by a restore cut short is cleared).
TEST_F(RunDbTest, RestoresWhereTheOperatorPointsItAndNowhereElse) {
  const std::string backups = dir_ + "-backups";
  const std::string root = dir_ + "-restores";
  fs::remove_all(backups);
  fs::remove_all(root);
  Result<engine::RunStore::PutResult> put = db_->Put(MakeRun("alice", 1.7e9, 0), "");
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE(db_->Backup(backups).ok());
  auto runs_of = [](const std::string& dir) -> size_t {
    Result<std::unique_ptr<RunDb>> r = RunDb::Open(dir, {});
    if (!r.ok()) return 0;
    return (*r)->List("alice", "", 100)->runs.size();
  };
  // Missing parents are made (it was "IO error: No such file or directory: While open
  // directory").
  const std::string nested = root + "/a/b/restored";
  const Status made = RunDb::Restore(backups, 0, nested);
  ASSERT_TRUE(made.ok()) << made.message();
  EXPECT_EQ(runs_of(nested), 1u);
  EXPECT_FALSE(fs::exists(root + "/a/b/.restored.restoring"));
  // A leftover staging directory (a restore killed half way) is cleared, not trusted; an
  // empty directory, written with a trailing separator, is filled.
  fs::create_directories(root + "/.empty.restoring/junk");
  fs::create_directories(root + "/empty");
  ASSERT_TRUE(RunDb::Restore(backups, 0, root + "/empty/").ok());
  EXPECT_EQ(runs_of(root + "/empty"), 1u);
  EXPECT_FALSE(fs::exists(root + "/.empty.restoring"));
  // A file: said so (it was "exists and is not empty").
  std::ofstream(root + "/file") << "";
  const Status file = RunDb::Restore(backups, 0, root + "/file");
  EXPECT_EQ(file.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(file.message().find("is a file, not a directory"), std::string::npos) << file.message();
  // Inside the backup directory: refused (it was restored there), also through a link.
  const Status inside = RunDb::Restore(backups, 0, backups + "/restored");
  EXPECT_EQ(inside.code(), StatusCode::kInvalidArgument) << inside.message();
  EXPECT_NE(inside.message().find("inside the backup directory"), std::string::npos);
  EXPECT_FALSE(fs::exists(backups + "/restored"));
  fs::create_directory_symlink(backups, root + "/link");
  EXPECT_EQ(RunDb::Restore(backups, 0, root + "/link/restored").code(),
            StatusCode::kInvalidArgument);
  // A backup into the database through a link to it is refused too (the check compared the
  // paths as written).
  fs::create_directory_symlink(dir_, root + "/db-link");
  const Result<engine::BackupInfo> into = db_->Backup(root + "/db-link/backups");
  EXPECT_EQ(into.status().code(), StatusCode::kInvalidArgument) << into.status().message();
  EXPECT_FALSE(fs::exists(dir_ + "/backups"));
  fs::remove_all(root);
  fs::remove_all(backups);
}

}  // namespace
}  // namespace stride::index
