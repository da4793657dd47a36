// SPDX-License-Identifier: Apache-2.0
//
// The few primitives encryption at rest needs, over OpenSSL's EVP interface: random bytes
// and AES-256-GCM (authenticated encryption with associated data); SHA-256 is
// engine/sha256.hpp. Nothing here chooses keys or formats; index/store/data_keys.hpp does.
//
// A sealed value is nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes): 28 bytes more than
// the plaintext. Random 96-bit nonces keep the GCM bound (2^-32 collision chance) for up to
// 2^32 seals under one key, far above what one runner's data key ever seals. The associated
// data is authenticated, not stored: a value opened under another name (another user's key,
// another record's key) fails, so sealed values cannot be swapped between records.
//
// Thread-safety: pure functions (OpenSSL's RNG is thread-safe).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "engine/status.hpp"

namespace stride::index {

using Key256 = std::array<unsigned char, 32>;

inline constexpr size_t kGcmNonceBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;
inline constexpr size_t kGcmOverhead = kGcmNonceBytes + kGcmTagBytes;

// `n` bytes from OpenSSL's CSPRNG; kInternal if it cannot provide them (never silently weak).
Result<std::string> RandomBytes(size_t n);
// A fresh random 256-bit key.
Result<Key256> RandomKey();

// nonce ‖ AES-256-GCM(key, nonce, aad, plaintext) ‖ tag, with a fresh random nonce.
Result<std::string> SealAesGcm(const Key256& key, std::string_view aad, std::string_view plaintext);
// As SealAesGcm with the nonce given (tests against published vectors; never reuse a nonce).
Result<std::string> SealAesGcmWithNonce(const Key256& key, std::string_view nonce,
                                        std::string_view aad, std::string_view plaintext);
// The plaintext of a sealed value; kCorruption when it is too short or does not authenticate
// (wrong key, wrong associated data, or altered bytes: GCM cannot tell which).
Result<std::string> OpenAesGcm(const Key256& key, std::string_view aad, std::string_view sealed);

// Overwrites `bytes` with zeros in a way the compiler keeps (OPENSSL_cleanse).
void Cleanse(void* bytes, size_t n);

}  // namespace stride::index
