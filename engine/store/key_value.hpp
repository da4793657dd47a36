// SPDX-License-Identifier: Apache-2.0
//
// KeyValue: an ordered map of byte strings, the storage a plugin gets (one namespace per
// plugin; the plugin host prefixes keys by user so it can export and delete a user's data in
// every namespace). index/store/run_db.hpp implements it over a RocksDB column family of the
// user database (`plugin.NAME`); MemoryKeyValue is the in-memory one for tests; a multi-node
// deployment can put it on PostgreSQL. Clock is the time the host and plugins see, settable
// in tests.
//
// Thread-safety: implementations are safe from any number of threads; a single Put or Delete
// is atomic, a sequence of them is not.
//
//   MemoryKeyValue kv;
//   (void)kv.Put("alice\0c/1", "{...}");
//   kv.Scan("alice", [](std::string_view k, std::string_view v) { ...; return true; });
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "engine/status.hpp"
#include "engine/time/now.hpp"

namespace stride::engine {

// Names of key-value namespaces (plugin names): [a-z][a-z0-9_]{0,31}, so a name is also a
// safe column-family suffix, metric label and URL segment.
inline bool IsValidNamespaceName(std::string_view name) {
  if (name.empty() || name.size() > 32 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

class KeyValue {
 public:
  virtual ~KeyValue() = default;
  // The value, or nullopt when the key is absent.
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  // Deleting an absent key is not an error.
  virtual Status Delete(std::string_view key) = 0;
  // Calls `each` for every key starting with `prefix`, in byte order, until it returns false.
  virtual Status Scan(
      std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& each) const = 0;
  // As Scan, from the first key at or after `start` (a log read from where it was left).
  // The default walks the prefix from its start; stores with an ordered index seek.
  virtual Status ScanFrom(
      std::string_view prefix, std::string_view start,
      const std::function<bool(std::string_view key, std::string_view value)>& each) const {
    return Scan(prefix,
                [&](std::string_view k, std::string_view v) { return k < start || each(k, v); });
  }
  // Deletes every key starting with `prefix` (a user's data): gone from reads when it
  // returns, and from the files once the store compacts.
  virtual Status DeletePrefix(std::string_view prefix) = 0;
  // Compare and set: puts `value` when the key's value is `expected` (nullopt: the key is
  // absent) and returns true; else writes nothing and returns false. Atomic against every
  // other PutIf on the store, in every process that shares it (PostgreSQL: one statement),
  // so of several servers doing the same once-only step (a user's daily tick) one wins.
  virtual Result<bool> PutIf(std::string_view key, const std::optional<std::string>& expected,
                             std::string_view value) = 0;
};

class MemoryKeyValue : public KeyValue {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) const override {
    std::lock_guard lock(mu_);
    auto it = map_.find(std::string(key));
    if (it == map_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status Put(std::string_view key, std::string_view value) override {
    std::lock_guard lock(mu_);
    map_[std::string(key)] = std::string(value);
    return Status::Ok();
  }
  Status Delete(std::string_view key) override {
    std::lock_guard lock(mu_);
    map_.erase(std::string(key));
    return Status::Ok();
  }
  Result<bool> PutIf(std::string_view key, const std::optional<std::string>& expected,
                     std::string_view value) override {
    std::lock_guard lock(mu_);
    auto it = map_.find(std::string(key));
    const bool matches = it == map_.end() ? !expected : expected && it->second == *expected;
    if (matches) map_[std::string(key)] = std::string(value);
    return matches;
  }
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& each) const override {
    return ScanFrom(prefix, prefix, each);
  }
  Status ScanFrom(
      std::string_view prefix, std::string_view start,
      const std::function<bool(std::string_view, std::string_view)>& each) const override {
    std::map<std::string, std::string> copy;  // callbacks may write to the store
    {
      std::lock_guard lock(mu_);
      for (auto it = map_.lower_bound(std::string(std::max(prefix, start)));
           it != map_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        copy.insert(*it);
      }
    }
    for (const auto& [k, v] : copy) {
      if (!each(k, v)) break;
    }
    return Status::Ok();
  }
  Status DeletePrefix(std::string_view prefix) override {
    std::lock_guard lock(mu_);
    auto it = map_.lower_bound(std::string(prefix));
    while (it != map_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
      it = map_.erase(it);
    }
    return Status::Ok();
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return map_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> map_;
};

// The time the host and plugins see.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual double NowS() const = 0;  // seconds since the Unix epoch
};

class SystemClock : public Clock {
 public:
  double NowS() const override { return UnixNowS(); }
};

// A clock that stands still until the test moves it.
class ManualClock : public Clock {
 public:
  explicit ManualClock(double now_s = 1.7e9) : now_(now_s) {}
  double NowS() const override { return now_.load(); }
  void Set(double now_s) { now_ = now_s; }
  void Advance(double s) { now_ = now_.load() + s; }

 private:
  std::atomic<double> now_;
};

}  // namespace stride::engine
