// SPDX-License-Identifier: Apache-2.0
#include "plugins/host/signing.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "engine/hex.hpp"

namespace stride::plugins {
namespace {

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

Result<std::string> Bytes(const std::string& hex, size_t size, const char* what) {
  std::string out;
  if (!engine::HexDecode(hex, &out) || out.size() != size) {
    return Status::InvalidArgument(std::string(what) + ": expected " + std::to_string(size * 2) +
                                   " lowercase hex digits");
  }
  return out;
}

}  // namespace

Result<Ed25519KeyPair> GenerateEd25519() {
  unsigned char seed[32];
  if (RAND_bytes(seed, sizeof seed) != 1) return Status::Internal("no random bytes");
  Ed25519KeyPair k;
  k.private_hex = engine::HexEncode(std::string_view(reinterpret_cast<char*>(seed), sizeof seed));
  Result<std::string> pub = Ed25519PublicOf(k.private_hex);
  if (!pub.ok()) return pub.status();
  k.public_hex = *pub;
  return k;
}

Result<std::string> Ed25519PublicOf(const std::string& private_hex) {
  Result<std::string> seed = Bytes(private_hex, 32, "private key");
  if (!seed.ok()) return seed.status();
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(seed->data()), 32),
           EVP_PKEY_free);
  if (!key) return Status::InvalidArgument("private key: not an Ed25519 key");
  unsigned char pub[32];
  size_t n = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(key.get(), pub, &n) != 1 || n != 32) {
    return Status::Internal("Ed25519: no public key");
  }
  return engine::HexEncode(std::string_view(reinterpret_cast<char*>(pub), n));
}

Result<std::string> SignEd25519(const std::string& private_hex, std::string_view message) {
  Result<std::string> seed = Bytes(private_hex, 32, "private key");
  if (!seed.ok()) return seed.status();
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(seed->data()), 32),
           EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char sig[64];
  size_t n = sizeof sig;
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &n, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    return Status::Internal("Ed25519: signing failed");
  }
  return engine::HexEncode(std::string_view(reinterpret_cast<char*>(sig), n));
}

Status VerifyEd25519(const std::string& public_hex, std::string_view message,
                     const std::string& signature_hex) {
  Result<std::string> pub = Bytes(public_hex, 32, "public key");
  if (!pub.ok()) return pub.status();
  Result<std::string> sig = Bytes(signature_hex, 64, "signature");
  if (!sig.ok()) return sig.status();
  PKey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(pub->data()), 32),
           EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return Status::InvalidArgument("public key: not an Ed25519 key");
  }
  const int ok =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), 64,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (ok != 1) return Status::PermissionDenied("the signature does not match");
  return Status::Ok();
}

}  // namespace stride::plugins
