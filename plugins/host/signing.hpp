// SPDX-License-Identifier: Apache-2.0
//
// Plugin manifests are signed with Ed25519 (OpenSSL): the operator keeps the private key, the
// server gets the public key (--plugin-key), and a manifest names its library's SHA-256, so a
// library that was swapped or a manifest that was edited is refused before dlopen.
// Keys and signatures travel as lowercase hex: a public key is 32 bytes (64 hex digits), a
// private key its 32-byte seed, a signature 64 bytes.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.hpp"

namespace stride::plugins {

struct Ed25519KeyPair {
  std::string private_hex;  // the 32-byte seed
  std::string public_hex;
};
Result<Ed25519KeyPair> GenerateEd25519();
// The public key of a private key (hex seed).
Result<std::string> Ed25519PublicOf(const std::string& private_hex);
// The signature (hex) of `message` by the private key (hex seed).
Result<std::string> SignEd25519(const std::string& private_hex, std::string_view message);
// Ok when `signature_hex` is the public key's signature of `message`; kPermissionDenied when
// it is not, kInvalidArgument when a key or signature is malformed.
Status VerifyEd25519(const std::string& public_hex, std::string_view message,
                     const std::string& signature_hex);

}  // namespace stride::plugins
