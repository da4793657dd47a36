// SPDX-License-Identifier: Apache-2.0
//
// SHA-256 (OpenSSL's EVP), the one implementation every layer uses: upload digests for
// idempotency keys, the checksums of import inputs and plugin libraries, ETags, job ids,
// data-key names. Digests are the 32 raw bytes; Sha256Hex gives the 64 lowercase hex digits
// that manifests and messages show.
//
// Thread-safety: the functions are pure; one Sha256Stream is used by one thread at a time.
#pragma once

#include <string>
#include <string_view>

namespace stride::engine {

// The 32-byte digest of `bytes`.
std::string Sha256(std::string_view bytes);
// The digest as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

// The same digest of bytes given in pieces (Update, in order, then Finish once), for inputs
// too large to hold at once (an import's planet file).
class Sha256Stream {
 public:
  Sha256Stream();  // throws std::bad_alloc when OpenSSL cannot allocate its context
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view bytes);
  std::string Finish();  // the 32-byte digest

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace stride::engine
