// SPDX-License-Identifier: Apache-2.0
#include "tools/serve_command.hpp"

#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>

#include "engine/sha256.hpp"
#include "engine/store/key_value.hpp"
#include "engine/text/json_dump.hpp"
#include "engine/text/utf8.hpp"
#include "engine/time/now.hpp"
#include "importers/activity/activity_reader.hpp"
#include "index/store/files.hpp"
#include "plugins/challenges/challenges.hpp"
#include "plugins/chat/chat.hpp"
#include "plugins/host/signing.hpp"
#include "plugins/plan/plan.hpp"
#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "tools/format.hpp"
#include "tools/serve_stores.hpp"

namespace stride::tools {
namespace {

namespace fs = std::filesystem;

// A connection URL as it may be shown: scheme://user:***@host/... (a directory as it is).
std::string WithoutPassword(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

constexpr const char* kUsage =
    "usage: stride serve --db DIR [--port 8080] [--bind 127.0.0.1] [--threads N] [--timeout S]\n"
    "                    [--idle-timeout S] [--stop-timeout S] [--max-connections N]\n"
    "                    [--rate-limit L]...\n"
    "                    [--redis URL [--queue-jobs]] [--rollout-delay S]\n"
    "                    [--cors-origin ORIGIN]... [--tls-cert PEM --tls-key PEM]\n"
    "                    [--runs DIR [--dem DIR] [--jwt-secret-file F] [--max-upload-mb N]\n"
    "                    [--max-points N] [--no-sync] [--kek-file F [--key-dir DIR]]\n"
    "                    [--dev]] [--quiet]\n"
    "  --db DIR      a route database built by 'stride import' (reloaded when an import\n"
    "                replaces it)\n"
    "  --rollout-delay S  serve a new import from its finish time + S seconds, so every\n"
    "                server given the same S switches at the same moment (default 0: as\n"
    "                soon as it is loaded)\n"
    "  --port N      TCP port (default 8080; 0 = any free port, printed at start)\n"
    "  --bind ADDR   address to listen on (default 127.0.0.1)\n"
    "  --threads N   worker threads for complete requests (default: 4 x cores, at least 8);\n"
    "                slow and idle connections wait on the event loop, not on a worker\n"
    "  --timeout S   deadline for a whole request head, a body (plus its size at 64 KiB/s)\n"
    "                and a response, in seconds (default 10)\n"
    "  --idle-timeout S     close keep-alive connections idle this long (default 30)\n"
    "  --stop-timeout S     after SIGINT/SIGTERM, how long requests in flight may take to\n"
    "                finish; past it (or at a second SIGINT/SIGTERM) the server exits\n"
    "                without them, status 1 (default 30)\n"
    "  --max-connections N  open connections; past it the longest idle is closed\n"
    "                (default 10000)\n"
    "  --rate-limit NAME=COUNT/PERIOD  a rate limit (repeatable; PERIOD s, m, h or seconds;\n"
    "                NAME=off or 'off' for none). Defaults: read=100/m write=30/m per user,\n"
    "                chat:ask=30/h per user, search=600/m per client address (public routes),\n"
    "                page=600/m per client address (the map page's files)\n"
    "  --trusted-proxy ADDR  a proxy in front (haproxy): its requests are limited by the\n"
    "                client address in X-Forwarded-For (repeatable)\n"
    "  --redis URL   share with every server given the same Redis the rate limits' counts\n"
    "                and the plugins' stream events (a client streaming from one server sees\n"
    "                what an upload through another caused); redis://[[USER]:PASSWORD@]HOST\n"
    "                [:PORT][/DB] or unix:///PATH. While it is unreachable, requests pass\n"
    "                unlimited and streams get this server's events (logged). Default: none\n"
    "  --queue-jobs  (with --redis and --runs postgresql://...) hand the post-processing of\n"
    "                uploads and deletes (plugins, webhooks) and the daily ticks to `stride\n"
    "                worker` processes through a Redis job queue. Default: done here\n"
    "  --cors-origin ORIGIN  pages from ORIGIN (https://app.example.com; '*' any) may call\n"
    "                the API from a browser (repeatable). Default: none\n"
    "  --tls-cert PEM --tls-key PEM  serve HTTPS: the certificate chain (server's first)\n"
    "                and its private key, PEM (TLS 1.2/1.3; answers add HSTS; SIGHUP reads\n"
    "                them again, for a renewed certificate). Default: HTTP\n"
    "  --quiet       no access log\n"
    "runs (POST/GET/DELETE /v1/runs, /v1/me/export, DELETE /v1/me):\n"
    "  --runs DIR    the run database (created when missing); without it the run\n"
    "                endpoints answer 503. --runs postgresql://USER[:PASSWORD]@HOST/DB keeps\n"
    "                runs and plugin data in PostgreSQL, shared by every server given it\n"
    "                (schema created and migrated at start)\n"
    "  --dem DIR     elevation (SRTM tile folders, GeoTIFF rasters, comma-separated, first\n"
    "                first): tracks without barometric altitude get DEM elevation\n"
    "  --jwt-secret-file F  HS256 secret for bearer tokens (first line, >= 32 bytes);\n"
    "                STRIDE_JWT_SECRET, when set, wins\n"
    "  --max-upload-mb N    largest upload (default 64)\n"
    "  --max-points N       most points in one uploaded file (default 2000000)\n"
    "  --geofences F  a GeoJSON FeatureCollection of named polygons (properties.name): each\n"
    "                upload is tagged with the regions it touches (\"regions\" of a run)\n"
    "  --no-sync     do not fsync each upload's log write (still survives kill -9 of the\n"
    "                server, not a power cut)\n"
    "  --idempotency-days N  how long an upload's Idempotency-Key is remembered (default 7)\n"
    "  --backup-dir DIR     POST /v1/admin/backups (scope admin) backs the run database up\n"
    "                into DIR while serving; GET lists them; 'stride restore' restores\n"
    "  --keep-backups N     keep the newest N backups (default: all)\n"
    "  --kek-file F  encryption at rest: each user's records sealed (AES-256-GCM) with a\n"
    "                data key of their own, wrapped by the KEK in F (lines ID=HEX, the first\n"
    "                the primary; 'stride keys new'; chmod 600). STRIDE_KEK_FILE or\n"
    "                STRIDE_KEK (the text itself) do the same. DELETE /v1/me destroys the key\n"
    "  --key-dir DIR  the wrapped data keys (default: the runs directory + .keys); back it\n"
    "                up apart from the run database\n"
    "  --dev         loopback only: use a random secret when none is set and print a\n"
    "                token for user 'dev' (runner:read runner:write chat:ask, 24 h);\n"
    "                unsigned plugins\n"
    "plugins (with --runs; the bundled challenges plugin is always there):\n"
    "  --plugins DIR        more plugins: DIR/plugins.allow names them, each with\n"
    "                NAME.manifest.json and NAME.manifest.sig ('stride plugin sign')\n"
    "  --plugin-key HEX|FILE  the Ed25519 public key that signs the manifests\n"
    "  --no-bundled-plugins   without the bundled plugins (challenges)\n"
    "webhooks (with --runs):\n"
    "  --webhook URL        POST every run event to http://host[:port]/path, signed\n"
    "                (Stride-Signature), at least once, retried with backoff (repeatable)\n"
    "  --webhook-secret-file F  the HMAC-SHA256 key (first line)\n"
    "  --inbound-webhook PROVIDER=SECRET_FILE  accept signed activities at\n"
    "                POST /v1/webhooks/PROVIDER for users who linked an account there\n"
    "                (PUT /v1/me/connections/PROVIDER); repeat a provider to rotate secrets\n"
    "  SIGHUP or POST /v1/admin/plugins/reload (scope admin) reloads the directory\n";

constexpr const char* kTokenUsage =
    "usage: stride token --user U [--scope \"runner:read runner:write\"] [--ttl 1h]\n"
    "                    [--jwt-secret-file F]\n"
    "Mints a bearer token (JWT, HS256) for development, signed with STRIDE_JWT_SECRET or the\n"
    "first line of --jwt-secret-file. --ttl: seconds, or a number with s, m, h or d.\n"
    "Scopes: runner:read runner:write chat:ask admin.\n";

// Every character of `s` an ASCII letter, a digit or one of `also` (true for "").
bool LettersDigitsOr(std::string_view s, std::string_view also) {
  return std::all_of(s.begin(), s.end(), [also](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || also.find(ch) != std::string_view::npos;
  });
}

// "*", or an origin as a browser sends it: http(s)://host[:port], no path, no trailing slash.
bool IsOrigin(const std::string& o) {
  if (o == "*") return true;
  size_t at = 0;
  if (o.rfind("https://", 0) == 0) {
    at = 8;
  } else if (o.rfind("http://", 0) == 0) {
    at = 7;
  } else {
    return false;
  }
  if (at == o.size()) return false;
  return LettersDigitsOr(std::string_view(o).substr(at), ".-:[]");
}

bool ParseTtl(const std::string& text, double* seconds) {
  if (text.empty()) return false;
  double unit = 1;
  std::string number = text;
  switch (text.back()) {
    case 's':
      number.pop_back();
      break;
    case 'm':
      unit = 60;
      number.pop_back();
      break;
    case 'h':
      unit = 3600;
      number.pop_back();
      break;
    case 'd':
      unit = 86400;
      number.pop_back();
      break;
    default:
      break;
  }
  double v = 0;
  if (!ParseNumber(number, 1, 1e9, &v)) return false;
  *seconds = v * unit;
  return *seconds <= 366 * 86400.0;
}

bool IsLoopback(const std::string& bind) {
  return bind == "127.0.0.1" || bind == "::1" || bind == "localhost";
}

constexpr const char* kWorkerUsage =
    "usage: stride worker --db DIR --runs postgresql://... --redis URL [--name NAME]\n"
    "                     [--port 0] [--webhook URL --webhook-secret-file F] [serve's options]\n"
    "Takes the jobs servers started with --queue-jobs hand over (the plugins' processing of\n"
    "uploads and deletes: challenge progress, plan recalculation; webhook deliveries) from the\n"
    "Redis job queue, and the plugins' daily ticks. Start as many as you like: each job goes\n"
    "to one, and the job of a worker that dies is taken by another (--claim-after). Serves\n"
    "/v1/health and /metrics on --port (default 8080; 0 any free port). SIGINT/SIGTERM\n"
    "finish the job in hand.\n"
    "  --name NAME   the worker's name, unique among the workers. Default: HOST-PID\n"
    "  --claim-after S  take a job another worker took S seconds ago and never finished\n"
    "                (it died). Longer than the slowest job. Default: 30\n"
    "Every other option is `stride serve`'s (--db, --runs, --redis, --plugins, --webhook...).\n";

// `stride serve`, or `stride worker` when `worker`: one command line, one set of stores.
int RunServeOrWorker(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                     bool worker) {
  const char* me = worker ? "stride worker" : "stride serve";
  const char* usage = worker ? kWorkerUsage : kUsage;
  server::HttpServerOptions o;
  o.worker = worker;
  ServeStoreOptions so;
  bool quiet = false;
  bool dev = false;
  bool no_bundled = false;
  std::string secret_file;
  std::set<std::string> given;  // the options on the command line
  // The whole number of seconds in [lo, hi] after the option at i (i moves onto it); false,
  // said, when it is not one.
  auto seconds = [&](size_t& i, int lo, int hi, int* v) {
    if (ParseInt(args[++i], lo, hi, v)) return true;
    err << me << ": " << args[i - 1] << " " << args[i] << ": expected " << lo << " to " << hi
        << " seconds\n";
    return false;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has = i + 1 < args.size();
    if (a.rfind("--", 0) == 0) given.insert(a);
    if (a == "--help" || a == "-h") {
      out << usage;
      return 0;
    } else if (a == "--queue-jobs" && !worker) {
      o.queue_jobs = true;
    } else if (a == "--name" && has && worker) {
      // The name goes into the queue's consumer list, the log and the metrics: a name an
      // operator can type and grep.
      o.worker_name = args[++i];
      if (o.worker_name.empty() || o.worker_name.size() > 64 ||
          !LettersDigitsOr(o.worker_name, "._-")) {
        err << me << ": --name '" << engine::EscapeForLog(o.worker_name, 80)
            << "': expected 1 to 64 letters, digits, '.', '_' or '-'\n";
        return 2;
      }
    } else if (a == "--claim-after" && has && worker) {
      int v = 0;
      if (!seconds(i, 1, 86400, &v)) return 2;
      so.job_claim_after_s = v;
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a == "--db" && has) {
      o.db_path = args[++i];
    } else if (a == "--runs" && has) {
      so.runs_path = args[++i];
    } else if (a == "--dem" && has) {
      so.dem_path = args[++i];
    } else if (a == "--jwt-secret-file" && has) {
      secret_file = args[++i];
    } else if (a == "--no-sync") {
      so.sync_writes = false;
    } else if (a == "--idempotency-days" && has) {
      int v = 0;
      if (!ParseInt(args[++i], 1, 365, &v)) {
        err << me << ": --idempotency-days " << args[i] << ": expected 1 to 365\n";
        return 2;
      }
      so.idempotency_ttl_s = v * 86400.0;
    } else if (a == "--backup-dir" && has) {
      so.backup_dir = args[++i];
    } else if (a == "--geofences" && has) {
      o.geofences_path = args[++i];
    } else if (a == "--kek-file" && has) {
      so.kek_file = args[++i];
    } else if (a == "--key-dir" && has) {
      so.key_dir = args[++i];
    } else if (a == "--keep-backups" && has) {
      int v = 0;
      if (!ParseInt(args[++i], 1, 10000, &v)) {
        err << me << ": --keep-backups " << args[i] << ": expected 1 to 10000\n";
        return 2;
      }
      so.keep_backups = static_cast<uint32_t>(v);
    } else if (a == "--dev") {
      dev = true;
    } else if (a == "--max-upload-mb" && has) {
      int mb = 0;
      if (!ParseInt(args[++i], 1, 4096, &mb)) {
        err << me << ": --max-upload-mb " << args[i] << ": expected 1 to 4096\n";
        return 2;
      }
      o.max_upload_bytes = static_cast<size_t>(mb) << 20;
    } else if (a == "--max-points" && has) {
      int n = 0;
      if (!ParseInt(args[++i], 100, 100'000'000, &n)) {
        err << me << ": --max-points " << args[i] << ": expected 100 to 100000000\n";
        return 2;
      }
      o.max_points = static_cast<size_t>(n);
    } else if (a == "--bind" && has) {
      o.bind = args[++i];
    } else if (a == "--port" && has) {
      if (!ParseInt(args[++i], 0, 65535, &o.port)) {
        err << me << ": --port " << args[i] << ": expected 0 to 65535\n";
        return 2;
      }
    } else if (a == "--threads" && has) {
      if (!ParseInt(args[++i], 1, 1024, &o.threads)) {
        err << me << ": --threads " << args[i] << ": expected 1 to 1024\n";
        return 2;
      }
    } else if (a == "--webhook" && has) {
      o.webhooks.push_back(args[++i]);
    } else if (a == "--inbound-webhook" && has) {
      const std::string spec = args[++i];
      const size_t eq = spec.find('=');
      const std::string name = spec.substr(0, eq == std::string::npos ? 0 : eq);
      const bool name_ok =
          !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
          });
      std::string secret;
      if (name_ok) {
        std::ifstream f(spec.substr(eq + 1));
        std::getline(f, secret);
      }
      if (!name_ok || secret.size() < 16) {
        err << me << ": --inbound-webhook " << spec
            << ": expected PROVIDER=SECRET_FILE (provider [a-z0-9_-]{1,32}; the file's first line "
               "a secret of at least 16 bytes)\n";
        return 2;
      }
      o.inbound.secrets[name].push_back(secret);
    } else if (a == "--webhook-secret-file" && has) {
      std::ifstream f(args[++i]);
      std::getline(f, o.webhook_secret);
      if (o.webhook_secret.size() < 16) {
        err << me << ": --webhook-secret-file " << args[i]
            << ": expected a secret of at least 16 bytes on the first line\n";
        return 2;
      }
    } else if (a == "--cors-origin" && has) {
      const std::string origin = args[++i];
      if (!IsOrigin(origin)) {
        err << me << ": --cors-origin " << origin
            << ": expected '*' or scheme://host[:port] with no path (https://app.example.com)\n";
        return 2;
      }
      o.cors_origins.push_back(origin);
    } else if (a == "--tls-cert" && has) {
      o.tls_cert_file = args[++i];
    } else if (a == "--tls-key" && has) {
      o.tls_key_file = args[++i];
    } else if (a == "--redis" && has) {
      so.redis_url = args[++i];
      if (Result<index::RedisUrl> u = index::ParseRedisUrl(so.redis_url); !u.ok()) {
        err << me << ": " << u.status().message() << "\n";
        return 2;
      }
    } else if (a == "--trusted-proxy" && has) {
      // Compared with the peer's address as the server writes it (inet_ntop), so written the
      // same way; a hostname or a range would never match, and every client behind the proxy
      // would share its rate limits.
      const std::string& addr = args[++i];
      unsigned char bin[sizeof(in6_addr)];
      char canonical[INET6_ADDRSTRLEN] = {};
      const int family = addr.find(':') == std::string::npos ? AF_INET : AF_INET6;
      if (::inet_pton(family, addr.c_str(), bin) != 1 ||
          ::inet_ntop(family, bin, canonical, sizeof canonical) == nullptr) {
        err << me << ": --trusted-proxy " << addr
            << ": expected the proxy's IPv4 or IPv6 address (no hostname, range or port)\n";
        return 2;
      }
      o.trusted_proxies.push_back(canonical);
    } else if (a == "--rate-limit" && has) {
      if (Status st = o.rate_limits.Set(args[++i]); !st.ok()) {
        err << me << ": " << st.message() << "\n";
        return 2;
      }
    } else if (a == "--no-bundled-plugins") {
      no_bundled = true;
    } else if (a == "--plugins" && has) {
      o.plugins_dir = args[++i];
    } else if (a == "--plugin-key" && has) {
      std::string key = args[++i];
      if (key.size() != 64) {  // a file holding the hex key
        std::ifstream f(key);
        std::getline(f, key);
      }
      if (key.size() != 64) {
        err << me << ": --plugin-key: expected 64 hex digits or a file holding them\n";
        return 2;
      }
      o.plugin_key_hex = key;
    } else if (a == "--rollout-delay" && has) {
      int v = 0;
      if (!seconds(i, 0, 86400, &v)) return 2;
      o.rollout_delay_s = v;
    } else if (a == "--idle-timeout" && has) {
      int v = 0;
      if (!seconds(i, 1, 3600, &v)) return 2;
      o.idle_timeout_s = v;
    } else if (a == "--stop-timeout" && has) {
      int v = 0;
      if (!seconds(i, 1, 3600, &v)) return 2;
      o.stop_timeout_s = v;
    } else if (a == "--max-connections" && has) {
      int v = 0;
      if (!ParseInt(args[++i], 16, 1'000'000, &v)) {
        err << me << ": --max-connections " << args[i] << ": expected 16 to 1000000\n";
        return 2;
      }
      o.max_connections = static_cast<size_t>(v);
    } else if (a == "--timeout" && has) {
      if (!seconds(i, 1, 3600, &o.timeout_s)) return 2;
    } else {
      err << me << ": unknown or incomplete option '" << a << "'\n" << usage;
      return 2;
    }
  }
  if (o.db_path.empty()) {
    err << me << ": --db is required\n" << usage;
    return 2;
  }
  if ((worker || o.queue_jobs) && (so.redis_url.empty() || !IsPostgresUrl(so.runs_path))) {
    err << me << ": " << (worker ? "a worker" : "--queue-jobs")
        << " needs --redis URL (the job queue) and --runs postgresql://... (the user data the "
           "servers and workers share)\n";
    return 2;
  }
  if (worker && o.worker_name.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    o.worker_name = std::string(host) + "-" + std::to_string(::getpid());
  }
  if (!quiet) o.access_log = &err;
  o.error_log = &err;
  o.plugin_dev = dev;
  if (!no_bundled) {
    o.bundled_plugins = {{plugins::challenges::Info, plugins::challenges::InitV1},
                         {plugins::plan::Info, plugins::plan::InitV1},
                         {plugins::chat::Info, plugins::chat::InitV1}};
  }
  // Options that act only with another: without it they would be ignored, and an operator
  // would believe them in force.
  static constexpr struct {
    const char* option;
    const char* needs;
    const char* why;
  } kNeeds[] = {
      {"--backup-dir", "--runs", "it backs up the run database"},
      {"--geofences", "--runs", "it names the regions uploaded runs pass through"},
      {"--no-sync", "--runs", "it is about the writes of uploads"},
      {"--idempotency-days", "--runs", "it is about the Idempotency-Keys of uploads"},
      {"--inbound-webhook", "--runs", "the activities it accepts are stored as runs"},
      {"--plugins", "--runs", "plugins keep their data there"},
      {"--keep-backups", "--backup-dir", "it prunes the backups made there"},
      {"--webhook-secret-file", "--webhook", "it signs what the webhooks post"},
  };
  for (const auto& n : kNeeds) {
    if (given.count(n.option) != 0 && given.count(n.needs) == 0) {
      err << me << ": " << n.option << " needs " << n.needs << " (" << n.why << ")\n";
      return 2;
    }
  }
  std::string dev_token;
  if (!so.runs_path.empty() || dev) {
    if (dev && !IsLoopback(o.bind)) {
      err << me << ": --dev only on a loopback address (it prints a token)\n";
      return 2;
    }
    Result<std::string> secret = server::LoadJwtSecret(secret_file);
    if (secret.ok()) {
      o.jwt_secret = *secret;
    } else if (dev && secret.status().code() == StatusCode::kNotFound && secret_file.empty()) {
      o.jwt_secret = server::RandomSecret();  // tokens die with the process
    } else if (!so.runs_path.empty()) {
      err << me << ": " << secret.status().message() << "\n";
      return 2;
    }
    if (dev && !o.jwt_secret.empty()) {
      dev_token = server::Jwt(o.jwt_secret)
                      .Mint("dev", "runner:read runner:write chat:ask", 86400, engine::UnixNowS());
    }
  }

  // SIGINT/SIGTERM: blocked in every thread, taken by one waiter that stops the server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // The stores: opened here, injected into the server, closed after it.
  Result<std::unique_ptr<ServeStores>> stores = ServeStores::Open(so);
  if (!stores.ok()) {
    err << me << ": error: " << stores.status().message() << '\n';
    return 1;
  }
  server::HttpServer http(o, (*stores)->view());
  std::atomic<bool> finished{false};  // Run() returned (a server that failed to start, too)
  std::thread waiter([&] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP && http.port() != 0) {
      err << me << ": SIGHUP: reloading plugins: " << http.ReloadPlugins() << "\n";
      if (!o.tls_cert_file.empty()) {
        const Status tls = http.ReloadTls();
        err << me << ": SIGHUP: TLS certificate "
            << (tls.ok() ? "reloaded from " + o.tls_cert_file
                         : "kept, the new one failed: " + tls.message())
            << "\n";
      }
      err << std::flush;
    }
    if ((sig == SIGINT || sig == SIGTERM) && !finished) {
      err << me << ": " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
          << ": finishing requests in flight\n"
          << std::flush;
    }
    http.Stop();
    // A request that never finishes (a plugin's upstream that never answers) must not keep
    // the server from stopping: past --stop-timeout, or at a second signal, it exits without
    // it. Nothing is closed then (a worker may still be in a store): the stores recover as
    // after kill -9, which they are made to survive.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(o.stop_timeout_s + 1);
    while (!finished) {
      const timespec tick{0, 100'000'000};
      const int again = sigtimedwait(&signals, nullptr, &tick);
      if (finished) break;
      const bool second = again == SIGINT || again == SIGTERM;
      if (second || std::chrono::steady_clock::now() >= deadline) {
        err << me << ": "
            << (second
                    ? std::string(again == SIGINT ? "second SIGINT" : "second SIGTERM")
                    : "requests still in flight " +
                          std::to_string(static_cast<int>(o.stop_timeout_s)) + " s after the stop")
            << ": exiting without them\n"
            << std::flush;
        std::_Exit(1);
      }
    }
  });
  std::thread announcer([&] {
    for (int i = 0; i < 600 && http.port() == 0 && !finished; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (http.port() != 0) {
      // An IPv6 address in a URL goes in brackets: http://[::1]:8080.
      const bool v6 = o.bind.find(':') != std::string::npos;
      err << me << ": listening on " << (o.tls_cert_file.empty() ? "http" : "https") << "://"
          << (v6 ? "[" + o.bind + "]" : o.bind) << ':' << http.port() << " (db " << o.db_path
          << (so.runs_path.empty() ? "" : ", runs " + WithoutPassword(so.runs_path)) << ")\n";
      if ((*stores)->created_runs()) {
        err << me << ": runs " << so.runs_path
            << ": no run database was there; a new, empty one was created\n";
      }
      if (worker) err << me << ": " << o.worker_name << " takes jobs (health and metrics only)\n";
      if (o.queue_jobs) err << me << ": uploads' post-processing goes to the workers\n";
      if (!(*stores)->encryption_note().empty()) {
        err << me << ": " << (*stores)->encryption_note() << "\n";
      }
      if (!dev_token.empty()) {
        err << me << ": dev token (user dev, runner:read runner:write chat:ask, 24 h):\n"
            << dev_token << "\n";
      }
      err << std::flush;
    }
  });
  const Status s = http.Run();
  finished = true;
  announcer.join();
  // Release the signal waiter when the server stopped on its own (an error).
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!s.ok()) {
    err << me << ": error: " << s.message() << '\n';
    return 1;
  }
  err << me << ": stopped\n";
  return 0;
}

}  // namespace

int RunServe(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return RunServeOrWorker(args, out, err, false);
}

int RunWorker(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return RunServeOrWorker(args, out, err, true);
}

int RunPlugin(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  constexpr const char* kPluginUsage =
      "usage: stride plugin keygen --out PREFIX\n"
      "         writes PREFIX.private (keep it secret) and PREFIX.public (--plugin-key)\n"
      "       stride plugin sign --key PREFIX.private --lib DIR/libNAME.so --name NAME\n"
      "                          --version V\n"
      "         writes DIR/NAME.manifest.json (library, SHA-256) and DIR/NAME.manifest.sig\n";
  auto arg = [&](const std::string& name) {
    for (size_t i = 1; i + 1 < args.size(); ++i) {
      if (args[i] == name) return args[i + 1];
    }
    return std::string();
  };
  auto write = [&](const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    return static_cast<bool>(f);
  };
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    out << kPluginUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "keygen") {
    const std::string prefix = arg("--out");
    if (prefix.empty()) {
      err << "stride plugin keygen: --out PREFIX required\n" << kPluginUsage;
      return 2;
    }
    // A key pair written over another would orphan every plugin signed with the old key.
    for (const char* ext : {".private", ".public"}) {
      std::error_code ec;
      if (fs::exists(prefix + ext, ec)) {
        err << "stride plugin keygen: " << prefix << ext
            << " exists; move it away or choose another --out (a new key would leave the "
               "plugins signed with it unverifiable)\n";
        return 1;
      }
    }
    Result<plugins::Ed25519KeyPair> k = plugins::GenerateEd25519();
    if (!k.ok()) {
      err << "stride plugin keygen: " << k.status().message() << "\n";
      return 1;
    }
    // The private key readable by its owner only.
    for (const auto& [ext, text, mode] : {std::tuple(".private", k->private_hex, 0600),
                                          std::tuple(".public", k->public_hex, 0644)}) {
      const Status st =
          index::WriteFileAtomic(prefix + ext, text + "\n", true, static_cast<mode_t>(mode));
      if (!st.ok()) {
        err << "stride plugin keygen: " << st.message() << "\n";
        return 1;
      }
    }
    out << k->public_hex << "\n";
    return 0;
  }
  if (args[0] == "sign") {
    const std::string key_file = arg("--key"), lib = arg("--lib"), name = arg("--name"),
                      version = arg("--version");
    if (key_file.empty() || lib.empty() || name.empty() || version.empty()) {
      err << "stride plugin sign: --key, --lib, --name and --version required\n" << kPluginUsage;
      return 2;
    }
    // The name is the plugin's namespace (and a file name here), the version a label.
    if (!engine::IsValidNamespaceName(name)) {
      err << "stride plugin sign: --name '" << engine::EscapeForLog(name, 64)
          << "': expected the plugin's name, [a-z][a-z0-9_]{0,31}\n";
      return 2;
    }
    if (version.size() > 64 || !LettersDigitsOr(version, ".-+_")) {
      err << "stride plugin sign: --version '" << engine::EscapeForLog(version, 64)
          << "': expected up to 64 letters, digits and . - + _ (1.2.0)\n";
      return 2;
    }
    std::ifstream key_in(key_file);
    if (!key_in) {
      err << "stride plugin sign: --key " << key_file << ": cannot open: " << std::strerror(errno)
          << " (plugin keygen --out PREFIX writes PREFIX.private)\n";
      return 1;
    }
    std::string key;
    std::getline(key_in >> std::ws, key);
    Result<std::string> bytes = importers::ReadFileBytes(lib);
    if (!bytes.ok()) {
      err << "stride plugin sign: " << lib << ": " << bytes.status().message() << "\n";
      return 1;
    }
    const size_t slash = lib.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : lib.substr(0, slash);
    const std::string file = slash == std::string::npos ? lib : lib.substr(slash + 1);
    const std::string manifest =
        engine::DumpJson(nlohmann::ordered_json{{"name", name},
                                                {"version", version},
                                                {"library", file},
                                                {"sha256", engine::Sha256Hex(*bytes)}}) +
        "\n";
    Result<std::string> sig = plugins::SignEd25519(key, manifest);
    if (!sig.ok()) {
      err << "stride plugin sign: --key " << key_file << ": " << sig.status().message() << "\n";
      return 1;
    }
    if (!write(dir + "/" + name + ".manifest.json", manifest) ||
        !write(dir + "/" + name + ".manifest.sig", *sig + "\n")) {
      err << "stride plugin sign: cannot write the manifest into " << dir << "\n";
      return 1;
    }
    out << dir << "/" << name << ".manifest.json\n";
    return 0;
  }
  err << "stride plugin: unknown subcommand '" << args[0] << "'\n" << kPluginUsage;
  return 2;
}

int RunToken(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string user, scope = "runner:read runner:write", secret_file;
  double ttl = 3600;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has = i + 1 < args.size();
    if (a == "--help" || a == "-h") {
      out << kTokenUsage;
      return 0;
    } else if (a == "--user" && has) {
      user = args[++i];
    } else if (a == "--scope" && has) {
      scope = args[++i];
    } else if (a == "--jwt-secret-file" && has) {
      secret_file = args[++i];
    } else if (a == "--ttl" && has) {
      if (!ParseTtl(args[++i], &ttl)) {
        err << "stride token: --ttl " << args[i]
            << ": expected seconds or a number with s, m, h or d, up to 366 days\n";
        return 2;
      }
    } else {
      err << "stride token: unknown or incomplete option '" << a << "'\n" << kTokenUsage;
      return 2;
    }
  }
  if (const Status s = engine::CheckUserId(user); !s.ok()) {
    err << "stride token: --user: " << s.message() << "\n" << kTokenUsage;
    return 2;
  }
  Result<std::string> secret = server::LoadJwtSecret(secret_file);
  if (!secret.ok()) {
    err << "stride token: " << secret.status().message() << "\n";
    return 2;
  }
  // A misspelt scope ("runner:wirte") minted a token the server refuses with 403 much later.
  // A plugin's routes may ask for scopes of their own, so it is a warning, not an error.
  std::istringstream words(scope);
  for (std::string word; words >> word;) {
    if (word != "runner:read" && word != "runner:write" && word != "chat:ask" && word != "admin") {
      err << "stride token: warning: scope '" << engine::EscapeForLog(word, 100)
          << "' is none of Stride's own (runner:read runner:write chat:ask admin); fine if a "
             "plugin's routes ask for it\n";
    }
  }
  out << server::Jwt(*secret).Mint(user, scope, ttl, engine::UnixNowS()) << "\n";
  return 0;
}

}  // namespace stride::tools
