// SPDX-License-Identifier: Apache-2.0
//
// `stride serve --db DIR [--port 8080] [--bind 127.0.0.1] [--threads N] [--timeout S]
//               [--quiet]`
//
// Serves HTTP API v1 over a route database (server/http_server.hpp) until SIGINT or SIGTERM,
// then finishes the requests in flight and exits 0. Access log on stderr unless --quiet.
// Exit code 1: the database cannot be opened or the port bound; 2: bad command line.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace stride::tools {

int RunServe(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// `stride worker`: serve's stores and plugins, taking the jobs servers started with
// --queue-jobs put in Redis (server/job_worker.hpp); /v1/health and /metrics only.
int RunWorker(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// `stride plugin keygen|sign`: an Ed25519 key pair, and a signed manifest for a plugin library.
int RunPlugin(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// `stride token`: mints a development bearer token.
int RunToken(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace stride::tools
