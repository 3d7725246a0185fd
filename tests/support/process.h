// Real processes for integration tests: run a command to completion with a deadline, or start a
// daemon, read its stdout until a line appears (with a deadline), signal it, and always reap it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace hollerith::testing {

struct CommandResult {
  int exit_code = -1;  // -1: killed (e.g. by the deadline)
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs argv with extra environment entries ("K=V"); kills it at the deadline.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60),
                         const std::vector<std::string>& env = {});

// Runs `hollerith run --local SPEC ARGS...` with its workspaces in a temporary directory that is
// removed afterwards (without --workdir the CLI keeps them under /tmp for the user to look at).
CommandResult RunLocal(const std::string& spec, const std::vector<std::string>& args = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Waits (inotify on its directory, with a deadline) until the file at `path` holds a complete
// line; returns that line without its newline, or "" at the deadline.
std::string WaitForFileLine(const std::string& path,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20));
// Waits (pidfd, with a deadline) until process `pid`, a child or not, has exited.
bool WaitForProcessExit(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(20));

class Daemon {
 public:
  explicit Daemon(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Reads stdout until a line starting with `prefix`; returns the rest of that line, or "" at the
  // deadline or if the process exits first. Each line is returned once; lines passed over on the
  // way are kept for later calls, so startup lines may be waited for in any order.
  std::string WaitForLine(const std::string& prefix,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Reads the daemon's stderr (its log) line by line, from where the last call stopped, until
  // `match` returns true for a line; false at the deadline. Waits for new output with inotify.
  bool WaitForLogLine(const std::function<bool(const std::string& line)>& match,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void Signal(int sig);
  // Waits for exit (after a signal); returns the exit code, -1 if killed by a signal or timed out.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  pid_t pid() const { return pid_; }
  const std::string& stderr_path() const { return stderr_path_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  std::deque<std::string> passed_;  // complete stdout lines no call has returned yet
  std::string stderr_path_;
  size_t stderr_offset_ = 0;  // log bytes WaitForLogLine has already looked at
  bool reaped_ = false;
};

}  // namespace hollerith::testing
