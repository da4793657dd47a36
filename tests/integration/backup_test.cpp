// SPDX-License-Identifier: Apache-2.0
//
// Backups while serving, through a real server on loopback: POST /v1/admin/backups while
// uploads go on, then the server stopped, the backup restored with `stride restore` into a new
// directory and compared with what the server acknowledged: every run acknowledged before the
// backup was asked for is in it, byte for byte, and nothing that was never acknowledged.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_routes.hpp"
#include "index/store/run_db.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSecret = "backup-test-secret-0123456789abcdef0123";

httplib::Headers Bearer(const std::string& user, const std::string& scope) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {{"Authorization", "Bearer " + server::Jwt(kSecret).Mint(user, scope, 3600, now)}};
}

std::string RunFile(int i) {
  datasets::SyntheticRunOptions o;
  o.laps = 1;
  o.seed = static_cast<uint32_t>(i + 1);
  o.noise_m = 1;
  o.start_time_s = 1.79e9 + i * 86400.0;
  return datasets::WriteFit(datasets::MakeSyntheticRun(o).recorded);
}

TEST(Backups, TakenWhileServingRestoreEveryAcknowledgedRun) {
  const std::string dir = testing::ServerFolder("backup");
  ASSERT_FALSE(dir.empty());
  server::HttpServerOptions o;
  o.db_path = dir + "/db";
  o.jwt_secret = kSecret;
  tools::ServeStoreOptions so = testing::RunsAt(dir + "/runs");
  so.backup_dir = dir + "/backups";
  std::map<std::string, std::string> acknowledged;  // run id -> the file uploaded
  std::set<std::string> before_backup;
  {
    testing::RunningServer server(o, so);
    ASSERT_NE(server.port(), 0) << server.status().message();
    httplib::Client c = stride::testing::ApiClient(server.port());
    c.set_read_timeout(60, 0);
    auto upload = [&](httplib::Client& client, int i) {
      const std::string file = RunFile(i);
      auto r = client.Post("/v1/runs", Bearer("ann", "runner:read runner:write"), file,
                           "application/octet-stream");
      EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
      return r && r->status == 201
                 ? std::make_pair(Json::parse(r->body)["id"].get<std::string>(), file)
                 : std::make_pair(std::string(), file);
    };
    for (int i = 0; i < 6; ++i) {
      auto [id, file] = upload(c, i);
      acknowledged[id] = file;
      before_backup.insert(id);
    }
    // Only an admin may ask; the list is empty before the first.
    auto denied = c.Post("/v1/admin/backups", Bearer("ann", "runner:read runner:write"), "", "");
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->status, 403);
    auto none = c.Get("/v1/admin/backups", Bearer("ops", "admin"));
    ASSERT_TRUE(none);
    EXPECT_EQ(Json::parse(none->body)["backups"].size(), 0u) << none->body;
    // Uploads go on from another client while the backup is taken.
    std::vector<std::pair<std::string, std::string>> during;
    std::thread writer([&] {
      httplib::Client w = stride::testing::ApiClient(server.port());
      w.set_read_timeout(60, 0);
      for (int i = 6; i < 14; ++i) during.push_back(upload(w, i));
    });
    auto b = c.Post("/v1/admin/backups", Bearer("ops", "admin"), "", "");
    writer.join();
    ASSERT_TRUE(b);
    ASSERT_EQ(b->status, 201) << b->body;
    const Json backup = Json::parse(b->body);
    EXPECT_EQ(backup["backup"]["id"], 1);
    EXPECT_GT(backup["backup"]["size_bytes"].get<uint64_t>(), 6u * 1000);
    EXPECT_GT(backup["backup"]["files"].get<int>(), 0);
    for (auto& [id, file] : during) acknowledged[id] = file;
    auto list = c.Get("/v1/admin/backups", Bearer("ops", "admin"));
    ASSERT_TRUE(list);
    ASSERT_EQ(Json::parse(list->body)["backups"].size(), 1u);
    // The CLI cannot open a database a server holds, and says what to do instead.
    const testing::CliRun cli =
        testing::Stride("backup --runs " + dir + "/runs --to " + dir + "/cli-backups");
    EXPECT_EQ(cli.exit_code, 1);
    EXPECT_NE(cli.err.find("a running server holds"), std::string::npos) << cli.err;
    EXPECT_NE(cli.err.find("POST /v1/admin/backups"), std::string::npos) << cli.err;
  }
  // Restored beside the live database with the CLI, then compared.
  const testing::CliRun restore =
      testing::Stride("restore --from " + dir + "/backups --runs " + dir + "/restored");
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_NE(restore.out.find("restored the newest backup"), std::string::npos) << restore.out;
  Result<std::unique_ptr<index::RunDb>> db = index::RunDb::Open(dir + "/restored", {});
  ASSERT_TRUE(db.ok()) << db.status().message();
  Result<engine::RunStore::Page> page = (*db)->List("ann", "", 100);
  ASSERT_TRUE(page.ok());
  std::set<std::string> restored;
  for (const engine::RunSummary& s : page->runs) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(s.id));
    restored.insert(hex);
    ASSERT_TRUE(acknowledged.count(hex)) << hex << " was never acknowledged";
    Result<engine::Run> run = (*db)->Get("ann", s.id, {true, false});
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(run->original, acknowledged[hex]) << hex;
  }
  for (const std::string& id : before_backup) EXPECT_TRUE(restored.count(id)) << id;
  EXPECT_GE(restored.size(), before_backup.size());
  // Restoring over a directory that holds something is refused; so is an unknown backup.
  const testing::CliRun again =
      testing::Stride("restore --from " + dir + "/backups --runs " + dir + "/restored");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("exists and is not empty"), std::string::npos) << again.err;
  const testing::CliRun unknown =
      testing::Stride("restore --from " + dir + "/backups --runs " + dir + "/r2 --id 5");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("backup 5 is not in"), std::string::npos) << unknown.err;
  // Counts are digits only: a sign or a space is a usage error (2), not a number.
  for (const char* bad : {"+5", "' 5'", "5x", "0"}) {
    const testing::CliRun odd =
        testing::Stride("restore --from " + dir + "/backups --runs " + dir + "/r2 --id " + bad);
    EXPECT_EQ(odd.exit_code, 2) << bad;
    EXPECT_NE(odd.err.find("expected a backup id"), std::string::npos) << odd.err;
  }
  // With the server stopped the CLI backs up itself, into the same directory.
  const testing::CliRun offline =
      testing::Stride("backup --runs " + dir + "/runs --to " + dir + "/backups");
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_EQ(offline.out.rfind("backup 2 ", 0), 0u) << offline.out;
  const testing::CliRun listed = testing::Stride("backup --list " + dir + "/backups");
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_NE(listed.out.find("backup 1 "), std::string::npos);
  EXPECT_NE(listed.out.find("backup 2 "), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stride
