// SPDX-License-Identifier: Apache-2.0
//
// PostgreSQL for several servers' user data (issue 20), against a real PostgreSQL started by
// each test (tests/support/postgres_server.hpp): the schema migrated once however many servers
// start together, a newer schema refused, clear errors for a server that is not there; and one
// suite of KeyValue behaviour run over every implementation (in memory, RocksDB's plugin
// namespaces, PostgreSQL), so the PostgreSQL one is held to what the others do.
#include "index/pg/postgres.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "engine/store/key_value.hpp"
#include "index/store/run_db.hpp"
#include "tests/support/postgres_server.hpp"

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

}  // namespace
}  // namespace stride
