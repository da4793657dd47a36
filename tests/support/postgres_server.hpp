// SPDX-License-Identifier: Apache-2.0
//
// A real PostgreSQL (Debian's postgresql-15; scripts/deps.sh installs it) started by the test
// that needs it: initdb into a fresh folder, the server on a Unix socket of its own (no TCP),
// killed and removed by the destructor. PostgreSQL refuses to run as root, so under root (CI)
// initdb and the server run as the `postgres` user the package creates. Tests skip, saying
// why, when PostgreSQL is not installed.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "index/pg/postgres.hpp"

namespace stride::testing {

inline std::string PostgresBinDir() {
  for (const char* d : {"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"}) {
    if (::access((std::string(d) + "/initdb").c_str(), X_OK) == 0) return d;
  }
  return "";
}

class PostgresServer {
 public:
  // `name` makes the folder: <temp>/stride_pg_<name>_<pid>.
  explicit PostgresServer(const std::string& name) {
    namespace fs = std::filesystem;
    bin_ = PostgresBinDir();
    if (bin_.empty()) return;
    dir_ = (fs::temp_directory_path() / ("stride_pg_" + name + "_" + std::to_string(::getpid())))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) return;
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      if (::chown(dir_.c_str(), uid_, gid_) != 0) return;
    }
    port_ = 20000 + static_cast<int>(::getpid() % 20000);
    if (Run({bin_ + "/initdb", "-D", dir_ + "/data", "-A", "trust", "-U", "stride", "--no-sync",
             "-E", "UTF8", "--locale=C.UTF-8"},
            dir_ + "/initdb.log", true) != 0) {
      return;
    }
    Start();
  }
  ~PostgresServer() {
    Kill();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool installed() const { return !bin_.empty(); }
  bool ok() const { return ready_; }
  // A libpq connection string for database `db` as user stride (trusted: no password).
  std::string url(const std::string& db = "postgres") const {
    return "host=" + dir_ + " port=" + std::to_string(port_) + " user=stride dbname=" + db;
  }
  // The same as a URI, as `stride serve --runs` takes it.
  std::string uri(const std::string& db = "postgres") const {
    return "postgresql://stride@/" + db + "?host=" + dir_ + "&port=" + std::to_string(port_);
  }
  const std::string& dir() const { return dir_; }

  // SIGKILL, as a crash (the data stays); Start() brings the server back on it.
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      // A killed postmaster leaves its children a moment to notice; their shared memory
      // blocks a restart until they are gone.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    ready_ = false;
  }
  void Start() {
    pid_ = Run({bin_ + "/postgres", "-D", dir_ + "/data", "-k", dir_, "-p", std::to_string(port_),
                "-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=100"},
               dir_ + "/server.log", false);
    for (int i = 0; i < 300 && !ready_; ++i) {
      index::PostgresOptions o;
      o.url = url();
      o.migrate = false;
      ready_ = index::Postgres::Open(o).ok();
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  // Runs argv as the server's user, output to `log`: waits and returns the exit code, or
  // (wait false) returns the pid.
  int Run(const std::vector<std::string>& argv, const std::string& log, bool wait) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (uid_ != 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0) {
          ::_exit(126);
        }
      }
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    if (!wait) return pid;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string bin_, dir_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int port_ = 0;
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace stride::testing
