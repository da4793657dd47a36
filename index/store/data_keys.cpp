// SPDX-License-Identifier: Apache-2.0
#include "index/store/data_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/hex.hpp"
#include "engine/sha256.hpp"
#include "index/store/files.hpp"

namespace stride::index {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kKeyMagic = "SDK1";
constexpr std::string_view kStoreHeader = "stride data keys 1\n";
constexpr char kSealedVersion = '\x01';

bool IsKekId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IoError(Errno("cannot open " + dir));
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::IoError(Errno("cannot sync " + dir));
}

Result<std::optional<std::string>> ReadSmallFile(const std::string& path, size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Status::IoError(Errno("cannot read " + path));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const Status s = Status::IoError(Errno("cannot read " + path));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) {
      ::close(fd);
      return Status::Corruption(path + ": over " + std::to_string(limit) + " bytes");
    }
  }
  ::close(fd);
  return std::optional<std::string>(std::move(out));
}

std::string KeyAad(std::string_view hash) {
  std::string aad = "stride.data-key";
  aad.push_back('\0');
  aad.append(hash);
  return aad;
}

std::string UserHash(std::string_view user) {
  return engine::Sha256Hex(user);
}

std::string RecordAad(std::string_view family, std::string_view record_key) {
  std::string aad(family);
  aad.push_back('\0');
  aad.append(record_key);
  return aad;
}

}  // namespace

std::string_view RecordUser(std::string_view record_key) {
  const size_t zero = record_key.find('\0');
  return zero == std::string_view::npos ? std::string_view() : record_key.substr(0, zero);
}

// --- KeyRing ---

KeyRing::~KeyRing() {
  for (Kek& k : keks_) Cleanse(k.key.data(), k.key.size());
}

Result<KeyRing> KeyRing::Parse(std::string_view text, const std::string& where) {
  KeyRing ring;
  size_t line = 1;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of(",\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(pos, end - pos);
    const size_t hash = entry.find('#');
    if (hash != std::string_view::npos) entry = entry.substr(0, hash);
    entry = Trim(entry);
    if (!entry.empty()) {
      const std::string at = where + ", line " + std::to_string(line);
      const size_t eq = entry.find('=');
      if (eq == std::string_view::npos) {
        return Status::InvalidArgument(at + ": expected ID=HEX (a KEK as 64 hex digits)");
      }
      const std::string_view id = Trim(entry.substr(0, eq));
      const std::string_view hex = Trim(entry.substr(eq + 1));
      if (!IsKekId(id)) {
        return Status::InvalidArgument(at + ": KEK id: expected 1 to 64 of [A-Za-z0-9._-]");
      }
      std::string bytes;
      if (hex.size() != 64 || !engine::HexDecode(hex, &bytes) || bytes.size() != 32) {
        Cleanse(bytes.data(), bytes.size());
        return Status::InvalidArgument(at + ": KEK '" + std::string(id) + "': expected 64 hex " +
                                       "digits (256 bits), got " + std::to_string(hex.size()) +
                                       " characters");
      }
      if (ring.Find(id)) {
        Cleanse(bytes.data(), bytes.size());
        return Status::InvalidArgument(at + ": KEK id '" + std::string(id) + "' given twice");
      }
      Kek k;
      k.id = std::string(id);
      std::memcpy(k.key.data(), bytes.data(), 32);
      Cleanse(bytes.data(), bytes.size());
      ring.keks_.push_back(std::move(k));
    }
    if (end < text.size() && text[end] == '\n') ++line;
    pos = end + 1;
  }
  if (ring.keks_.empty()) {
    return Status::InvalidArgument(where +
                                   ": no KEK (expected lines ID=HEX; 'stride keys new' "
                                   "makes one)");
  }
  return ring;
}

Result<KeyRing> KeyRing::LoadFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound(Errno("KEK file " + path));
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("KEK file " + path + ": not a file");
  if ((st.st_mode & 077) != 0) {
    return Status::PermissionDenied("KEK file " + path +
                                    ": readable by group or others; chmod 600 it");
  }
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadSmallFile(path, 64 * 1024));
  if (!text) return Status::NotFound("KEK file " + path + ": no such file");
  Result<KeyRing> ring = Parse(*text, "KEK file " + path);
  Cleanse(text->data(), text->size());
  return ring;
}

Result<std::optional<KeyRing>> KeyRing::FromConfig(const std::string& kek_file) {
  std::string file = kek_file;
  if (file.empty()) {
    if (const char* f = std::getenv("STRIDE_KEK_FILE"); f && *f) file = f;
  }
  if (!file.empty()) {
    STRIDE_ASSIGN_OR_RETURN(KeyRing ring, LoadFile(file));
    return std::optional<KeyRing>(std::move(ring));
  }
  if (const char* text = std::getenv("STRIDE_KEK"); text && *text) {
    STRIDE_ASSIGN_OR_RETURN(KeyRing ring, Parse(text, "STRIDE_KEK"));
    return std::optional<KeyRing>(std::move(ring));
  }
  return std::optional<KeyRing>();
}

Result<std::string> KeyRing::NewEntry(const std::string& id) {
  if (!IsKekId(id)) {
    return Status::InvalidArgument("KEK id '" + id + "': expected 1 to 64 of [A-Za-z0-9._-]");
  }
  STRIDE_ASSIGN_OR_RETURN(Key256 key, RandomKey());
  std::string entry =
      id + "=" + engine::HexEncode(std::string_view(reinterpret_cast<char*>(key.data()), 32));
  Cleanse(key.data(), key.size());
  return entry;
}

const Kek* KeyRing::Find(std::string_view id) const {
  for (const Kek& k : keks_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

// --- MemoryDataKeys ---

Result<std::optional<Key256>> MemoryDataKeys::Find(std::string_view user) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(std::string(user));
  if (it == keys_.end()) return std::optional<Key256>();
  return std::optional<Key256>(it->second);
}

Result<Key256> MemoryDataKeys::GetOrCreate(std::string_view user) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(std::string(user));
  if (it != keys_.end()) return it->second;
  STRIDE_ASSIGN_OR_RETURN(Key256 key, RandomKey());
  keys_.emplace(std::string(user), key);
  return key;
}

Status MemoryDataKeys::Destroy(std::string_view user) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(std::string(user));
  if (it != keys_.end()) {
    Cleanse(it->second.data(), it->second.size());
    keys_.erase(it);
  }
  return Status::Ok();
}

// --- FileDataKeys ---

FileDataKeys::FileDataKeys(std::string dir, KeyRing ring, Options options)
    : dir_(std::move(dir)), ring_(std::move(ring)), options_(options) {}

FileDataKeys::~FileDataKeys() {
  for (auto& [u, k] : cache_) Cleanse(k.data(), k.size());
}

Result<std::unique_ptr<FileDataKeys>> FileDataKeys::Open(const std::string& dir, KeyRing ring,
                                                         const Options& options) {
  if (dir.empty()) return Status::InvalidArgument("--key-dir: empty path");
  std::error_code ec;
  const std::string store = (fs::path(dir) / "STORE").string();
  if (!options.create_if_missing && !fs::exists(store, ec)) {
    return Status::NotFound("--key-dir " + dir +
                            ": not a key directory (no STORE file; stride serve --kek-file keeps "
                            "its keys in RUNS.keys beside the run database, or in --key-dir)");
  }
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IoError("--key-dir " + dir + ": cannot create: " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  } else if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("--key-dir " + dir + ": not a directory");
  }
  std::unique_ptr<FileDataKeys> keys(new FileDataKeys(dir, std::move(ring), options));
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> header, ReadSmallFile(store, 4096));
  if (!header) {
    if (!fs::is_empty(dir, ec)) {
      return Status::InvalidArgument("--key-dir " + dir +
                                     ": not empty and not a key directory (no STORE file)");
    }
    STRIDE_ASSIGN_OR_RETURN(std::string rnd, RandomBytes(16));
    keys->id_ = engine::HexEncode(rnd);
    STRIDE_RETURN_IF_ERROR(
        WriteFileAtomic(store, std::string(kStoreHeader) + keys->id_ + "\n", options.sync));
    if (options.sync) STRIDE_RETURN_IF_ERROR(SyncDir(dir));
    return keys;
  }
  if (header->rfind(kStoreHeader, 0) != 0 || header->size() != kStoreHeader.size() + 33) {
    return Status::Corruption("--key-dir " + dir + ": STORE is not a stride key directory's");
  }
  keys->id_ = header->substr(kStoreHeader.size(), 32);
  return keys;
}

std::string FileDataKeys::PathOf(const std::string& hash) const {
  return (fs::path(dir_) / hash.substr(0, 2) / (hash + ".key")).string();
}

Status FileDataKeys::Store(const std::string& hash, const Key256& key) const {
  const Kek& kek = ring_.primary();
  STRIDE_ASSIGN_OR_RETURN(
      std::string wrapped,
      SealAesGcm(kek.key, KeyAad(hash),
                 std::string_view(reinterpret_cast<const char*>(key.data()), key.size())));
  std::string file(kKeyMagic);
  file.push_back(static_cast<char>(kek.id.size()));
  file += kek.id;
  file += wrapped;
  const std::string path = PathOf(hash);
  const std::string parent = fs::path(path).parent_path().string();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return Status::IoError("cannot create " + parent + ": " + ec.message());
  STRIDE_RETURN_IF_ERROR(WriteFileAtomic(path, file, options_.sync));
  return options_.sync ? SyncDir(parent) : Status::Ok();
}

Result<std::optional<Key256>> FileDataKeys::Load(const std::string& hash, bool* rewrapped) {
  const std::string path = PathOf(hash);
  STRIDE_ASSIGN_OR_RETURN(std::optional<std::string> file, ReadSmallFile(path, 4096));
  if (!file) return std::optional<Key256>();
  const std::string what = "data key file " + path;
  if (file->size() < kKeyMagic.size() + 1 || file->rfind(kKeyMagic, 0) != 0) {
    return Status::Corruption(what + ": not a stride data key (no SDK1 header)");
  }
  const size_t n = static_cast<unsigned char>((*file)[kKeyMagic.size()]);
  const size_t at = kKeyMagic.size() + 1;
  if (file->size() != at + n + kGcmOverhead + 32) {
    return Status::Corruption(what + ": " + std::to_string(file->size()) +
                              " bytes, not the size of a wrapped key");
  }
  const std::string kek_id = file->substr(at, n);
  const Kek* kek = ring_.Find(kek_id);
  if (!kek) {
    return Status::PermissionDenied(what + ": wrapped under KEK '" + kek_id +
                                    "', which the key ring does not hold");
  }
  Result<std::string> key =
      OpenAesGcm(kek->key, KeyAad(hash), std::string_view(*file).substr(at + n));
  if (!key.ok()) {
    return Status::Corruption(what + ": does not unwrap under KEK '" + kek_id +
                              "' (another key under that id, or the file was altered or moved)");
  }
  Key256 out;
  std::memcpy(out.data(), key->data(), 32);
  Cleanse(key->data(), key->size());
  *rewrapped = false;
  if (kek->id != ring_.primary().id) {
    STRIDE_RETURN_IF_ERROR(Store(hash, out));
    *rewrapped = true;
  }
  return std::optional<Key256>(out);
}

void FileDataKeys::Remember(std::string_view user, const Key256& key) {
  if (cache_.size() >= options_.cache_users) {
    for (auto& [u, k] : cache_) Cleanse(k.data(), k.size());
    cache_.clear();
  }
  cache_.emplace(std::string(user), key);
}

Result<std::optional<Key256>> FileDataKeys::Find(std::string_view user) {
  std::lock_guard lock(mu_);
  return FindLocked(user);
}

Result<std::optional<Key256>> FileDataKeys::FindLocked(std::string_view user) {
  auto it = cache_.find(std::string(user));
  if (it != cache_.end()) return std::optional<Key256>(it->second);
  bool rewrapped = false;
  STRIDE_ASSIGN_OR_RETURN(std::optional<Key256> key, Load(UserHash(user), &rewrapped));
  if (key) Remember(user, *key);
  return key;
}

Result<Key256> FileDataKeys::GetOrCreate(std::string_view user) {
  std::lock_guard lock(mu_);  // held throughout: one thread makes a user's key
  STRIDE_ASSIGN_OR_RETURN(std::optional<Key256> found, FindLocked(user));
  if (found) return *found;
  STRIDE_ASSIGN_OR_RETURN(Key256 key, RandomKey());
  STRIDE_RETURN_IF_ERROR(Store(UserHash(user), key));
  Remember(user, key);
  return key;
}

Status FileDataKeys::Destroy(std::string_view user) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(std::string(user));
  if (it != cache_.end()) {
    Cleanse(it->second.data(), it->second.size());
    cache_.erase(it);
  }
  const std::string path = PathOf(UserHash(user));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::IoError(Errno("cannot destroy " + path));
  }
  // Overwritten in place before the unlink, so the wrapped key does not stay in freed blocks
  // of an in-place file system.
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    const std::string zeros(static_cast<size_t>(st.st_size), '\0');
    if (::pwrite(fd, zeros.data(), zeros.size(), 0) != static_cast<ssize_t>(zeros.size()) ||
        (options_.sync && ::fsync(fd) != 0)) {
      const Status s = Status::IoError(Errno("cannot overwrite " + path));
      ::close(fd);
      return s;
    }
  }
  ::close(fd);
  if (::unlink(path.c_str()) != 0) return Status::IoError(Errno("cannot unlink " + path));
  return options_.sync ? SyncDir(fs::path(path).parent_path().string()) : Status::Ok();
}

Result<FileDataKeys::RotateReport> FileDataKeys::Rotate() {
  // The names first: rewriting a file while iterating its directory may list it twice.
  std::vector<std::string> hashes;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || p.extension() != ".key") continue;
    const std::string hash = p.stem().string();
    if (hash.size() == 64 && p.parent_path().filename() == hash.substr(0, 2)) {
      hashes.push_back(hash);
    }
  }
  if (ec) return Status::IoError("--key-dir " + dir_ + ": " + ec.message());
  RotateReport report;
  for (const std::string& hash : hashes) {
    std::lock_guard lock(mu_);
    bool rewrapped = false;
    STRIDE_ASSIGN_OR_RETURN(std::optional<Key256> key, Load(hash, &rewrapped));
    if (!key) continue;  // destroyed meanwhile
    Cleanse(key->data(), key->size());
    ++report.keys;
    if (rewrapped) ++report.rewrapped;
  }
  return report;
}

// --- UserSealer ---

Result<std::string> UserSealer::Seal(std::string_view user, std::string_view family,
                                     std::string_view record_key, std::string_view value) const {
  STRIDE_ASSIGN_OR_RETURN(Key256 key, keys_->GetOrCreate(user));
  Result<std::string> sealed = SealAesGcm(key, RecordAad(family, record_key), value);
  Cleanse(key.data(), key.size());
  if (!sealed.ok()) return sealed.status();
  return std::string(1, kSealedVersion) + *sealed;
}

Result<std::optional<std::string>> UserSealer::Open(std::string_view user, std::string_view family,
                                                    std::string_view record_key,
                                                    std::string_view sealed) const {
  if (sealed.empty() || sealed[0] != kSealedVersion) {
    return Status::Corruption(std::string(family) + " record of user '" + std::string(user) +
                              "': not a sealed value (version byte missing)");
  }
  STRIDE_ASSIGN_OR_RETURN(std::optional<Key256> key, keys_->Find(user));
  if (!key) return std::optional<std::string>();  // crypto-shredded
  Result<std::string> value = OpenAesGcm(*key, RecordAad(family, record_key), sealed.substr(1));
  Cleanse(key->data(), key->size());
  if (!value.ok()) {
    return Status::Corruption(std::string(family) + " record of user '" + std::string(user) +
                              "': " + value.status().message());
  }
  return std::optional<std::string>(std::move(*value));
}

}  // namespace stride::index
