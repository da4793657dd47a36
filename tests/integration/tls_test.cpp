// SPDX-License-Identifier: Apache-2.0
//
// `stride serve --tls-cert --tls-key` on loopback, spoken to by an OpenSSL client that
// verifies the server's certificate (a self-signed one made here for 127.0.0.1): requests on
// one kept-alive connection, an upload's body read through TLS and a large answer written
// through it, HSTS on answers; plain HTTP and a client that never finishes its handshake get
// nothing and are closed; certificate files that do not fit are refused at start, by name.
// Every answer read through TLS is checked against the server's OpenAPI document, as the
// plain-HTTP suites' are.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "datasets/synthetic_activity.hpp"
#include "datasets/synthetic_routes.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/running_server.hpp"

namespace stride {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kSecret = "tls-test-secret-0123456789abcdef-0123";

// A P-256 key and a self-signed certificate for IP 127.0.0.1, valid for a day, as PEM files.
bool WriteSelfSigned(const std::string& cert_file, const std::string& key_file) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr) return false;
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("stride test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  bool ok = X509_sign(cert, key, EVP_sha256()) > 0;
  FILE* c = std::fopen(cert_file.c_str(), "w");
  FILE* k = std::fopen(key_file.c_str(), "w");
  ok = ok && c && k && PEM_write_X509(c, cert) == 1 &&
       PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (c) std::fclose(c);
  if (k) std::fclose(k);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A TLS client connection that verifies the server against `ca_file` for 127.0.0.1.
class TlsClient {
 public:
  TlsClient(int port, const std::string& ca_file) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    fd_ = Connect(port);
    ssl_ = SSL_new(ctx_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    SSL_set_fd(ssl_, fd_);
    connected_ = fd_ >= 0 && SSL_connect(ssl_) == 1;
    verified_ = connected_ && SSL_get_verify_result(ssl_) == X509_V_OK;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  bool connected() const { return connected_; }
  bool verified() const { return verified_; }
  std::string version() const { return SSL_get_version(ssl_); }

  // Answers are checked against `contract` from now on.
  void Check(std::shared_ptr<const testing::ApiContract> contract) {
    contract_ = std::move(contract);
  }

  // Sends `request` and reads one response (Content-Length bodies); checked against the
  // contract when there is one.
  std::string Exchange(const std::string& request) {
    std::string in = Read(request);
    if (contract_) {
      const size_t sp1 = request.find(' '), sp2 = request.find(' ', sp1 + 1);
      testing::ExpectKeepsContract(*contract_, request.substr(0, sp1),
                                   request.substr(sp1 + 1, sp2 - sp1 - 1), in);
    }
    return in;
  }

 private:
  std::string Read(const std::string& request) {
    if (SSL_write(ssl_, request.data(), static_cast<int>(request.size())) <= 0) return "";
    std::string in;
    char buf[16384];
    while (true) {
      const size_t head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const size_t at = in.find("Content-Length: ");
        if (at != std::string::npos && at < head_end) {
          const size_t length = std::stoul(in.substr(at + 16));
          if (in.size() >= head_end + 4 + length) return in.substr(0, head_end + 4 + length);
        }
      }
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) return in;
      in.append(buf, static_cast<size_t>(n));
    }
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false, verified_ = false;
  std::shared_ptr<const testing::ApiContract> contract_;
};

// The server's OpenAPI document, read through TLS.
std::shared_ptr<const testing::ApiContract> ContractOverTls(int port, const std::string& ca_file) {
  TlsClient c(port, ca_file);
  const std::string doc = c.Exchange("GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n");
  const size_t at = doc.find("\r\n\r\n");
  const nlohmann::json j =
      nlohmann::json::parse(at == std::string::npos ? "" : doc.substr(at + 4), nullptr, false);
  if (!j.is_object()) {
    ADD_FAILURE() << "no OpenAPI document over TLS";
    return nullptr;
  }
  return std::make_shared<const testing::ApiContract>(j);
}

std::string Body(const std::string& response) {
  const size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::ServerFolder("tls");
    ASSERT_FALSE(dir_.empty());
    ASSERT_TRUE(WriteSelfSigned(dir_ + "/cert.pem", dir_ + "/key.pem"));
    server::HttpServerOptions o;
    o.db_path = dir_ + "/db";
    o.jwt_secret = kSecret;
    o.timeout_s = 2;
    o.tls_cert_file = dir_ + "/cert.pem";
    o.tls_key_file = dir_ + "/key.pem";
    server_ = new testing::RunningServer(o, testing::RunsAt(dir_ + "/runs"));
    ASSERT_NE(server_->port(), 0) << server_->status().message();
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(dir_);
  }
  static inline std::string dir_;
  static inline testing::RunningServer* server_ = nullptr;
};

TEST_F(Tls, ServesRequestsOnOneVerifiedConnectionWithHsts) {
  TlsClient c(server_->port(), dir_ + "/cert.pem");
  c.Check(ContractOverTls(server_->port(), dir_ + "/cert.pem"));
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.verified());
  EXPECT_TRUE(c.version() == "TLSv1.3" || c.version() == "TLSv1.2") << c.version();

  const std::string search = c.Exchange(
      "GET /v1/routes?bbox=1.4,42.4,1.8,42.7&limit=5 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_EQ(search.rfind("HTTP/1.1 200", 0), 0u) << search.substr(0, 200);
  EXPECT_NE(search.find("Strict-Transport-Security: max-age=31536000"), std::string::npos);
  const Json routes = Json::parse(Body(search));
  EXPECT_EQ(routes["routes"].size(), 5u);

  // An upload's body comes through TLS, and its GPX export (over 64 KiB) goes back through it,
  // on the same connection.
  datasets::SyntheticRunOptions ro;
  const std::string gpx = datasets::WriteGpx(datasets::MakeSyntheticRun(ro).recorded);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string token = server::Jwt(kSecret).Mint("ann", "runner:read runner:write", 600, now);
  const std::string stored = c.Exchange(
      "POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
      "\r\nContent-Type: application/gpx+xml\r\nContent-Length: " + std::to_string(gpx.size()) +
      "\r\n\r\n" + gpx);
  ASSERT_EQ(stored.rfind("HTTP/1.1 201", 0), 0u) << stored.substr(0, 300);
  const std::string id = Json::parse(Body(stored))["id"];
  const std::string file = c.Exchange("GET /v1/runs/" + id +
                                      "/file HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
                                      "Bearer " +
                                      token + "\r\n\r\n");
  ASSERT_EQ(file.rfind("HTTP/1.1 200", 0), 0u) << file.substr(0, 300);
  EXPECT_GT(gpx.size(), 64u * 1024);
  EXPECT_EQ(Body(file), gpx);
}

TEST_F(Tls, PlainHttpAndAStalledHandshakeGetNothingAndAreClosed) {
  const int plain = Connect(server_->port());
  ASSERT_GE(plain, 0);
  const std::string get = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(plain, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
  char buf[4096];
  std::string got;
  ssize_t n = 0;
  while ((n = ::recv(plain, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  EXPECT_EQ(got.find("HTTP/1."), std::string::npos) << got;
  // Closed by the server (end of stream or a reset), not left open until the client's timeout.
  EXPECT_TRUE(n == 0 || errno == ECONNRESET) << "recv: " << std::strerror(errno);
  ::close(plain);

  // Connected, never says hello: closed at the head timeout (2 s here), not held.
  const int silent = Connect(server_->port());
  ASSERT_GE(silent, 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(::recv(silent, buf, sizeof buf, 0), 0);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(waited, 8.0);
  ::close(silent);

  // The server still serves.
  TlsClient c(server_->port(), dir_ + "/cert.pem");
  c.Check(ContractOverTls(server_->port(), dir_ + "/cert.pem"));
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(c.Exchange("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(Tls, CertificateFilesThatDoNotFitAreRefusedAtStartByName) {
  const std::string db = dir_ + "/db";
  const auto start = std::chrono::steady_clock::now();
  const testing::CliRun missing =
      testing::Stride("serve --db " + db + " --port 0 --tls-cert " + dir_ + "/none.pem --tls-key " +
                      dir_ + "/key.pem");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("--tls-cert " + dir_ + "/none.pem: not a readable PEM"),
            std::string::npos)
      << missing.err;
  // A server that cannot start says so at once (it used to wait 30 s for a port to announce).
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10);
  EXPECT_EQ(missing.err.find("finishing requests in flight"), std::string::npos) << missing.err;

  ASSERT_TRUE(WriteSelfSigned(dir_ + "/other.pem", dir_ + "/other.key"));
  const testing::CliRun mismatched =
      testing::Stride("serve --db " + db + " --port 0 --tls-cert " + dir_ + "/cert.pem --tls-key " +
                      dir_ + "/other.key");
  EXPECT_EQ(mismatched.exit_code, 1);
  EXPECT_NE(mismatched.err.find("is not the key of --tls-cert"), std::string::npos)
      << mismatched.err;

  const testing::CliRun half =
      testing::Stride("serve --db " + db + " --port 0 --tls-cert " + dir_ + "/cert.pem");
  EXPECT_EQ(half.exit_code, 1);
  EXPECT_NE(half.err.find("TLS needs both --tls-cert and --tls-key"), std::string::npos)
      << half.err;
}

// A renewed certificate (certbot writes new files, then SIGHUP): new connections get it, open
// ones go on with the old one, and files that fail leave the server on what it had.
TEST_F(Tls, ReloadTakesARenewedCertificateForNewConnections) {
  const std::string d = dir_ + "/reload";
  fs::create_directories(d);
  ASSERT_TRUE(WriteSelfSigned(d + "/a.pem", d + "/a.key"));
  ASSERT_TRUE(WriteSelfSigned(d + "/b.pem", d + "/b.key"));
  fs::copy_file(d + "/a.pem", d + "/cert.pem");
  fs::copy_file(d + "/a.key", d + "/key.pem");
  server::HttpServerOptions o;
  o.db_path = dir_ + "/db";
  o.tls_cert_file = d + "/cert.pem";
  o.tls_key_file = d + "/key.pem";
  testing::RunningServer server(o);
  ASSERT_NE(server.port(), 0) << server.status().message();
  const std::string health = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  TlsClient before(server.port(), d + "/a.pem");
  ASSERT_TRUE(before.verified());
  EXPECT_FALSE(TlsClient(server.port(), d + "/b.pem").verified());

  fs::copy_file(d + "/b.pem", d + "/cert.pem", fs::copy_options::overwrite_existing);
  fs::copy_file(d + "/b.key", d + "/key.pem", fs::copy_options::overwrite_existing);
  ASSERT_TRUE(server.http().ReloadTls().ok());
  EXPECT_TRUE(TlsClient(server.port(), d + "/b.pem").verified());
  EXPECT_FALSE(TlsClient(server.port(), d + "/a.pem").verified());
  // The connection made before the reload still answers, on its old session.
  EXPECT_EQ(before.Exchange(health).rfind("HTTP/1.1 200", 0), 0u);

  // A half-written renewal (the key of another certificate): refused by name, B stays.
  fs::copy_file(d + "/a.key", d + "/key.pem", fs::copy_options::overwrite_existing);
  const Status bad = server.http().ReloadTls();
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("is not the key of --tls-cert"), std::string::npos) << bad.message();
  TlsClient after(server.port(), d + "/b.pem");
  EXPECT_TRUE(after.verified());
  EXPECT_EQ(after.Exchange(health).rfind("HTTP/1.1 200", 0), 0u);

  // A plain server has nothing to reload.
  server::HttpServerOptions plain;
  plain.db_path = dir_ + "/db";
  testing::RunningServer http(plain);
  ASSERT_NE(http.port(), 0);
  EXPECT_EQ(http.http().ReloadTls().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stride
