// SPDX-License-Identifier: Apache-2.0
//
// Encryption at rest with crypto-shredding. Every user's records are sealed with a data key
// of their own (AES-256-GCM, index/crypto/crypto.hpp); data keys are stored wrapped (sealed)
// by a key-encryption key (KEK) that never touches the disk beside them. Deleting a user
// destroys their data key first: whatever of theirs still sits in an uncompacted table file,
// a log file or a backup of the run database is then ciphertext nobody can open.
//
//   KeyRing      the KEKs, from a file or the environment. The first is the primary: new data
//                keys are wrapped under it, and a key wrapped under an older one is rewrapped
//                under it when next used (or by FileDataKeys::Rotate, after which the older
//                KEK can leave the ring). Rotating a KEK never re-encrypts records.
//   DataKeys     where data keys live (interface). FileDataKeys: one small file per user in a
//                directory of its own, kept apart from the run database so that the run
//                database's backups never hold keys; MemoryDataKeys for unit tests.
//   UserSealer   seals and opens one record's value under its user's key, with the record's
//                family and key as associated data (a value moved to another record or user
//                does not open).
//
// Why keys in files and not in the run database: RocksDB keeps a deleted value in log and
// table files until compaction, and in every backup taken before; a key must be gone at once.
// A key file is overwritten with zeros, synced and unlinked (on copy-on-write or journaling
// file systems the old blocks may survive until reused: put the key directory on a file
// system you trust, or on tmpfs with a separate backup of it).
//
// Backups: back the key directory up on its own, with a short retention. A restored run
// database opens with the live key directory; the records of users deleted since the backup
// read as absent.
//
// Thread-safety: DataKeys implementations and UserSealer are safe from any number of threads.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/status.hpp"
#include "index/crypto/crypto.hpp"

namespace stride::index {

struct Kek {
  std::string id;  // [A-Za-z0-9._-]{1,64}, stored beside each data key it wraps
  Key256 key{};
};

class KeyRing {
 public:
  // Entries `ID=HEX` (the KEK as 64 hex digits), one per line or separated by commas; blank
  // lines and text after '#' are ignored. The first entry is the primary. Errors name `where`
  // and the entry (never the key).
  static Result<KeyRing> Parse(std::string_view text, const std::string& where);
  // Parse of a file, refused when group or others may read it (chmod 600).
  static Result<KeyRing> LoadFile(const std::string& path);
  // The ring the server runs with: the file `kek_file` when given, else the file named by
  // STRIDE_KEK_FILE, else the text of STRIDE_KEK; nullopt when none of them is set.
  static Result<std::optional<KeyRing>> FromConfig(const std::string& kek_file);
  // A new KEK entry (`ID=HEX`) with fresh random bytes, for a key-ring file.
  static Result<std::string> NewEntry(const std::string& id);

  KeyRing(const KeyRing&) = default;
  KeyRing(KeyRing&&) = default;
  KeyRing& operator=(KeyRing&&) = default;
  ~KeyRing();

  const Kek& primary() const { return keks_.front(); }
  const Kek* Find(std::string_view id) const;
  size_t size() const { return keks_.size(); }

 private:
  KeyRing() = default;
  std::vector<Kek> keks_;
};

class DataKeys {
 public:
  virtual ~DataKeys() = default;
  // The user's data key; nullopt when they have none (never had one, or it was destroyed).
  virtual Result<std::optional<Key256>> Find(std::string_view user) = 0;
  // The user's data key, made and stored first when they have none.
  virtual Result<Key256> GetOrCreate(std::string_view user) = 0;
  // Destroys the user's key; no error when there is none. Once it returns, no later Get
  // finds it, in this process or after a restart.
  virtual Status Destroy(std::string_view user) = 0;
  // This store's identity (random, made with the store). A database records the identity of
  // the store its records were sealed with and refuses another: opening with the wrong key
  // directory must fail, not make new keys beside unreadable records.
  virtual std::string id() const = 0;
};

class MemoryDataKeys : public DataKeys {
 public:
  Result<std::optional<Key256>> Find(std::string_view user) override;
  Result<Key256> GetOrCreate(std::string_view user) override;
  Status Destroy(std::string_view user) override;
  std::string id() const override { return "memory"; }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, Key256> keys_;
};

class FileDataKeys : public DataKeys {
 public:
  struct Options {
    // fsync key files and the directory on every new or destroyed key. Default: true.
    bool sync = true;
    // Unwrapped keys kept in memory (the cache is emptied when it would grow past this).
    // Default: 100,000 (about 10 MB).
    size_t cache_users = 100000;
    // Make the directory (and its STORE) when it holds none. False for tools that act on an
    // existing store (`stride keys rotate`): a misspelt path is then NotFound, not a new,
    // empty store. Default: true.
    bool create_if_missing = true;
  };
  // The key directory `dir` (created, mode 0700, when missing, unless
  // options.create_if_missing is false: then NotFound) under `ring`. Layout:
  //   dir/STORE             "stride data keys 1\n" and the store id (32 hex digits)
  //   dir/XX/HASH.key       a user's wrapped key: "SDK1" ‖ u8 n ‖ KEK id (n bytes) ‖
  //                         AES-256-GCM(KEK, aad "stride.data-key" 0 HASH, data key);
  //                         HASH = hex SHA-256 of the user id, XX its first two digits
  //                         (a key file renamed to another user's name does not unwrap)
  static Result<std::unique_ptr<FileDataKeys>> Open(const std::string& dir, KeyRing ring,
                                                    const Options& options);
  ~FileDataKeys() override;

  Result<std::optional<Key256>> Find(std::string_view user) override;
  Result<Key256> GetOrCreate(std::string_view user) override;
  Status Destroy(std::string_view user) override;
  std::string id() const override { return id_; }

  struct RotateReport {
    size_t keys = 0;       // data keys found
    size_t rewrapped = 0;  // of them, wrapped under an older KEK and rewrapped now
  };
  // Rewraps every data key not wrapped under the primary KEK. Afterwards the older KEKs can be
  // removed from the ring. Fails (kPermissionDenied) on a key wrapped under a KEK the ring
  // lacks; safe to run again after a failure (keys already rewrapped are skipped).
  Result<RotateReport> Rotate();

 private:
  FileDataKeys(std::string dir, KeyRing ring, Options options);
  // The file of the user whose id hashes to `hash` (hex).
  std::string PathOf(const std::string& hash) const;
  // Reads and unwraps the key file of `hash` (nullopt when it does not exist); rewraps it
  // under the primary KEK when it was wrapped under another. Called with mu_ held.
  Result<std::optional<Key256>> Load(const std::string& hash, bool* rewrapped);
  Status Store(const std::string& hash, const Key256& key) const;
  // Find with mu_ held: the cache, else the key file.
  Result<std::optional<Key256>> FindLocked(std::string_view user);
  // Keeps an unwrapped key in the cache (emptied first when full). Called with mu_ held.
  void Remember(std::string_view user, const Key256& key);

  std::string dir_;
  KeyRing ring_;
  Options options_;
  std::string id_;
  std::mutex mu_;
  std::unordered_map<std::string, Key256> cache_;
};

class UserSealer {
 public:
  explicit UserSealer(DataKeys* keys) : keys_(keys) {}
  // 0x01 ‖ nonce ‖ AES-256-GCM(user's key, aad family 0 record_key, value) ‖ tag. Makes the
  // user's key when they have none.
  Result<std::string> Seal(std::string_view user, std::string_view family,
                           std::string_view record_key, std::string_view value) const;
  // The value of a sealed record; nullopt when its user's key is gone (a crypto-shredded
  // record reads as absent); kCorruption when it is not a sealed value or does not
  // authenticate (altered, or moved from another record).
  Result<std::optional<std::string>> Open(std::string_view user, std::string_view family,
                                          std::string_view record_key,
                                          std::string_view sealed) const;
  DataKeys* keys() const { return keys_; }

 private:
  DataKeys* keys_;
};

// The user a record key belongs to: the bytes before its first 0 byte (the layout of every
// per-user family); empty for shared records (no 0 byte, or one at the start).
std::string_view RecordUser(std::string_view record_key);

}  // namespace stride::index
