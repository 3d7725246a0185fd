// Family common/runner/: owns running cards on a node (processes, workspaces, resources, stacks).
// May use: the messages and clocks of common/core/ (messages.h, clock.h), artifacts, base. Must
// not use the scheduler core (it receives the core's decisions as messages), nor the network.
//
// Runs one placed stack on a node: its cards in order, in one workspace. Before a card with
// cross-stack dependencies it waits until every release has arrived; it stamps each card's start
// from what it actually received (its previous card plus the releases' clocks), not from what the
// core believes, so an early release shows up in `verify`. Retries and skips are the core's
// decisions, received as messages. Each card that runs a process holds the stack's `resources:` of
// the node's pool while it runs (with the job's priority and tenant); a stack the node can never
// hold fails its first card at once, saying why, instead of waiting forever. Used by the local
// wiring and by the worker daemon alike.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/artifacts/access.h"
#include "common/base/time_source.h"
#include "common/core/clock.h"
#include "common/core/messages.h"
#include "common/runner/card_runner.h"
#include "common/runner/resource_pool.h"
#include "common/runner/workspace_pool.h"
#include "common/spec/job.h"

namespace hollerith {

struct StackRunnerEnv {
  asio::io_context& io;
  std::string node;
  LamportClock& clock;
  CardExecutor& executor;
  ArtifactAccess& artifacts;
  ResourcePool& resources;
  WorkspacePool& workspaces;
  const TimeSource* time = &SystemTime();  // wall times of card events (for people and traces)
  // The timers of retry delays (the worker's injected ones; nullptr: asio's steady clock on `io`).
  TimerFactory* timers = nullptr;
};

// A piece of a running card's stdout (err false) or stderr, at `offset` of its stream.
struct CardOutputPiece {
  CardRef card;
  uint32_t attempt = 0;
  uint32_t try_no = 0;
  bool err = false;
  uint64_t offset = 0;
  std::string_view data;
};

class StackRunner : public std::enable_shared_from_this<StackRunner> {
 public:
  // What the runner reports, with itself (its job, stack and attempt). One set serves every runner
  // of a host, which outlives them: a runner keeps a reference, not copies (a worker holds 50,000
  // stacks at once in the fan-out benchmark).
  struct Callbacks {
    std::function<void(const StackRunner&, const CardStartedMsg&)> started;
    std::function<void(const StackRunner&, const CardFinishedMsg&)> finished;
    // No more cards will run (done, failed or skipped).
    std::function<void(const StackRunner&)> ended;
    // Output as the running card writes it (optional).
    std::function<void(const StackRunner&, const CardOutputPiece&)> output;
  };

  // `stack` is the stack's spec (cards reference other stacks by index) of job `job`; `workspace`
  // is created when a card needs it.
  StackRunner(StackRunnerEnv env, std::string job, std::shared_ptr<const StackSpec> stack,
              AssignStackMsg assign, std::string workspace, const Callbacks& callbacks);

  void Start();
  // `start`: begin the card the release lets start now; false leaves it to StartReady (a batch).
  void OnRelease(const ReleaseMsg& msg, bool start = true);
  // Begins the next card if every release it waits for has come and nothing runs.
  void StartReady() { Advance(); }
  void OnRetry(const RetryMsg& msg);
  void OnSkip(const SkipMsg& msg);
  // Card `msg.hit.card` is in the result cache: unless it has begun already, it is not run.
  void OnCacheHit(const CacheHitMsg& msg);

  const std::string& job() const { return job_; }
  uint32_t stack() const { return assign_.stack; }
  uint32_t attempt() const { return assign_.attempt; }
  bool ended() const { return ended_; }
  std::filesystem::path workspace() const { return workspace_; }
  const StackSpec& spec() const { return *spec_; }
  // What the running card wrote so far to one stream: its last `max` bytes into `data` (the
  // piece's view points there). False when no card process runs now.
  bool RunningOutput(bool err, size_t max, std::string* data, CardOutputPiece* piece);
  bool workspace_made() const { return workspace_ready_; }

 private:
  // What a card waits for. A combine card waits for every other stack (10,000 releases in the
  // fan-in benchmark): duplicates are found by binary search, and the releases' clocks are merged
  // once, at launch, not into a growing clock one by one (both were quadratic).
  struct Pending {
    std::vector<CardRef> deps;   // sorted cross-stack dependencies, from the spec
    std::vector<bool> released;  // per entry of deps
    uint32_t released_count = 0;
    std::vector<VectorClock::Entry> clocks;  // every release's clock entries, not merged yet
    OutputDigests digests;  // ("STACK-index:CARD-index:path", digest) of released producers
    bool ready() const { return released_count == deps.size(); }
  };

  void Advance();
  Status EnsureWorkspace();
  void BeginCard(uint32_t card);
  void FetchInputs(uint32_t card, size_t next, std::function<void(Status)> done);
  // Copies blob `digest` to workspace path `dest`, opened beneath the workspace (earlier cards
  // may have left links) and given to the card user.
  void FetchInto(const std::string& dest, const std::string& digest,
                 std::function<void(Status)> done);
  // Runs the card's process (or built-in) once its inputs are in place.
  void RunCard(uint32_t card);
  // A cache hit for `card` (its first try): reports the cached result at once and owes the
  // workspace the card's inputs and outputs; false if there is none (the card runs).
  bool TakeCacheHit(uint32_t card);
  // Copies what cached cards owe the workspace into it, in their order (before a card runs).
  void RestoreOwed(size_t next, std::function<void(Status)> done);
  void ReportCached(uint32_t card, const CachedCard& hit);
  // Stamps and reports the card's start from what the stack received.
  void ReportStarted(uint32_t card);
  void Launch(uint32_t card);
  void ReleaseGrant();
  // Fails `card` without running it (posted, as a failed spawn is).
  void FailBeforeStart(uint32_t card, std::string error);
  void OnCardDone(uint32_t card, CardResult result);
  void PublishOutputs(uint32_t card, size_t next, std::shared_ptr<CardFinishedMsg> msg);
  void Report(uint32_t card, std::shared_ptr<CardFinishedMsg> msg);
  void End();
  std::shared_ptr<CardFinishedMsg> FinishedMsg(uint32_t card, const CardResult& result);

  StackRunnerEnv env_;
  std::string job_;
  std::shared_ptr<const StackSpec> spec_;
  AssignStackMsg assign_;
  std::string workspace_;  // a path only where a card uses it: most stacks never make theirs
  const Callbacks& callbacks_;
  std::vector<Pending> pending_;
  VectorClock vc_;
  uint32_t next_card_ = 0;
  uint32_t try_no_ = 1;
  uint32_t skip_from_ = UINT32_MAX;
  bool busy_ = false;  // a card is being prepared, run, or awaits the core's retry decision
  bool ended_ = false;
  bool workspace_ready_ = false;
  std::optional<uint64_t> running_handle_;
  // Why the node can never run this stack's cards ("" when it can).
  std::string refusal_;
  std::optional<ResourceGrant> grant_;  // held by the card being launched or running
  std::vector<int> last_gpus_;          // of the previous grant: the next card asks for them again
  std::unique_ptr<Timer> retry_timer_;
  // What the result cache gave the stack; made only for a stack that has a hit (most have none).
  struct Cached {
    std::map<uint32_t, CachedCard> hits;  // by card: used on its first try
    // (workspace path, digest) of the files cached cards would have left: restored before the
    // next card that runs, so that it sees the workspace as if they had run.
    std::vector<std::pair<std::string, std::string>> owed;
  };
  std::unique_ptr<Cached> cached_;
  bool owes_files() const { return cached_ && !cached_->owed.empty(); }
};

}  // namespace hollerith
