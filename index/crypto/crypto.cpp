// SPDX-License-Identifier: Apache-2.0
#include "index/crypto/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>
#include <new>

namespace stride::index {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > INT_MAX ||
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Status::Internal("OpenSSL's random generator failed");
  }
  return out;
}

Result<Key256> RandomKey() {
  Key256 key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return Status::Internal("OpenSSL's random generator failed");
  }
  return key;
}

Result<std::string> SealAesGcmWithNonce(const Key256& key, std::string_view nonce,
                                        std::string_view aad, std::string_view plaintext) {
  if (nonce.size() != kGcmNonceBytes) return Status::InvalidArgument("AES-GCM: nonce of 12 bytes");
  if (plaintext.size() > INT_MAX - 64 || aad.size() > INT_MAX) {
    return Status::InvalidArgument("AES-GCM: value over 2 GiB");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(nonce);
  out.resize(kGcmNonceBytes + plaintext.size() + kGcmTagBytes);
  unsigned char* ct = reinterpret_cast<unsigned char*>(out.data()) + kGcmNonceBytes;
  int len = 0, fin = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), Bytes(nonce)) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes),
                          ct + plaintext.size()) != 1) {
    return Status::Internal("AES-GCM encryption failed");
  }
  return out;
}

Result<std::string> SealAesGcm(const Key256& key, std::string_view aad,
                               std::string_view plaintext) {
  STRIDE_ASSIGN_OR_RETURN(std::string nonce, RandomBytes(kGcmNonceBytes));
  return SealAesGcmWithNonce(key, nonce, aad, plaintext);
}

Result<std::string> OpenAesGcm(const Key256& key, std::string_view aad, std::string_view sealed) {
  if (sealed.size() < kGcmOverhead) {
    return Status::Corruption("sealed value of " + std::to_string(sealed.size()) +
                              " bytes, shorter than nonce and tag (28)");
  }
  if (sealed.size() > INT_MAX || aad.size() > INT_MAX) {
    return Status::InvalidArgument("AES-GCM: value over 2 GiB");
  }
  const std::string_view nonce = sealed.substr(0, kGcmNonceBytes);
  const std::string_view ct = sealed.substr(kGcmNonceBytes, sealed.size() - kGcmOverhead);
  std::string tag(sealed.substr(sealed.size() - kGcmTagBytes));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(ct.size(), '\0');
  unsigned char* pt = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, fin = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), Bytes(nonce)) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), pt, &len, Bytes(ct), static_cast<int>(ct.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes),
                          tag.data()) != 1) {
    return Status::Internal("AES-GCM decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), pt + len, &fin) != 1) {
    Cleanse(out.data(), out.size());
    return Status::Corruption("sealed value does not authenticate (wrong key or altered bytes)");
  }
  return out;
}

void Cleanse(void* bytes, size_t n) {
  OPENSSL_cleanse(bytes, n);
}

}  // namespace stride::index
