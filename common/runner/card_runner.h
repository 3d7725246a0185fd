// Runs one card. CardExecutor is the interface the stack runner depends on (tests replace it);
// ProcessCardRunner is the real one: a vfork-style spawn in a new process group (process_spawn.h),
// exit watched through a pidfd on the io_context, stdout/stderr captured through pipes (kept in
// memory up to a bound, the rest spilled to a file in the workspace), timeout kills the whole group
// (TERM, then KILL after a grace). Built-ins (noop, sleep) run without a process.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// After a standard header on purpose: asio 1.22 picks its handler allocator (aligned_alloc or
// operator new) from libstdc++ macros, so including it first in some files and later in others
// mixes the two (alloc/dealloc mismatch).
#include <asio/io_context.hpp>

#include "common/runner/card_sandbox.h"
#include "common/runner/output_capture.h"
#include "common/spec/job.h"

namespace hollerith {

// PATH of a card whose spec sets none.
inline constexpr const char* kCardDefaultPath = "/usr/local/bin:/usr/bin:/bin";

struct CardResult {
  int exit_code = -1;   // the process's exit status; -1 when it did not exit normally
  int term_signal = 0;  // the signal that ended it, if any
  bool timed_out = false;
  std::string error;  // why it failed beyond a non-zero exit: spawn error, timeout, ...
  CapturedStream out;
  CapturedStream err;
  std::chrono::milliseconds duration{0};
  std::chrono::microseconds spawn{-1};  // posix_spawn until the process runs; -1: no process

  bool succeeded() const { return exit_code == 0 && error.empty() && !timed_out; }
};

struct CardLaunch {
  std::filesystem::path workspace;                             // working directory; must exist
  std::vector<std::pair<std::string, std::string>> extra_env;  // added after the card's env
  size_t capture_limit = size_t{1} << 20;
  // The memory its stack holds on the node (`resources:`): the card's memory limit when its own
  // `limits:` set none, before the node's default limits. 0: none.
  uint64_t memory_request = 0;
  std::chrono::milliseconds kill_grace{2000};  // TERM -> KILL on timeout or cancel
  // After the card's process exits, how long stray members of its process group (background
  // jobs it started) may keep stdout/stderr open before the runner closes the pipes and reports.
  std::chrono::milliseconds output_drain{2000};
  // Called on the io_context with each piece of stdout (err false) or stderr the card writes, at
  // `offset` of its stream, before it is captured. Optional.
  std::function<void(bool err, uint64_t offset, std::string_view data)> on_output;
};

class CardExecutor {
 public:
  using Done = std::function<void(CardResult)>;
  virtual ~CardExecutor() = default;
  // Starts the card; `done` runs on the io_context exactly once (never inside Run itself).
  // Returns a handle for Cancel.
  virtual uint64_t Run(const CardSpec& card, const CardLaunch& launch, Done done) = 0;
  // Kills the card's process group (TERM then KILL); its `done` still runs, with an error.
  virtual void Cancel(uint64_t handle) = 0;
  // What a running card wrote so far to stdout (err false) or stderr: up to `max` bytes from
  // offset `from` into `data`, and the stream's length into `total`. False when the card is not
  // running (or has no process).
  virtual bool ReadOutput(uint64_t /*handle*/, bool /*err*/, size_t /*from*/, size_t /*max*/,
                          std::string* /*data*/, size_t* /*total*/) {
    return false;
  }
};

// Single-threaded: Run, Cancel and destruction happen on the io_context's thread (or while it is
// not running). Destroying the runner SIGKILLs and reaps every running card's process group; their
// `done` callbacks are then never invoked.
class ProcessCardRunner : public CardExecutor {
 public:
  // Cards run as `sandbox.user`, under their limits with `sandbox.defaults` for unset ones, in
  // an environment of PATH (kCardDefaultPath), HOME (the workspace), LANG (C.UTF-8) and their
  // spec's `env`: never the daemon's own.
  explicit ProcessCardRunner(asio::io_context& io, CardSandbox sandbox = {});
  ~ProcessCardRunner() override;
  uint64_t Run(const CardSpec& card, const CardLaunch& launch, Done done) override;
  void Cancel(uint64_t handle) override;
  bool ReadOutput(uint64_t handle, bool err, size_t from, size_t max, std::string* data,
                  size_t* total) override;

 private:
  struct Impl;
  // Shared so that completion handlers still queued on the io_context can tell (weak_ptr) that the
  // runner is gone.
  std::shared_ptr<Impl> impl_;
};

}  // namespace hollerith
