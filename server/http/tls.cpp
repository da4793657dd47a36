// SPDX-License-Identifier: Apache-2.0
#include "server/http/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>

namespace stride::server::http {
namespace {

std::string OpenSslReason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

// -1 with errno set from an SSL_read/SSL_write/SSL_do_handshake result `r` <= 0.
ssize_t Failed(SSL* ssl, int r) {
  const int saved = errno;
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      errno = saved != 0 ? saved : EPIPE;  // 0: the peer closed without close_notify
      return -1;
    default:
      ERR_clear_error();
      errno = EPROTO;
      return -1;
  }
}

}  // namespace

Result<std::unique_ptr<TlsContext>> TlsContext::Load(const std::string& cert_file,
                                                     const std::string& key_file) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Status::Internal("TLS: " + OpenSslReason());
  std::unique_ptr<TlsContext> tls(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Status::InvalidArgument("--tls-cert " + cert_file +
                                   ": not a readable PEM certificate chain (" + OpenSslReason() +
                                   ")");
  }
  // Loaded after the certificate, the key is checked against it here.
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH;
    return Status::InvalidArgument("--tls-key " + key_file +
                                   (mismatch ? " is not the key of --tls-cert " + cert_file
                                             : ": not a readable PEM private key") +
                                   " (" + OpenSslReason() + ")");
  }
  std::signal(SIGPIPE, SIG_IGN);
  return tls;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

SSL* TlsContext::NewSession(int fd) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

Handshake ContinueHandshake(SSL* ssl) {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl);
  if (r == 1) return Handshake::kDone;
  return Failed(ssl, r) < 0 && errno == EAGAIN ? Handshake::kMore : Handshake::kFailed;
}

ssize_t ConnRecv(int fd, SSL* ssl, void* buf, size_t n) {
  if (ssl == nullptr) return ::recv(fd, buf, n, 0);
  ERR_clear_error();
  errno = 0;
  size_t got = 0;
  const int r = SSL_read_ex(ssl, buf, n, &got);
  if (r == 1) return static_cast<ssize_t>(got);
  return Failed(ssl, r);
}

ssize_t ConnSend(int fd, SSL* ssl, const void* buf, size_t n) {
  if (ssl == nullptr) return ::send(fd, buf, n, MSG_NOSIGNAL);
  if (n == 0) return 0;
  ERR_clear_error();
  errno = 0;
  size_t sent = 0;
  const int r = SSL_write_ex(ssl, buf, n, &sent);
  if (r == 1) return static_cast<ssize_t>(sent);
  const ssize_t f = Failed(ssl, r);
  if (f == 0) errno = EPIPE;  // the peer closed: for a write, a failure
  return -1;
}

void CloseNotify(SSL* ssl) {
  if (ssl == nullptr || !SSL_is_init_finished(ssl)) return;
  SSL_shutdown(ssl);  // one non-blocking try: the answer is out, the close is a courtesy
  ERR_clear_error();
}

void EndSession(SSL* ssl) {
  if (ssl == nullptr) return;
  CloseNotify(ssl);
  SSL_free(ssl);
}

}  // namespace stride::server::http
