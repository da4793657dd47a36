// SPDX-License-Identifier: Apache-2.0
#include "tools/serve_command.hpp"

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "server/auth.hpp"
#include "server/http_server.hpp"
#include "tools/format.hpp"

namespace stride::tools {
namespace {

constexpr const char* kUsage =
    "usage: stride serve --db DIR [--port 8080] [--bind 127.0.0.1] [--threads N] [--timeout S]\n"
    "                    [--idle-timeout S] [--max-connections N]\n"
    "                    [--runs DIR [--dem DIR] [--jwt-secret-file F] [--max-upload-mb N]\n"
    "                    [--max-points N] [--no-sync] [--dev]] [--quiet]\n"
    "  --db DIR      a route database built by 'stride import' (reloaded when an import\n"
    "                replaces it)\n"
    "  --port N      TCP port (default 8080; 0 = any free port, printed at start)\n"
    "  --bind ADDR   address to listen on (default 127.0.0.1)\n"
    "  --threads N   worker threads for complete requests (default: 4 x cores, at least 8);\n"
    "                slow and idle connections wait on the event loop, not on a worker\n"
    "  --timeout S   deadline for a whole request head, a body (plus its size at 64 KiB/s)\n"
    "                and a response, in seconds (default 10)\n"
    "  --idle-timeout S     close keep-alive connections idle this long (default 30)\n"
    "  --max-connections N  open connections; past it the longest idle is closed\n"
    "                (default 10000)\n"
    "  --quiet       no access log\n"
    "runs (POST/GET/DELETE /v1/runs, /v1/me/export, DELETE /v1/me):\n"
    "  --runs DIR    the run database (created when missing); without it the run\n"
    "                endpoints answer 503\n"
    "  --dem DIR     SRTM tiles: tracks without barometric altitude get DEM elevation\n"
    "  --jwt-secret-file F  HS256 secret for bearer tokens (first line, >= 32 bytes);\n"
    "                STRIDE_JWT_SECRET, when set, wins\n"
    "  --max-upload-mb N    largest upload (default 64)\n"
    "  --max-points N       most points in one uploaded file (default 2000000)\n"
    "  --no-sync     do not fsync each upload's log write (still survives kill -9 of the\n"
    "                server, not a power cut)\n"
    "  --dev         loopback only: use a random secret when none is set and print a\n"
    "                token for user 'dev' (runner:read runner:write, 24 h)\n";

constexpr const char* kTokenUsage =
    "usage: stride token --user U [--scope \"runner:read runner:write\"] [--ttl 1h]\n"
    "                    [--jwt-secret-file F]\n"
    "Mints a bearer token (JWT, HS256) for development, signed with STRIDE_JWT_SECRET or the\n"
    "first line of --jwt-secret-file. --ttl: seconds, or a number with s, m, h or d.\n"
    "Scopes: runner:read runner:write chat:ask admin.\n";

double NowS() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
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

}  // namespace

int RunServe(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  server::HttpServerOptions o;
  bool quiet = false;
  bool dev = false;
  std::string secret_file;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has = i + 1 < args.size();
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return 0;
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a == "--db" && has) {
      o.db_path = args[++i];
    } else if (a == "--runs" && has) {
      o.runs_path = args[++i];
    } else if (a == "--dem" && has) {
      o.dem_path = args[++i];
    } else if (a == "--jwt-secret-file" && has) {
      secret_file = args[++i];
    } else if (a == "--no-sync") {
      o.sync_writes = false;
    } else if (a == "--dev") {
      dev = true;
    } else if (a == "--max-upload-mb" && has) {
      int mb = 0;
      if (!ParseInt(args[++i], 1, 4096, &mb)) {
        err << "stride serve: --max-upload-mb " << args[i] << ": expected 1 to 4096\n";
        return 2;
      }
      o.max_upload_bytes = static_cast<size_t>(mb) << 20;
    } else if (a == "--max-points" && has) {
      int n = 0;
      if (!ParseInt(args[++i], 100, 100'000'000, &n)) {
        err << "stride serve: --max-points " << args[i] << ": expected 100 to 100000000\n";
        return 2;
      }
      o.max_points = static_cast<size_t>(n);
    } else if (a == "--bind" && has) {
      o.bind = args[++i];
    } else if (a == "--port" && has) {
      if (!ParseInt(args[++i], 0, 65535, &o.port)) {
        err << "stride serve: --port " << args[i] << ": expected 0 to 65535\n";
        return 2;
      }
    } else if (a == "--threads" && has) {
      if (!ParseInt(args[++i], 1, 1024, &o.threads)) {
        err << "stride serve: --threads " << args[i] << ": expected 1 to 1024\n";
        return 2;
      }
    } else if (a == "--idle-timeout" && has) {
      int v = 0;
      if (!ParseInt(args[++i], 1, 3600, &v)) {
        err << "stride serve: --idle-timeout " << args[i] << ": expected 1 to 3600 seconds\n";
        return 2;
      }
      o.idle_timeout_s = v;
    } else if (a == "--max-connections" && has) {
      int v = 0;
      if (!ParseInt(args[++i], 16, 1'000'000, &v)) {
        err << "stride serve: --max-connections " << args[i] << ": expected 16 to 1000000\n";
        return 2;
      }
      o.max_connections = static_cast<size_t>(v);
    } else if (a == "--timeout" && has) {
      if (!ParseInt(args[++i], 1, 3600, &o.timeout_s)) {
        err << "stride serve: --timeout " << args[i] << ": expected 1 to 3600 seconds\n";
        return 2;
      }
    } else {
      err << "stride serve: unknown or incomplete option '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (o.db_path.empty()) {
    err << "stride serve: --db is required\n" << kUsage;
    return 2;
  }
  if (!quiet) o.access_log = &err;
  std::string dev_token;
  if (!o.runs_path.empty() || dev) {
    if (dev && !IsLoopback(o.bind)) {
      err << "stride serve: --dev only on a loopback address (it prints a token)\n";
      return 2;
    }
    Result<std::string> secret = server::LoadJwtSecret(secret_file);
    if (secret.ok()) {
      o.jwt_secret = *secret;
    } else if (dev && secret.status().code() == StatusCode::kNotFound && secret_file.empty()) {
      o.jwt_secret = server::RandomSecret();  // tokens die with the process
    } else if (!o.runs_path.empty()) {
      err << "stride serve: " << secret.status().message() << "\n";
      return 2;
    }
    if (dev && !o.jwt_secret.empty()) {
      dev_token = server::Jwt(o.jwt_secret).Mint("dev", "runner:read runner:write", 86400, NowS());
    }
  }

  // SIGINT/SIGTERM: blocked in every thread, taken by one waiter that stops the server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  server::HttpServer http(o);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGINT || sig == SIGTERM) {
      err << "stride serve: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
          << ": finishing requests in flight\n"
          << std::flush;
    }
    http.Stop();
  });
  std::thread announcer([&] {
    for (int i = 0; i < 600 && http.port() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (http.port() != 0) {
      err << "stride serve: listening on http://" << o.bind << ':' << http.port() << " (db "
          << o.db_path << (o.runs_path.empty() ? "" : ", runs " + o.runs_path) << ")\n";
      if (!dev_token.empty()) {
        err << "stride serve: dev token (user dev, runner:read runner:write, 24 h):\n"
            << dev_token << "\n";
      }
      err << std::flush;
    }
  });
  const Status s = http.Run();
  announcer.join();
  // Release the signal waiter when the server stopped on its own (an error).
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!s.ok()) {
    err << "stride serve: error: " << s.message() << '\n';
    return 1;
  }
  err << "stride serve: stopped\n";
  return 0;
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
  out << server::Jwt(*secret).Mint(user, scope, ttl, NowS()) << "\n";
  return 0;
}

}  // namespace stride::tools
