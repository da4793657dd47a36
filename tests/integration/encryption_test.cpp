// SPDX-License-Identifier: Apache-2.0
//
// Encryption at rest through a real server on loopback, as an operator runs it (a KEK file,
// the key directory beside the runs): a runner's upload, file name and chat message are
// searched for in every file the server wrote, before and after DELETE /v1/me; the export
// still gives them back in clear to their owner; the same KEK reopens the database after a
// restart, and a plaintext database is refused with a KEK rather than silently mixed.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "datasets/synthetic_activity.hpp"
#include "plugins/chat/chat.hpp"
#include "server/auth.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/files.hpp"
#include "tests/support/running_server.hpp"
#include "tests/support/tar.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSecret = "encryption-test-secret-0123456789abcdef";
const std::string kKek1 = "k1=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

httplib::Headers Bearer(const std::string& user) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {{"Authorization", "Bearer " + server::Jwt(kSecret).Mint(
                                            user, "runner:read runner:write chat:ask", 3600, now)}};
}

size_t KeyFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.path().extension() == ".key";
  return n;
}

class Encryption : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::ServerFolder("encryption");
    ASSERT_FALSE(dir_.empty());
    std::ofstream(dir_ + "/kek") << "# test ring\n" << kKek1 << "\n";
    ::chmod((dir_ + "/kek").c_str(), 0600);
    o_.db_path = dir_ + "/db";
    o_.jwt_secret = kSecret;
    o_.rate_limits = {};
    o_.bundled_plugins = {{plugins::chat::Info, plugins::chat::InitV1}};
    so_ = testing::RunsAt(dir_ + "/runs");
    so_.kek_file = dir_ + "/kek";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
  server::HttpServerOptions o_;
  tools::ServeStoreOptions so_;
};

TEST_F(Encryption, NothingOfARunnerIsReadableOnDiskAndDeleteMeShredsIt) {
  const std::string file_canary = "Canary-Home-Lane-42b7";
  const std::string chat_canary = "my knee hurts after the canary-9e1d hill";
  datasets::SyntheticRunOptions ro;
  ro.laps = 1;
  ro.seed = 7;
  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun(ro).recorded);
  // Uploads ann's run (named file_canary), her chat question and bob's run; checks that she
  // gets them back in clear; returns her run's id.
  auto populate = [&](const tools::ServeStoreOptions& stores) {
    testing::RunningServer server(o_, stores);
    EXPECT_NE(server.port(), 0) << server.status().message();
    httplib::Client c = stride::testing::ApiClient(server.port());
    c.set_read_timeout(60, 0);
    httplib::Headers h = Bearer("ann");
    h.emplace("X-File-Name", file_canary + ".gpx");
    auto up = c.Post("/v1/runs", h, gpx, "application/gpx+xml");
    EXPECT_TRUE(up && up->status == 201) << (up ? up->body : "no answer");
    if (!up || up->status != 201) return std::string();
    const std::string id = Json::parse(up->body)["id"];
    auto ask = c.Post("/v1/chat/ask", Bearer("ann"), Json{{"question", chat_canary}}.dump(),
                      "application/json");
    EXPECT_TRUE(ask && ask->status == 200) << (ask ? ask->body : "no answer");
    EXPECT_EQ(c.Post("/v1/runs", Bearer("bob"), gpx, "application/gpx+xml")->status, 201);
    if (server.http().plugin_host()) server.http().plugin_host()->Drain();
    auto got = c.Get("/v1/runs/" + id, Bearer("ann"));
    EXPECT_EQ(got->status, 200) << got->body;
    EXPECT_NE(got->body.find(file_canary), std::string::npos);
    const auto files = testing::Untar(c.Get("/v1/me/export", Bearer("ann"))->body);
    EXPECT_TRUE(files.count("stride-export/plugins/chat.json") &&
                files.at("stride-export/plugins/chat.json").find(chat_canary) != std::string::npos);
    bool original_exported = false;
    for (const auto& [name, bytes] : files) original_exported |= bytes == gpx;
    EXPECT_TRUE(original_exported);
    return id;
  };
  // The control: without a KEK the same traffic leaves both canaries in the files, so the
  // search below would see them.
  populate(testing::RunsAt(dir_ + "/plain"));
  EXPECT_GT(testing::FilesHolding(dir_ + "/plain", file_canary), 0u);
  EXPECT_GT(testing::FilesHolding(dir_ + "/plain", chat_canary), 0u);

  const std::string id = populate(so_);
  ASSERT_FALSE(id.empty());
  // Stopped: every file the server wrote (logs, tables, manifests), and the key directory.
  EXPECT_EQ(testing::FilesHolding(dir_ + "/runs", file_canary), 0u);
  EXPECT_EQ(testing::FilesHolding(dir_ + "/runs", chat_canary), 0u);
  EXPECT_EQ(testing::FilesHolding(dir_ + "/runs.keys", file_canary), 0u);
  EXPECT_EQ(KeyFiles(dir_ + "/runs.keys"), 2u);  // ann and bob

  // Restarted with the same KEK: readable; then ann leaves.
  {
    testing::RunningServer server(o_, so_);
    ASSERT_NE(server.port(), 0) << server.status().message();
    httplib::Client c = stride::testing::ApiClient(server.port());
    c.set_read_timeout(60, 0);
    auto got = c.Get("/v1/runs/" + id, Bearer("ann"));
    ASSERT_EQ(got->status, 200) << got->body;
    EXPECT_NE(got->body.find(file_canary), std::string::npos);
    ASSERT_EQ(c.Delete("/v1/me", Bearer("ann"))->status, 200);
    EXPECT_EQ(KeyFiles(dir_ + "/runs.keys"), 1u);  // ann's key went first
    EXPECT_EQ(c.Get("/v1/runs/" + id, Bearer("ann"))->status, 404);
    EXPECT_EQ(Json::parse(c.Get("/v1/runs", Bearer("bob"))->body)["runs"].size(), 1u);
  }
}

TEST_F(Encryption, WrongOrMissingKeysAreRefusedAtStart) {
  {
    testing::RunningServer server(o_, so_);
    ASSERT_NE(server.port(), 0) << server.status().message();
  }
  // Without the KEK: refused, not served as unreadable.
  tools::ServeStoreOptions bare = testing::RunsAt(dir_ + "/runs");
  testing::RunningServer no_kek(o_, bare);
  EXPECT_EQ(no_kek.port(), 0);
  EXPECT_NE(no_kek.status().message().find("encrypted at rest"), std::string::npos)
      << no_kek.status().message();
  // Another key directory (a new, empty one): refused, never new keys over old records.
  tools::ServeStoreOptions other = so_;
  other.key_dir = dir_ + "/other-keys";
  testing::RunningServer wrong_dir(o_, other);
  EXPECT_EQ(wrong_dir.port(), 0);
  EXPECT_NE(wrong_dir.status().message().find("wrong --key-dir"), std::string::npos)
      << wrong_dir.status().message();
  // A KEK file others may read.
  ::chmod((dir_ + "/kek").c_str(), 0644);
  testing::RunningServer loose(o_, so_);
  EXPECT_EQ(loose.port(), 0);
  EXPECT_NE(loose.status().message().find("chmod 600"), std::string::npos);
  ::chmod((dir_ + "/kek").c_str(), 0600);
  // A plaintext database given a KEK.
  tools::ServeStoreOptions plain = testing::RunsAt(dir_ + "/plain");
  { testing::RunningServer server(o_, plain); }
  plain.kek_file = dir_ + "/kek";
  testing::RunningServer mixed(o_, plain);
  EXPECT_EQ(mixed.port(), 0);
  EXPECT_NE(mixed.status().message().find("without encryption"), std::string::npos);
}

// An operator's rotation, through the commands: `keys new` prints a line the KEK file takes,
// `keys rotate` rewraps every data key under it, and then the old KEK can go: the server
// starts with the new one alone and reads the runs stored under the old.
TEST_F(Encryption, KeysNewAndRotateLetTheOldKekGo) {
  datasets::SyntheticRunOptions ro;
  ro.laps = 1;
  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun(ro).recorded);
  std::string id;
  {
    testing::RunningServer server(o_, so_);
    ASSERT_NE(server.port(), 0) << server.status().message();
    httplib::Client c = stride::testing::ApiClient(server.port());
    c.set_read_timeout(60, 0);
    for (const char* user : {"ann", "bob"}) {
      auto up = c.Post("/v1/runs", Bearer(user), gpx, "application/gpx+xml");
      ASSERT_TRUE(up && up->status == 201) << (up ? up->body : "no answer");
      id = Json::parse(up->body)["id"];  // bob's
    }
  }
  const testing::CliRun made = testing::Stride("keys new --id k2");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_EQ(made.out.rfind("k2=", 0), 0u) << made.out;
  EXPECT_EQ(made.out.size(), 3 + 64 + 1u) << made.out;           // k2=, 256 bits in hex, newline
  EXPECT_NE(testing::Stride("keys new --id k2").out, made.out);  // random, not derived
  // The new line first (the primary), the old one kept until the rotation has run.
  std::ofstream(dir_ + "/kek") << made.out << kKek1 << "\n";
  const std::string rotate =
      "keys rotate --key-dir " + dir_ + "/runs.keys --kek-file " + dir_ + "/kek";
  const testing::CliRun rotated = testing::Stride(rotate);
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_EQ(rotated.out, "2 data keys in " + dir_ + "/runs.keys, 2 rewrapped under KEK 'k2'\n");
  const testing::CliRun again = testing::Stride(rotate);
  EXPECT_EQ(again.out, "2 data keys in " + dir_ + "/runs.keys, 0 rewrapped under KEK 'k2'\n");

  // A misspelt key directory is an error, and is not made: it was created empty and the
  // rotation reported "0 data keys ... 0 rewrapped" with exit 0, as if done.
  for (const std::string& wrong : {dir_ + "/runs.key", dir_ + "/runs"}) {
    const testing::CliRun miss =
        testing::Stride("keys rotate --key-dir " + wrong + " --kek-file " + dir_ + "/kek");
    EXPECT_EQ(miss.exit_code, 1) << miss.out;
    EXPECT_NE(miss.err.find("--key-dir " + wrong + ": not a key directory (no STORE file"),
              std::string::npos)
        << miss.err;
    EXPECT_EQ(miss.out, "");
  }
  EXPECT_FALSE(fs::exists(dir_ + "/runs.key"));

  std::ofstream(dir_ + "/kek") << made.out;  // k1 gone
  {
    testing::RunningServer server(o_, so_);
    ASSERT_NE(server.port(), 0) << server.status().message();
    httplib::Client c = stride::testing::ApiClient(server.port());
    auto got = c.Get("/v1/runs/" + id, Bearer("bob"));
    EXPECT_EQ(got->status, 200) << got->body;
  }

  // Bad command lines: exit 2 and what was wrong, nothing printed as a key.
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"keys new --id ''", "an empty argument after --id (an unset shell variable?)"},
           {"keys new --id 'a b'", "KEK id 'a b'"},
           {"keys rotate", "--key-dir is required"},
           {"keys new --key-dir x", "unknown or incomplete option '--key-dir'"},
           {"keys frobnicate", "unknown verb 'frobnicate'"}}) {
    const testing::CliRun r = testing::Stride(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << ": " << r.err;
    EXPECT_EQ(r.out, "") << args;
  }
}

}  // namespace
}  // namespace stride
