// SPDX-License-Identifier: Apache-2.0
#include "tools/serve_command.hpp"

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "server/http_server.hpp"
#include "tools/format.hpp"

namespace stride::tools {
namespace {

constexpr const char* kUsage =
    "usage: stride serve --db DIR [--port 8080] [--bind 127.0.0.1] [--threads N] [--timeout S]\n"
    "                    [--quiet]\n"
    "  --db DIR      a route database built by 'stride import' (reloaded when an import\n"
    "                replaces it)\n"
    "  --port N      TCP port (default 8080; 0 = any free port, printed at start)\n"
    "  --bind ADDR   address to listen on (default 127.0.0.1)\n"
    "  --threads N   worker threads = connections served at once; a keep-alive\n"
    "                connection holds its thread, more wait (default: 8 x cores, at least 64)\n"
    "  --timeout S   read/write timeout per request in seconds (default 10)\n"
    "  --quiet       no access log\n";

}  // namespace

int RunServe(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  server::HttpServerOptions o;
  bool quiet = false;
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
          << o.db_path << ")\n"
          << std::flush;
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

}  // namespace stride::tools
