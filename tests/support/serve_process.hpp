// SPDX-License-Identifier: Apache-2.0
//
// The real `stride serve` (or `stride worker`) process (the binary at STRIDE_CLI), as an operator
// starts it: its arguments, STRIDE_JWT_SECRET in its environment, stderr to a log file. The
// constructor waits until it prints the port it listens on (port() != 0) or 10 s pass; Kill() is
// SIGKILL, as a crash; the destructor kills it if it still runs.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace stride::testing {

class ServeProcess {
 public:
  // `args` follow `command` ("--port 0" among them, so the port is the kernel's choice).
  ServeProcess(const std::vector<std::string>& args, const std::string& jwt_secret,
               const std::string& log, const std::string& command = "serve") {
    // Everything the child needs is made before fork(): the test process may have threads
    // (servers of its own), and only exec-safe calls may follow a fork in one.
    std::vector<std::string> argv = {STRIDE_CLI, command};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    std::string env = "STRIDE_JWT_SECRET=" + jwt_secret;
    char* envp[] = {env.data(), nullptr};
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      ::execve(STRIDE_CLI, cargv.data(), envp);
      ::_exit(127);
    }
    for (int i = 0; i < 500 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::ifstream f(log);
      std::stringstream text;
      text << f.rdbuf();
      const std::string s = text.str();
      const size_t at = s.find("listening on http://127.0.0.1:");
      if (at != std::string::npos) port_ = std::atoi(s.c_str() + at + 30);
    }
  }
  ~ServeProcess() {
    if (pid_ > 0) Kill();
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  void Kill() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace stride::testing
