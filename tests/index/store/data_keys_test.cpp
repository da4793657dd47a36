// SPDX-License-Identifier: Apache-2.0
//
// Encryption at rest: AES-256-GCM against the published vectors of its specification, the key
// ring's parsing, data keys in files (persisted, destroyed, rotated, refused when wrong), and
// the run database sealed with them: a known plaintext is searched for in every file of the
// database, found in a plaintext database (so the search works) and absent from a sealed one;
// after DeleteUser, a backup taken before it no longer opens the user's records.
#include "index/store/data_keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "engine/hex.hpp"
#include "engine/sha256.hpp"
#include "index/store/run_db.hpp"
#include "tests/support/files.hpp"

namespace stride::index {
namespace {
namespace fs = std::filesystem;

std::string Unhex(std::string_view hex) {
  std::string out;
  EXPECT_TRUE(engine::HexDecode(hex, &out)) << hex;
  return out;
}

Key256 KeyOf(std::string_view hex) {
  Key256 k{};
  const std::string bytes = Unhex(hex);
  std::copy(bytes.begin(), bytes.end(), k.begin());
  return k;
}

// FIPS 180-2's SHA-256 examples: "abc", and the 448-bit message, given whole and in pieces
// (the streamed digest is the digest of the pieces joined, wherever they are cut).
TEST(Sha256, MatchesThePublishedVectorsWholeAndInPieces) {
  EXPECT_EQ(engine::HexEncode(engine::Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  const std::string want = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  EXPECT_EQ(engine::HexEncode(engine::Sha256(m)), want);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{17}, m.size()}) {
    engine::Sha256Stream s;
    s.Update(std::string_view(m).substr(0, cut));
    s.Update(std::string_view(m).substr(cut));
    EXPECT_EQ(engine::HexEncode(s.Finish()), want) << "cut at " << cut;
  }
  engine::Sha256Stream empty;
  EXPECT_EQ(engine::HexEncode(empty.Finish()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13, 14 and 16 (the
// 256-bit key cases; also NIST's GCM validation set).
TEST(AesGcm, MatchesThePublishedTestVectors) {
  const std::string nonce12 = std::string(12, '\0');
  Result<std::string> tc13 = SealAesGcmWithNonce(Key256{}, nonce12, "", "");
  ASSERT_TRUE(tc13.ok());
  EXPECT_EQ(engine::HexEncode(tc13->substr(12)), "530f8afbc74536b9a963b4f1c4cb738b");
  Result<std::string> tc14 = SealAesGcmWithNonce(Key256{}, nonce12, "", std::string(16, '\0'));
  ASSERT_TRUE(tc14.ok());
  EXPECT_EQ(engine::HexEncode(tc14->substr(12)),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
  const Key256 k = KeyOf("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const std::string iv = Unhex("cafebabefacedbaddecaf888");
  const std::string pt = Unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449"
      "a6b525b16aedf5aa0de657ba637b39");
  const std::string aad = Unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  Result<std::string> tc16 = SealAesGcmWithNonce(k, iv, aad, pt);
  ASSERT_TRUE(tc16.ok());
  EXPECT_EQ(engine::HexEncode(tc16->substr(12)),
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b0"
            "8b1056828838c5f61e6393ba7a0abcc9f662"
            "76fc6ece0f4e1768cddf8853bb2d551b");
  Result<std::string> back = OpenAesGcm(k, aad, *tc16);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, pt);
}

TEST(AesGcm, RefusesAlteredBytesWrongDataAndWrongKeys) {
  const Key256 k = RandomKey().value();
  const std::string sealed = SealAesGcm(k, "runs/alice", "10 km at dawn").value();
  EXPECT_EQ(sealed.size(), 13 + kGcmOverhead);
  EXPECT_NE(sealed, SealAesGcm(k, "runs/alice", "10 km at dawn").value());  // fresh nonce
  EXPECT_EQ(OpenAesGcm(k, "runs/alice", sealed).value(), "10 km at dawn");
  for (size_t i : {size_t{0}, size_t{12}, sealed.size() - 1}) {
    std::string bad = sealed;
    bad[i] ^= 1;
    EXPECT_EQ(OpenAesGcm(k, "runs/alice", bad).status().code(), StatusCode::kCorruption) << i;
  }
  EXPECT_EQ(OpenAesGcm(k, "runs/bob", sealed).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(OpenAesGcm(RandomKey().value(), "runs/alice", sealed).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(OpenAesGcm(k, "", "short").status().code(), StatusCode::kCorruption);
}

const std::string kHexA = std::string(64, 'a');
const std::string kHexB = std::string(63, '0') + "1";

TEST(KeyRing, ParsesEntriesWithThePrimaryFirst) {
  Result<KeyRing> ring =
      KeyRing::Parse("# keys\nnew-2026=" + kHexB + "  # primary\n\nold.1 = " + kHexA + "\n", "F");
  ASSERT_TRUE(ring.ok()) << ring.status().message();
  EXPECT_EQ(ring->size(), 2u);
  EXPECT_EQ(ring->primary().id, "new-2026");
  EXPECT_EQ(ring->primary().key[31], 1);
  ASSERT_NE(ring->Find("old.1"), nullptr);
  EXPECT_EQ(ring->Find("old.1")->key[0], 0xaa);
  EXPECT_EQ(ring->Find("other"), nullptr);
  EXPECT_EQ(KeyRing::Parse("a=" + kHexA + ",b=" + kHexB, "env").value().size(), 2u);
}

TEST(KeyRing, ErrorsNameTheLineAndNeverTheKey) {
  const std::string shortkey = std::string(62, 'c');
  Result<KeyRing> r = KeyRing::Parse("a=" + kHexA + "\nb=" + shortkey + "\n", "KEK file f");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("KEK file f, line 2"), std::string::npos);
  EXPECT_NE(r.status().message().find("64 hex"), std::string::npos);
  EXPECT_EQ(r.status().message().find(shortkey), std::string::npos);
  EXPECT_NE(KeyRing::Parse(kHexA, "f").status().message().find("expected ID=HEX"),
            std::string::npos);
  EXPECT_NE(KeyRing::Parse("a=" + kHexA + "\na=" + kHexB, "f").status().message().find("twice"),
            std::string::npos);
  EXPECT_NE(KeyRing::Parse("a b=" + kHexA, "f").status().message().find("KEK id"),
            std::string::npos);
  EXPECT_NE(KeyRing::Parse("# nothing\n", "f").status().message().find("no KEK"),
            std::string::npos);
  EXPECT_FALSE(KeyRing::Parse("a=" + std::string(63, 'a') + "g", "f").ok());
  const std::string entry = KeyRing::NewEntry("k").value();
  EXPECT_EQ(entry.size(), 2u + 64u);
  EXPECT_TRUE(KeyRing::Parse(entry, "new").ok());
  EXPECT_NE(KeyRing::NewEntry("k").value(), entry);
}

class DataKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        (fs::path(::testing::TempDir()) / ("stride_keys_" + std::to_string(::getpid()))).string();
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  static KeyRing Ring(const std::string& text) { return KeyRing::Parse(text, "test").value(); }
  std::unique_ptr<FileDataKeys> Keys(const std::string& ring_text) {
    Result<std::unique_ptr<FileDataKeys>> k =
        FileDataKeys::Open(root_ + "/keys", Ring(ring_text), {});
    EXPECT_TRUE(k.ok()) << k.status().message();
    return k.ok() ? std::move(k).value() : nullptr;
  }
  size_t KeyFiles() const {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_ + "/keys")) {
      n += e.path().extension() == ".key";
    }
    return n;
  }
  std::string root_;
};

TEST_F(DataKeysTest, KeysPersistAndDestroyedOnesAreGoneForGood) {
  Key256 alice{}, bob{};
  std::string id;
  {
    auto keys = Keys("k1=" + kHexA);
    id = keys->id();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_FALSE(keys->Find("alice").value().has_value());
    EXPECT_EQ(KeyFiles(), 0u);  // Find makes nothing
    alice = keys->GetOrCreate("alice").value();
    bob = keys->GetOrCreate("bob").value();
    EXPECT_NE(alice, bob);
    EXPECT_EQ(keys->GetOrCreate("alice").value(), alice);
    EXPECT_EQ(KeyFiles(), 2u);
  }
  auto keys = Keys("k1=" + kHexA);
  EXPECT_EQ(keys->id(), id);
  EXPECT_EQ(keys->Find("alice").value(), std::optional<Key256>(alice));
  // The file holds the key wrapped, not the key.
  for (const auto& e : fs::recursive_directory_iterator(root_ + "/keys")) {
    if (e.path().extension() != ".key") continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(bytes.find(std::string(reinterpret_cast<const char*>(alice.data()), 32)),
              std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << e.path();
  }
  ASSERT_TRUE(keys->Destroy("alice").ok());
  EXPECT_TRUE(keys->Destroy("alice").ok());  // again: nothing to do
  EXPECT_FALSE(keys->Find("alice").value().has_value());
  EXPECT_EQ(KeyFiles(), 1u);
  keys.reset();
  keys = Keys("k1=" + kHexA);
  EXPECT_FALSE(keys->Find("alice").value().has_value());
  EXPECT_EQ(keys->Find("bob").value(), std::optional<Key256>(bob));
  // A new key for a returning user is another key.
  EXPECT_NE(keys->GetOrCreate("alice").value(), alice);
}

TEST_F(DataKeysTest, WrongKekMovedFilesAndForeignDirectoriesAreRefused) {
  Key256 alice{};
  {
    auto keys = Keys("k1=" + kHexA);
    alice = keys->GetOrCreate("alice").value();
    keys->GetOrCreate("bob").value();
  }
  {
    // Same id, other bytes: the wrapped key does not open (not a new key over old data).
    auto keys = Keys("k1=" + kHexB);
    Result<std::optional<Key256>> r = keys->Find("alice");
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_EQ(keys->GetOrCreate("alice").status().code(), StatusCode::kCorruption);
  }
  {
    auto keys = Keys("k2=" + kHexB);
    Result<std::optional<Key256>> r = keys->Find("alice");
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(r.status().message().find("KEK 'k1'"), std::string::npos);
  }
  // Bob's key file copied over Alice's: bound to its name, it does not unwrap as hers.
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root_ + "/keys")) {
    if (e.path().extension() == ".key") files.push_back(e.path());
  }
  ASSERT_EQ(files.size(), 2u);
  {
    auto keys = Keys("k1=" + kHexA);
    fs::copy_file(files[0], files[1], fs::copy_options::overwrite_existing);
    Result<std::optional<Key256>> a = keys->Find("alice");
    Result<std::optional<Key256>> b = keys->Find("bob");
    EXPECT_NE(a.ok(), b.ok());  // one of them is the copy
  }
  fs::create_directories(root_ + "/other");
  std::ofstream(root_ + "/other/x") << "x";
  EXPECT_EQ(FileDataKeys::Open(root_ + "/other", Ring("k=" + kHexA), {}).status().code(),
            StatusCode::kInvalidArgument);
  (void)alice;
}

TEST_F(DataKeysTest, RotationRewrapsUnderThePrimaryThenTheOldKekCanGo) {
  std::vector<Key256> made;
  {
    auto keys = Keys("old=" + kHexA);
    for (int i = 0; i < 5; ++i) made.push_back(keys->GetOrCreate("u" + std::to_string(i)).value());
  }
  {
    // The new KEK first: a key used is rewrapped at once, the rest by Rotate.
    auto keys = Keys("new=" + kHexB + "\nold=" + kHexA);
    EXPECT_EQ(keys->Find("u0").value(), std::optional<Key256>(made[0]));
    Result<FileDataKeys::RotateReport> r = keys->Rotate();
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->keys, 5u);
    EXPECT_EQ(r->rewrapped, 4u);
    EXPECT_EQ(keys->Rotate().value().rewrapped, 0u);
  }
  auto keys = Keys("new=" + kHexB);  // the old KEK retired
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(keys->Find("u" + std::to_string(i)).value(), std::optional<Key256>(made[i])) << i;
  }
}

TEST_F(DataKeysTest, KekFilesReadableByOthersAreRefused) {
  const std::string f = root_ + "/kek";
  std::ofstream(f) << "k=" << kHexA << "\n";
  ::chmod(f.c_str(), 0644);
  Result<KeyRing> open = KeyRing::LoadFile(f);
  EXPECT_EQ(open.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos);
  ::chmod(f.c_str(), 0600);
  EXPECT_TRUE(KeyRing::LoadFile(f).ok());
  EXPECT_EQ(KeyRing::LoadFile(root_ + "/none").status().code(), StatusCode::kNotFound);
}

// --- the run database sealed ---

engine::Run CanaryRun(const std::string& user, const std::string& canary, uint32_t seed) {
  engine::Run r;
  r.summary.user_id = user;
  r.summary.start_time_s = 1.7e9 + seed;
  r.summary.uploaded_at_s = 1.8e9;
  r.summary.sport = "run";
  r.summary.format = "gpx";
  r.summary.file_name = canary + ".gpx";
  r.summary.distance_m = 1000;
  r.summary.sessions = 0;
  std::mt19937 rng(seed);
  r.original = std::string(4000, 'x');
  for (char& c : r.original) c = static_cast<char>(rng());  // random: stays raw under zstd
  return r;
}

TEST_F(DataKeysTest, SealedRunDatabaseHoldsNoPlaintextOnDisk) {
  const std::string canary = "Canary-Trail-7f3a9c-Home-Street";
  const engine::Run run = CanaryRun("alice", canary, 1);
  const std::string raw_piece = run.original.substr(1000, 48);
  for (const bool sealed : {false, true}) {
    SCOPED_TRACE(sealed ? "sealed" : "plaintext");
    const std::string dir = root_ + (sealed ? "/sealed" : "/plain");
    auto keys = Keys("k=" + kHexA);
    RunDb::Options o;
    o.sync = false;
    if (sealed) o.data_keys = keys.get();
    {
      auto db = RunDb::Open(dir, o).value();
      const uint64_t id = db->Put(run, "").value().id;
      engine::KeyValue* plugin = db->PluginNamespace("notes").value();
      ASSERT_TRUE(plugin->Put(std::string("alice\0note", 10), "note " + canary).ok());
      ASSERT_TRUE(plugin->Put(std::string("\0shared", 7), "shared text").ok());
      engine::KeyValue* host = db->HostState().value();
      ASSERT_TRUE(
          host->Put(std::string("alice\0profile", 13), "{\"home\":\"" + canary + "\"}").ok());
      // Read back through the seal.
      engine::Run back = db->Get("alice", id, engine::RunParts{}).value();
      EXPECT_EQ(back.summary.file_name, canary + ".gpx");
      EXPECT_EQ(back.original, run.original);
      EXPECT_EQ(db->List("alice", "", 10).value().runs.size(), 1u);
      EXPECT_EQ(plugin->Get(std::string("alice\0note", 10)).value(), "note " + canary);
      size_t scanned = 0;
      ASSERT_TRUE(plugin
                      ->Scan("",
                             [&](std::string_view, std::string_view v) {
                               scanned += v == "note " + canary || v == "shared text";
                               return true;
                             })
                      .ok());
      EXPECT_EQ(scanned, 2u);
      // Shared records stay readable as they are.
      EXPECT_EQ(plugin->Get(std::string("\0shared", 7)).value(), "shared text");
      ASSERT_TRUE(db->Compact().ok());
    }
    // Log files, tables, everything: the plaintext database shows the canary (so the search
    // works), the sealed one nowhere.
    if (sealed) {
      EXPECT_EQ(testing::FilesHolding(dir, canary), 0u);
      EXPECT_EQ(testing::FilesHolding(dir, raw_piece), 0u);
      EXPECT_GT(testing::FilesHolding(dir, "shared text"), 0u);
    } else {
      EXPECT_GT(testing::FilesHolding(dir, canary), 0u);
      EXPECT_GT(testing::FilesHolding(dir, raw_piece), 0u);
    }
  }
}

TEST_F(DataKeysTest, SealedDatabasesOpenOnlyWithTheirKeys) {
  const std::string dir = root_ + "/runs";
  auto keys = Keys("k=" + kHexA);
  RunDb::Options o;
  o.sync = false;
  o.data_keys = keys.get();
  { ASSERT_TRUE(RunDb::Open(dir, o).ok()); }
  Result<std::unique_ptr<RunDb>> bare = RunDb::Open(dir, {});
  EXPECT_EQ(bare.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bare.status().message().find("encrypted at rest"), std::string::npos);
  RunDb::Options backup_only;
  backup_only.records_unused = true;
  EXPECT_TRUE(RunDb::Open(dir, backup_only).ok());
  MemoryDataKeys other;
  RunDb::Options wrong = o;
  wrong.data_keys = &other;
  Result<std::unique_ptr<RunDb>> mismatched = RunDb::Open(dir, wrong);
  EXPECT_NE(mismatched.status().message().find("wrong --key-dir"), std::string::npos);
  // A plaintext database is not sealed in place.
  { ASSERT_TRUE(RunDb::Open(root_ + "/plain", {}).ok()); }
  EXPECT_NE(RunDb::Open(root_ + "/plain", o).status().message().find("without encryption"),
            std::string::npos);
}

TEST_F(DataKeysTest, DeleteUserShredsWhatABackupStillHolds) {
  const std::string dir = root_ + "/runs", backups = root_ + "/backups";
  auto keys = Keys("k=" + kHexA);
  RunDb::Options o;
  o.sync = false;
  o.data_keys = keys.get();
  uint64_t alice_run = 0, bob_run = 0;
  {
    auto db = RunDb::Open(dir, o).value();
    alice_run = db->Put(CanaryRun("alice", "alice-canary", 1), "").value().id;
    bob_run = db->Put(CanaryRun("bob", "bob-canary", 2), "").value().id;
    ASSERT_TRUE(db->PluginNamespace("notes").value()->Put(std::string("alice\0n", 7), "x").ok());
    ASSERT_TRUE(db->Backup(backups).ok());
    ASSERT_EQ(db->DeleteUser("alice").value().size(), 1u);
    EXPECT_FALSE(keys->Find("alice").value().has_value());
  }
  ASSERT_TRUE(RunDb::Restore(backups, 0, root_ + "/restored").ok());
  auto restored = RunDb::Open(root_ + "/restored", o).value();
  // Alice's records are in the backup's files, but they open as nothing.
  EXPECT_EQ(restored->Get("alice", alice_run, {}).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(restored->List("alice", "", 10).value().runs.empty());
  EXPECT_FALSE(restored->PluginNamespace("notes")
                   .value()
                   ->Get(std::string("alice\0n", 7))
                   .value()
                   .has_value());
  // Bob's are whole.
  Result<engine::Run> bob = restored->Get("bob", bob_run, {});
  ASSERT_TRUE(bob.ok()) << bob.status().message();
  EXPECT_EQ(bob->summary.file_name, "bob-canary.gpx");
  // A shredded run still has records to delete.
  EXPECT_TRUE(restored->Delete("alice", alice_run).value());
}

}  // namespace
}  // namespace stride::index
