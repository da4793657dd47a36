// SPDX-License-Identifier: Apache-2.0
//
// PostgreSQL for several servers' user data (issue 20), against a real PostgreSQL started by
// each test (tests/support/postgres_server.hpp): the schema migrated once however many servers
// start together, a newer schema refused, clear errors for a server that is not there; and one
// suite of KeyValue behaviour run over every implementation (in memory, RocksDB's plugin
// namespaces, PostgreSQL), so the PostgreSQL one is held to what the others do.
#include "index/pg/postgres.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "datasets/synthetic_activity.hpp"
#include "engine/geo/geodesy.hpp"
#include "engine/store/key_value.hpp"
#include "engine/track/analysis.hpp"
#include "index/pg/pg_run_store.hpp"
#include "index/store/run_codec.hpp"
#include "index/store/run_db.hpp"
#include "plugins/challenges/challenges.hpp"
#include "server/auth.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/running_server.hpp"
#include "tests/support/stored_run.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using index::Postgres;

#define REQUIRE_POSTGRES(server)                                                            \
  if (!(server).installed()) {                                                              \
    GTEST_SKIP() << "PostgreSQL is not installed (scripts/deps.sh installs postgresql-15)"; \
  }                                                                                         \
  ASSERT_TRUE((server).ok()) << "PostgreSQL did not start; see " << (server).dir()

std::unique_ptr<Postgres> Open(const std::string& url) {
  index::PostgresOptions o;
  o.url = url;
  Result<std::unique_ptr<Postgres>> r = Postgres::Open(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

TEST(Postgres, TheSchemaIsMigratedOnceWhenServersStartTogether) {
  testing::PostgresServer server("migrate");
  REQUIRE_POSTGRES(server);
  std::vector<std::thread> starts;
  std::vector<Status> results(6);
  for (size_t i = 0; i < results.size(); ++i) {
    starts.emplace_back([&, i] {
      index::PostgresOptions o;
      o.url = server.url();
      Result<std::unique_ptr<Postgres>> r = Postgres::Open(o);
      results[i] = r.status();
    });
  }
  for (auto& t : starts) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<Postgres> pg = Open(server.url());
  ASSERT_TRUE(pg);
  Result<index::PgRows> steps =
      pg->Exec("SELECT version::text, name FROM stride_schema ORDER BY version");
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  ASSERT_EQ(steps->rows.size(), static_cast<size_t>(Postgres::KnownSchemaVersion()));
  EXPECT_EQ(*steps->rows[0][0], "1");
  EXPECT_EQ(*steps->rows[0][1], "key-value namespaces");
  EXPECT_EQ(*pg->SchemaVersion(), Postgres::KnownSchemaVersion());
}

TEST(Postgres, ASchemaFromANewerStrideIsRefused) {
  testing::PostgresServer server("newer");
  REQUIRE_POSTGRES(server);
  std::unique_ptr<Postgres> pg = Open(server.url());
  ASSERT_TRUE(pg);
  const int next = Postgres::KnownSchemaVersion() + 1;
  ASSERT_TRUE(pg->Exec("INSERT INTO stride_schema (version, name) VALUES (" + std::to_string(next) +
                       ", 'from the future')")
                  .ok());
  index::PostgresOptions o;
  o.url = server.url();
  Result<std::unique_ptr<Postgres>> r = Postgres::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("holds Stride schema version " + std::to_string(next) +
                                      ", newer than this build's " + std::to_string(next - 1) +
                                      ": upgrade stride"),
            std::string::npos)
      << r.status().message();
}

TEST(Postgres, AServerThatIsNotThereIsNamedAndOneThatComesBackIsUsedAgain) {
  testing::PostgresServer server("gone");
  REQUIRE_POSTGRES(server);
  index::PostgresOptions o;
  o.url = server.url("no_such_db");
  Result<std::unique_ptr<Postgres>> r = Postgres::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot connect to PostgreSQL at " + server.dir()),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("no_such_db"), std::string::npos) << r.status().message();

  std::unique_ptr<Postgres> pg = Open(server.url());
  ASSERT_TRUE(pg);
  index::PgKeyValue kv(pg.get(), "host");
  ASSERT_TRUE(kv.Put("a", "1").ok());
  server.Kill();
  Result<std::optional<std::string>> down = kv.Get("a");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << down.status().ToString();
  server.Start();
  ASSERT_TRUE(server.ok());
  Result<std::optional<std::string>> back = kv.Get("a");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->value_or(""), "1");  // written before the crash, kept by PostgreSQL
}

// Fills the pool: `n` statements at once hold `n` connections, which stay idle after.
void HoldConnections(Postgres* pg, int n) {
  std::vector<std::thread> t;
  for (int i = 0; i < n; ++i) {
    t.emplace_back([pg] { EXPECT_TRUE(pg->Exec("SELECT pg_sleep(0.3)").ok()); });
  }
  for (auto& x : t) x.join();
}

// Every idle connection of the pool lost at once (the server restarted, or an operator ended
// the sessions): the next statements each succeed, on new connections, instead of failing one
// by one on the dead ones (the one retry took another dead connection) or as a 500 (libpq's
// "server closed the connection unexpectedly" carries no SQLSTATE while PQstatus still says
// the connection is fine).
TEST(Postgres, AfterEveryPooledConnectionIsLostTheNextStatementsSucceed) {
  testing::PostgresServer server("lost");
  REQUIRE_POSTGRES(server);
  std::unique_ptr<Postgres> pg = Open(server.url());
  ASSERT_TRUE(pg);
  HoldConnections(pg.get(), 4);
  // Sessions ended by the administrator (SQLSTATE 57P01 on each).
  std::unique_ptr<Postgres> admin = Open(server.url());
  ASSERT_TRUE(admin);
  Result<index::PgRows> ended = admin->Exec(
      "SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity "
      "WHERE pid <> pg_backend_pid() AND application_name = 'stride' AND backend_type = "
      "'client backend'");
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  ASSERT_GE(std::stoi(ended->rows.at(0).at(0).value_or("0")), 4);
  admin.reset();
  for (int i = 0; i < 4; ++i) {
    Result<index::PgRows> r = pg->Exec("SELECT 1");
    EXPECT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
  // The server killed and started again.
  HoldConnections(pg.get(), 4);
  server.Kill();
  server.Start();
  ASSERT_TRUE(server.ok());
  for (int i = 0; i < 4; ++i) {
    Result<index::PgRows> r = pg->Exec("SELECT 1");
    EXPECT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
  // And a transaction, and the plugins' exclusive sessions, the same way.
  HoldConnections(pg.get(), 4);
  EXPECT_TRUE(pg->Exclusive("x", [] {}).ok());
  server.Kill();
  server.Start();
  ASSERT_TRUE(server.ok());
  EXPECT_TRUE(pg->Transaction({{"SELECT 1", {}}}).ok());
  bool ran = false;
  const Status exclusive = pg->Exclusive("x", [&] { ran = true; });
  EXPECT_TRUE(exclusive.ok()) << exclusive.ToString();
  EXPECT_TRUE(ran);
}

TEST(Postgres, StatementErrorsCarryTheSqlState) {
  testing::PostgresServer server("errors");
  REQUIRE_POSTGRES(server);
  std::unique_ptr<Postgres> pg = Open(server.url());
  ASSERT_TRUE(pg);
  Result<index::PgRows> r = pg->Exec("SELECT * FROM no_such_table");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("relation \"no_such_table\" does not exist (SQLSTATE "
                                      "42P01)"),
            std::string::npos)
      << r.status().message();
  // A failed transaction leaves nothing behind and the pool usable.
  const Status t = pg->Transaction(
      {{"INSERT INTO stride_kv (ns, k, v) VALUES ('t', 'k', 'v')", {}}, {"SELECT 1/0", {}}});
  EXPECT_FALSE(t.ok());
  Result<index::PgRows> left = pg->Exec("SELECT count(*)::text FROM stride_kv WHERE ns = 't'");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left->rows[0][0], "0");
}

// One behaviour, every implementation.
enum class Kind { kMemory, kRocksDb, kPostgres };

class KeyValueConformance : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    switch (GetParam()) {
      case Kind::kMemory:
        memory_ = std::make_unique<engine::MemoryKeyValue>();
        kv_ = memory_.get();
        other_ = std::make_unique<engine::MemoryKeyValue>().release();
        owned_other_.reset(other_);
        break;
      case Kind::kRocksDb: {
        dir_ = (fs::temp_directory_path() / ("stride_kv_" + std::to_string(::getpid()))).string();
        fs::remove_all(dir_);
        Result<std::unique_ptr<index::RunDb>> db = index::RunDb::Open(dir_, {});
        ASSERT_TRUE(db.ok()) << db.status().ToString();
        db_ = std::move(db).value();
        kv_ = *db_->PluginNamespace("one");
        other_ = *db_->PluginNamespace("two");
        break;
      }
      case Kind::kPostgres:
        pg_server_ = std::make_unique<testing::PostgresServer>("kv");
        REQUIRE_POSTGRES(*pg_server_);
        pg_ = Open(pg_server_->url());
        ASSERT_TRUE(pg_);
        pg_kv_ = std::make_unique<index::PgKeyValue>(pg_.get(), "plugin.one");
        pg_other_ = std::make_unique<index::PgKeyValue>(pg_.get(), "plugin.two");
        kv_ = pg_kv_.get();
        other_ = pg_other_.get();
        break;
    }
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::vector<std::pair<std::string, std::string>> ScanAll(std::string_view prefix,
                                                           std::string_view start = {}) {
    std::vector<std::pair<std::string, std::string>> out;
    const Status s = kv_->ScanFrom(prefix, start, [&](std::string_view k, std::string_view v) {
      out.emplace_back(k, v);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  engine::KeyValue* kv_ = nullptr;
  engine::KeyValue* other_ = nullptr;  // another namespace of the same store
  std::unique_ptr<engine::MemoryKeyValue> memory_;
  std::unique_ptr<engine::KeyValue> owned_other_;
  std::string dir_;
  std::unique_ptr<index::RunDb> db_;
  std::unique_ptr<testing::PostgresServer> pg_server_;
  std::unique_ptr<Postgres> pg_;
  std::unique_ptr<index::PgKeyValue> pg_kv_, pg_other_;
};

TEST_P(KeyValueConformance, PutGetOverwriteDeleteWithBinaryKeysAndValues) {
  const std::string key("ann\0c/\xff\x01", 8);
  const std::string value("v\0\xfe\r\n", 5);
  EXPECT_FALSE(kv_->Get(key)->has_value());
  ASSERT_TRUE(kv_->Put(key, value).ok());
  EXPECT_EQ(kv_->Get(key)->value_or("?"), value);
  ASSERT_TRUE(kv_->Put(key, "second").ok());
  EXPECT_EQ(kv_->Get(key)->value_or("?"), "second");
  EXPECT_FALSE(other_->Get(key)->has_value());  // namespaces are apart
  ASSERT_TRUE(kv_->Delete(key).ok());
  EXPECT_FALSE(kv_->Get(key)->has_value());
  EXPECT_TRUE(kv_->Delete("never there").ok());
  const std::string big(1 << 20, 'x');
  ASSERT_TRUE(kv_->Put("big", big).ok());
  EXPECT_EQ(kv_->Get("big")->value_or("").size(), big.size());
}

// Compare and set: of 8 threads claiming one key at once (PostgreSQL: 8 connections), one wins,
// and again for the next value; a stale expectation writes nothing.
TEST_P(KeyValueConformance, PutIfLetsExactlyOneOfManyConcurrentClaimsWin) {
  const std::string key("ann\0daily/plan", 14);
  for (const std::optional<std::string>& expected :
       {std::optional<std::string>(), std::optional<std::string>("2026-12-04")}) {
    if (expected) {
      ASSERT_TRUE(kv_->Put(key, *expected).ok());
    }
    std::atomic<int> wins{0}, errors{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] {
        Result<bool> r = kv_->PutIf(key, expected, "2026-12-0" + std::to_string(5 + i % 4));
        if (!r.ok()) ++errors;
        if (r.ok() && *r) ++wins;
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(wins.load(), 1);
    EXPECT_NE(kv_->Get(key)->value_or(""), expected.value_or(""));
  }
  const std::string now = kv_->Get(key)->value_or("");
  Result<bool> stale = kv_->PutIf(key, std::string("2026-12-04"), "2026-12-31");
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(*stale);
  stale = kv_->PutIf(key, std::nullopt, "2026-12-31");  // present: "absent" is stale too
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(*stale);
  EXPECT_EQ(kv_->Get(key)->value_or(""), now);
  EXPECT_FALSE(other_->Get(key)->has_value());
}

TEST_P(KeyValueConformance, ScansFollowByteOrderWithinThePrefixAndStopWhenAsked) {
  // Byte order, not collation: 'B' < 'a' < '\xff'; a prefix ending in 0xff has no simple end.
  const std::vector<std::string> keys = {
      "a", "ab", "a\xff", "a\xff\xff", "aB", std::string("a\0", 2), "b", "\xff", "\xff\xff", "ba"};
  for (const std::string& k : keys) ASSERT_TRUE(kv_->Put(k, "v" + k).ok());
  ASSERT_TRUE(other_->Put("aa", "elsewhere").ok());
  std::vector<std::string> want_a;
  for (const std::string& k : keys) {
    if (k.starts_with("a")) want_a.push_back(k);
  }
  std::sort(want_a.begin(), want_a.end());
  std::vector<std::string> got;
  for (const auto& [k, v] : ScanAll("a")) {
    got.push_back(k);
    EXPECT_EQ(v, "v" + k);
  }
  EXPECT_EQ(got, want_a);
  got.clear();
  for (const auto& kv : ScanAll("a\xff")) got.push_back(kv.first);
  EXPECT_EQ(got, (std::vector<std::string>{"a\xff", "a\xff\xff"}));
  got.clear();
  for (const auto& kv : ScanAll("\xff")) got.push_back(kv.first);
  EXPECT_EQ(got, (std::vector<std::string>{"\xff", "\xff\xff"}));
  EXPECT_EQ(ScanAll("").size(), keys.size());
  // From a start within the prefix; a start before the prefix is the prefix's start.
  got.clear();
  for (const auto& kv : ScanAll("a", "ab")) got.push_back(kv.first);
  EXPECT_EQ(got, (std::vector<std::string>{"ab", "a\xff", "a\xff\xff"}));
  EXPECT_EQ(ScanAll("b", "a").size(), 2u);
  // Stopping.
  int seen = 0;
  ASSERT_TRUE(kv_->Scan("", [&](std::string_view, std::string_view) { return ++seen < 3; }).ok());
  EXPECT_EQ(seen, 3);
}

TEST_P(KeyValueConformance, LongScansAndPrefixDeletesCoverEveryKey) {
  std::mt19937 rng(3);
  std::vector<std::string> users = {"ann", "bob", "an"};
  std::map<std::string, std::string> want;
  for (int i = 0; i < 2500; ++i) {
    const std::string& u = users[rng() % users.size()];
    std::string k = u + '\0' + std::to_string(rng() % 100000);
    want[k] = std::to_string(i);
    ASSERT_TRUE(kv_->Put(k, std::to_string(i)).ok());
  }
  std::map<std::string, std::string> got;
  for (auto& [k, v] : ScanAll("")) got[k] = v;
  EXPECT_EQ(got, want);
  // Deleting "ann\0" leaves "an\0..." and "bob\0...".
  ASSERT_TRUE(kv_->DeletePrefix(std::string("ann\0", 4)).ok());
  std::erase_if(want, [](const auto& kv) { return kv.first.starts_with(std::string("ann\0", 4)); });
  got.clear();
  for (auto& [k, v] : ScanAll("")) got[k] = v;
  EXPECT_EQ(got, want);
  ASSERT_TRUE(kv_->DeletePrefix("").ok());
  EXPECT_TRUE(ScanAll("").empty());
}

INSTANTIATE_TEST_SUITE_P(EveryStore, KeyValueConformance,
                         ::testing::Values(Kind::kMemory, Kind::kRocksDb, Kind::kPostgres),
                         [](const ::testing::TestParamInfo<Kind>& i) {
                           return i.param == Kind::kMemory    ? std::string("Memory")
                                  : i.param == Kind::kRocksDb ? std::string("RocksDb")
                                                              : std::string("Postgres");
                         });

engine::Run MakeRun(const std::string& user, double start, uint32_t seed) {
  return testing::MakeStoredRun(user, start, seed);
}

class ManualClock : public engine::Clock {
 public:
  double NowS() const override { return now_s; }
  double now_s = 1.8e9;
};

class PgRuns : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<testing::PostgresServer>("runs");
    REQUIRE_POSTGRES(*server_);
    pg_ = Open(server_->url());
    ASSERT_TRUE(pg_);
    index::PgRunStoreOptions o;
    o.clock = &clock_;
    store_ = std::make_unique<index::PgRunStore>(pg_.get(), o);
  }
  // Rows of `table` whose user is `user` (stride_kv: whose key starts with it).
  size_t Rows(const std::string& table, const std::string& user) {
    const std::string where = table == "stride_kv"
                                  ? "substring(k from 1 for octet_length($1::bytea)) = $1::bytea"
                                  : "user_id = $1";
    Result<index::PgRows> r =
        pg_->Exec("SELECT count(*)::text FROM " + table + " WHERE " + where, {user});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::stoul(*r->rows[0][0]) : 0;
  }
  ManualClock clock_;
  std::unique_ptr<testing::PostgresServer> server_;
  std::unique_ptr<Postgres> pg_;
  std::unique_ptr<index::PgRunStore> store_;
};

// What PostgreSQL gives back is what RocksDB gives back, part for part.
TEST_F(PgRuns, ReadsBackExactlyWhatRunDbReadsBack) {
  const std::string dir =
      (fs::temp_directory_path() / ("stride_pg_rundb_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  Result<std::unique_ptr<index::RunDb>> rocks = index::RunDb::Open(dir, {});
  ASSERT_TRUE(rocks.ok());
  const engine::Run run = MakeRun("ann", 1.7e9, 5);
  const uint64_t in_pg = store_->Put(run, "").value().id;
  const uint64_t in_rocks = (*rocks)->Put(run, "").value().id;
  Result<engine::Run> a = store_->Get("ann", in_pg, {});
  Result<engine::Run> b = (*rocks)->Get("ann", in_rocks, {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->original, run.original);
  ASSERT_EQ(a->tracks.size(), 1u);
  EXPECT_EQ(a->tracks[0].size(), run.tracks[0].size());
  a->summary.id = b->summary.id = 0;
  run::RunSummary pa, pb;
  index::SummaryToProto(a->summary, a->idempotency_key, &pa);
  index::SummaryToProto(b->summary, b->idempotency_key, &pb);
  EXPECT_EQ(pa.SerializeAsString(), pb.SerializeAsString());
  EXPECT_EQ(index::PackRunData(*a, 3).value(), index::PackRunData(*b, 3).value());
  // Without the bulk, when not asked for.
  Result<engine::Run> light = store_->Get("ann", in_pg, {false, false});
  ASSERT_TRUE(light.ok());
  EXPECT_TRUE(light->original.empty());
  EXPECT_TRUE(light->tracks.empty());
  EXPECT_EQ(light->sessions.size(), 1u);
  rocks->reset();
  fs::remove_all(dir);
}

TEST_F(PgRuns, ListsNewestFirstInPagesAndOnlyTheUsersOwn) {
  std::vector<uint64_t> alice;
  for (int i = 0; i < 23; ++i) {
    const double start = 1.7e9 + ((i * 7) % 23) * 3600;
    alice.push_back(store_->Put(MakeRun("alice", start, i), "").value().id);
    ASSERT_TRUE(store_->Put(MakeRun("bob", start + 1, 100 + i), "").ok());
  }
  std::vector<double> starts;
  std::string cursor;
  size_t pages = 0;
  do {
    Result<engine::RunStore::Page> p = store_->List("alice", cursor, 5);
    ASSERT_TRUE(p.ok()) << p.status().message();
    for (const auto& s : p->runs) {
      EXPECT_EQ(s.user_id, "alice");
      starts.push_back(s.start_time_s);
    }
    cursor = p->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 5u);
  ASSERT_EQ(starts.size(), 23u);
  for (size_t k = 1; k < starts.size(); ++k) EXPECT_GT(starts[k - 1], starts[k]);
  EXPECT_EQ(store_->List("alice", "zz", 5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("bob", alice[0], {}).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->Delete("bob", alice[0]).value());
  EXPECT_TRUE(store_->Get("alice", alice[0], {}).ok());
}

// Three servers (three pools) sending the same key at once store one run.
TEST_F(PgRuns, OneIdempotencyKeySentToThreeServersAtOnceStoresOneRun) {
  std::vector<std::unique_ptr<Postgres>> pools;
  std::vector<std::unique_ptr<index::PgRunStore>> stores;
  for (int i = 0; i < 3; ++i) {
    pools.push_back(Open(server_->url()));
    ASSERT_TRUE(pools.back());
    index::PgRunStoreOptions o;
    o.clock = &clock_;
    stores.push_back(std::make_unique<index::PgRunStore>(pools.back().get(), o));
  }
  engine::Run run = MakeRun("ann", 1.7e9, 1);
  run.idempotency_key = "upload-1";
  std::vector<Result<engine::RunStore::PutResult>> results(12, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = stores[i % 3]->Put(run, "digest-a"); });
  }
  for (auto& t : threads) t.join();
  size_t created = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    created += !r->existed;
    EXPECT_EQ(r->id, results[0]->id);
  }
  EXPECT_EQ(created, 1u);
  EXPECT_EQ(store_->List("ann", "", 100).value().runs.size(), 1u);
  EXPECT_EQ(store_->Put(run, "digest-b").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->FindByIdempotencyKey("ann", "upload-1", "digest-a").value(), results[0]->id);
}

TEST_F(PgRuns, IdempotencyKeysExpireAfterAWeek) {
  engine::Run run = MakeRun("alice", 1.7e9, 1);
  run.idempotency_key = "upload-1";
  const auto first = store_->Put(run, "digest-a").value();
  clock_.now_s += 7 * 86400 - 1;
  EXPECT_TRUE(store_->Put(run, "digest-a").value().existed);
  clock_.now_s += 2;
  const auto second = store_->Put(run, "digest-b").value();
  EXPECT_FALSE(second.existed);
  EXPECT_NE(second.id, first.id);
  EXPECT_TRUE(store_->Delete("alice", first.id).value());
  EXPECT_EQ(*store_->FindByIdempotencyKey("alice", "upload-1", "digest-b").value(), second.id);
}

TEST_F(PgRuns, DeletingAUserLeavesNoRowOfTheirsInAnyTable) {
  index::PgKeyValue plan(pg_.get(), "plugin.plan");
  for (const char* user : {"carol", "dave"}) {
    for (int i = 0; i < 3; ++i) {
      engine::Run r = MakeRun(user, 1.7e9 + i, i);
      r.idempotency_key = "k" + std::to_string(i);
      ASSERT_TRUE(store_->Put(r, "d").ok());
    }
    ASSERT_TRUE(plan.Put(std::string(user) + '\0' + "plan", "{}").ok());
  }
  Result<std::vector<uint64_t>> ids = store_->DeleteUser("carol");
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(ids->size(), 3u);
  ASSERT_TRUE(plan.DeletePrefix(std::string("carol\0", 6)).ok());  // as the plugin host does
  EXPECT_EQ(Rows("stride_runs", "carol"), 0u);
  EXPECT_EQ(Rows("stride_idempotency", "carol"), 0u);
  EXPECT_EQ(Rows("stride_kv", std::string("carol\0", 6)), 0u);
  EXPECT_EQ(Rows("stride_runs", "dave"), 3u);
  EXPECT_EQ(Rows("stride_idempotency", "dave"), 3u);
  EXPECT_EQ(Rows("stride_kv", std::string("dave\0", 5)), 1u);
}

TEST_F(PgRuns, TracksAreGeometriesOperatorsCanQueryAndTheyGoWithTheRun) {
  if (!pg_->postgis()) {
    GTEST_SKIP() << pg_->postgis_note() << " (scripts/deps.sh installs postgresql-15-postgis-3)";
  }
  engine::Run run = MakeRun("erin", 1.7e9, 3);
  // A second recorded segment and a point without a position: two lines, the gap not drawn.
  engine::Track& t = run.tracks[0];
  t.segment_starts = {0, 200};
  t.lat_deg[50] = engine::kNaN;
  const uint64_t id = store_->Put(run, "d").value().id;
  const uint64_t other = store_->Put(MakeRun("erin", 1.7e9 + 9, 4), "d").value().id;
  Result<index::PgRows> r = pg_->Exec(
      "SELECT ST_NumGeometries(geom)::text, ST_NPoints(geom)::text, "
      "ST_Length(geom::geography)::text, ST_SRID(geom)::text FROM stride_run_tracks "
      "WHERE user_id = 'erin' AND id::text = $1",
      {std::to_string(static_cast<int64_t>(id))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(*r->rows[0][0], "2");
  EXPECT_EQ(*r->rows[0][1], std::to_string(t.size() - 1));
  EXPECT_EQ(*r->rows[0][3], "4326");
  // PostGIS's length on the spheroid against the sum of our geodesics over the same lines.
  double expected = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    if (i == 200) continue;  // a new segment
    size_t prev = i - 1 == 50 ? 49 : i - 1;
    if (i == 50) continue;
    expected +=
        engine::VincentyDistanceM(t.lat_deg[prev], t.lon_deg[prev], t.lat_deg[i], t.lon_deg[i]);
  }
  EXPECT_NEAR(std::stod(*r->rows[0][2]), expected, expected * 1e-4);
  // The question an operator asks: which runs went through this box?
  r = pg_->Exec(
      "SELECT count(*)::text FROM stride_run_tracks "
      "WHERE geom && ST_MakeEnvelope(1.4985, 42.5005, 1.4995, 42.5015, 4326)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->rows[0][0], "2");
  r = pg_->Exec(
      "SELECT count(*)::text FROM stride_run_tracks "
      "WHERE geom && ST_MakeEnvelope(6.3, 45.6, 6.4, 45.7, 4326)");
  EXPECT_EQ(*r->rows[0][0], "0");
  // Gone with the run, and with the user.
  ASSERT_TRUE(store_->Delete("erin", id).value());
  EXPECT_EQ(Rows("stride_run_tracks", "erin"), 1u);
  ASSERT_TRUE(store_->DeleteUser("erin").ok());
  EXPECT_EQ(Rows("stride_run_tracks", "erin"), 0u);
  (void)other;
}

// `stride serve --runs postgresql://...` replicas: one truth for runs.
const std::string kSecret = "postgres-test-secret-0123456789abcdefgh";

// A replica of `stride serve` with its runs in PostgreSQL at `uri`.
std::unique_ptr<testing::RunningServer> PgReplica(const std::string& dir, const std::string& uri,
                                                  std::ostream* error_log = nullptr,
                                                  bool with_challenges = false) {
  server::HttpServerOptions o;
  o.error_log = error_log;
  if (with_challenges) {
    o.bundled_plugins = {{plugins::challenges::Info, plugins::challenges::InitV1}};
  }
  o.db_path = dir + "/db";
  o.jwt_secret = kSecret;
  o.rate_limits = {};
  tools::ServeStoreOptions s;
  s.runs_path = uri;
  return std::make_unique<testing::RunningServer>(o, s);
}

httplib::Headers AnnAuth() {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {{"Authorization",
           "Bearer " + server::Jwt(kSecret).Mint("ann", "runner:read runner:write", 3600, now)}};
}

TEST(PgReplicas, AnUploadThroughOneServerIsSeenThroughEveryOtherAndAKeyStoresOnce) {
  testing::PostgresServer pg("serve");
  REQUIRE_POSTGRES(pg);
  const std::string dir = testing::ServerFolder("pgreplicas", 10);
  ASSERT_FALSE(dir.empty());
  std::vector<std::unique_ptr<testing::RunningServer>> servers;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(PgReplica(dir, pg.uri()));
    ASSERT_NE(servers.back()->port(), 0) << servers.back()->status().ToString();
  }
  const httplib::Headers auth = AnnAuth();
  datasets::SyntheticRunOptions ro;
  ro.seed = 4;
  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun(ro).recorded);
  auto up =
      testing::ApiClient(servers[0]->port()).Post("/v1/runs", auth, gpx, "application/gpx+xml");
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 201) << up->body;
  const std::string id = nlohmann::json::parse(up->body)["id"];
  for (const auto& s : servers) {
    auto r = testing::ApiClient(s->port()).Get("/v1/runs/" + id, auth);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(nlohmann::json::parse(r->body), nlohmann::json::parse(up->body));
  }
  // The same Idempotency-Key to all three at once: one run, one id in every answer.
  ro.seed = 5;
  const std::string second = datasets::WriteGpx(datasets::MakeSyntheticRun(ro).recorded);
  httplib::Headers keyed = auth;
  keyed.emplace("Idempotency-Key", "phone-upload-77");
  std::vector<std::string> ids(6);
  std::vector<int> statuses(6);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < ids.size(); ++i) {
    clients.emplace_back([&, i] {
      auto r = testing::ApiClient(servers[i % 3]->port())
                   .Post("/v1/runs", keyed, second, "application/gpx+xml");
      if (!r) return;
      statuses[i] = r->status;
      if (r->status / 100 == 2) ids[i] = nlohmann::json::parse(r->body)["id"];
    });
  }
  for (auto& t : clients) t.join();
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_TRUE(statuses[i] == 200 || statuses[i] == 201) << statuses[i];
    EXPECT_EQ(ids[i], ids[0]);
  }
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1);
  auto list = testing::ApiClient(servers[2]->port()).Get("/v1/runs", auth);
  ASSERT_TRUE(list);
  EXPECT_EQ(nlohmann::json::parse(list->body)["runs"].size(), 2u) << list->body;
  // Deleting the user through one server removes everything, as every server sees.
  auto gone = testing::ApiClient(servers[1]->port()).Delete("/v1/me", auth);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status / 100, 2) << gone->body;
  auto after = testing::ApiClient(servers[0]->port()).Get("/v1/runs/" + id, auth);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 404);
  servers.clear();
  fs::remove_all(dir);
}

TEST(PgReplicas, APostgresRestartGives503WithRetryAfterThenRecovers) {
  testing::PostgresServer pg("restart");
  REQUIRE_POSTGRES(pg);
  const std::string dir = testing::ServerFolder("pgrestart", 5);
  ASSERT_FALSE(dir.empty());
  std::ostringstream error_log;
  auto server = PgReplica(dir, pg.uri(), &error_log, /*with_challenges=*/true);
  ASSERT_NE(server->port(), 0) << server->status().ToString();
  const httplib::Headers auth = AnnAuth();
  datasets::SyntheticRunOptions ro;
  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun(ro).recorded);
  httplib::Client c = testing::ApiClient(server->port());
  c.set_read_timeout(30, 0);
  auto before = c.Post("/v1/runs", auth, gpx, "application/gpx+xml");
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 201) << before->body;
  pg.Kill();
  // A plugin's write takes its lock in PostgreSQL first: that fails the same way.
  for (const std::string what : {"upload", "list", "join"}) {
    auto r = what == "upload" ? c.Post("/v1/runs", auth, gpx, "application/gpx+xml")
             : what == "list" ? c.Get("/v1/runs", auth)
                              : c.Post("/v1/challenges/c1/join", auth, "", "application/json");
    ASSERT_TRUE(r) << what;
    EXPECT_EQ(r->status, 503) << what << ": " << r->body;
    EXPECT_EQ(r->get_header_value("Retry-After"), "2") << what;
    EXPECT_NE(r->body.find("\"unavailable\""), std::string::npos) << r->body;
    // The client learns an incident id, not where the database is or what it said; the
    // operator's log has that under the same id.
    EXPECT_EQ(r->body.find("PGSQL"), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("PostgreSQL"), std::string::npos) << r->body;
    const size_t at = r->body.find("(incident ");
    ASSERT_NE(at, std::string::npos) << r->body;
    const std::string id = r->body.substr(at + 10, 8);
    const std::string log = error_log.str();
    const size_t line = log.find(" incident " + id + ": ");
    ASSERT_NE(line, std::string::npos) << log;
    EXPECT_NE(log.find("PostgreSQL", line), std::string::npos) << log;
    EXPECT_NE(log.find(what == "upload" ? "(POST /v1/runs 503)"
                       : what == "list" ? "(GET /v1/runs 503)"
                                        : "(POST /v1/challenges/c1/join 503)",
                       line),
              std::string::npos)
        << log;
  }
  pg.Start();
  ASSERT_TRUE(pg.ok());
  auto after = c.Post("/v1/runs", auth, gpx, "application/gpx+xml");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 201) << after->body;
  auto list = c.Get("/v1/runs", auth);
  ASSERT_TRUE(list);
  EXPECT_EQ(nlohmann::json::parse(list->body)["runs"].size(), 2u) << list->body;
  server.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stride
