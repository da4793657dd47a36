// SPDX-License-Identifier: Apache-2.0
//
// TLS for the event server (OpenSSL), for deployments without a proxy in front: a server
// context from a PEM certificate chain and private key (TLS 1.2 and 1.3 only), and a
// connection's reads and writes whether it is plain or TLS, non-blocking, reporting "would
// block" as the socket calls do (-1 with errno EAGAIN), so the loop and the workers treat both
// alike.
//
// A TLS session wants the socket readable or writable at times the plain protocol would not
// (a handshake, a key update); both are reported as EAGAIN and the caller waits for either,
// bounded by its deadline. OpenSSL writes with write(2): Load() makes the process ignore
// SIGPIPE, so a client that leaves mid-answer is an error return, not a signal.
//
// Thread-safety: a TlsContext is shared by all connections; one connection's session is used
// by one thread at a time (the loop hands it to a worker and back).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "engine/status.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace stride::server::http {

class TlsContext {
 public:
  // InvalidArgument naming the file and OpenSSL's reason when the certificate or the key cannot
  // be read, or the key is not the certificate's.
  static Result<std::unique_ptr<TlsContext>> Load(const std::string& cert_file,
                                                  const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server session over the accepted socket `fd` (not owned); null when OpenSSL fails.
  SSL* NewSession(int fd) const;

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

enum class Handshake { kDone, kMore, kFailed };
// Advances the server handshake as far as the socket allows.
Handshake ContinueHandshake(SSL* ssl);

// recv(2)/send(2) of a connection: plain when `ssl` is null. > 0 bytes moved; 0 the peer closed
// (reads); -1 with errno EAGAIN when it would block, another errno when the connection failed.
ssize_t ConnRecv(int fd, SSL* ssl, void* buf, size_t n);
ssize_t ConnSend(int fd, SSL* ssl, const void* buf, size_t n);

// Sends TLS's close_notify (once the handshake is done) if the socket takes it now.
void CloseNotify(SSL* ssl);
// CloseNotify, then frees the session. Null: nothing.
void EndSession(SSL* ssl);

}  // namespace stride::server::http
