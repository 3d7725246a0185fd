// Family common/local/: the one-process wiring. May use: core, runner, artifacts. Nothing uses it
// but the CLI.
//
// `hollerith run --local`: the scheduler core and a StackHost wired together in one process, on one
// io_context. Messages between them are posted (never direct re-entrant calls), as a network would
// deliver them, so the local run exercises the same code paths and ordering rules as the cluster.
#pragma once

#include <asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include "common/artifacts/access.h"
#include "common/cache/card_cache.h"
#include "common/core/result_document.h"
#include "common/core/scheduler_core.h"
#include "common/runner/card_runner.h"
#include "common/runner/resource_pool.h"
#include "common/runner/stack_host.h"

namespace hollerith {

struct LocalRunOptions {
  size_t jobs = 0;  // cards running at once; 0 = number of cores
  std::filesystem::path workdir;
  RetryPolicy retry;
  std::string job_id = "local";
  CardSandbox sandbox;  // whom cards run as, default limits (run --local's --run-as and so on)
  // Called on the io_context after every event the core accepted (for progress display).
  std::function<void(const SchedulerCore&)> on_event;
  // The result cache (--cache-dir): its entries (null: none, `cache_unavailable` says why), the
  // store of its files, and how this run uses it. Entries are the "local" scope's.
  ResultCache* cache_entries = nullptr;
  ArtifactStore* cache_store = nullptr;
  std::string cache_unavailable = "not enabled";
  CacheMode cache_mode = CacheMode::kOn;
};

class LocalRun {
 public:
  LocalRun(asio::io_context& io, std::shared_ptr<const JobSpec> job, LocalRunOptions options,
           CardExecutor* executor = nullptr);  // nullptr: the real process runner
  // Starts the job; `done` runs on the io_context when the job has finished.
  void Start(std::function<void()> done);
  const SchedulerCore& core() const { return core_; }
  // What became of each cacheable card's lookup ("hit: job J", "miss: ..."), by card.
  const CacheNotes& cache_notes() const { return cache_notes_; }

 private:
  void Drain();
  // Reads the list a run-time matrix asked for and gives the core the stacks it makes.
  void ListFanOut(const FanOutAction& fanout);

  asio::io_context& io_;
  LocalRunOptions options_;
  LamportClock clock_;
  SchedulerCore core_;
  std::unique_ptr<ProcessCardRunner> own_executor_;
  CardExecutor* executor_;
  ArtifactStore store_;
  LocalArtifactAccess artifacts_;
  ResourcePool slots_;
  WorkspacePool workspaces_;
  std::unique_ptr<StackHost> host_;
  CardCache cache_;
  CacheScope cache_scope_;
  std::vector<CachedCard> hits_for_assign_;  // found for the assignment that comes next
  CacheNotes cache_notes_;
  std::function<void()> done_;
};

}  // namespace hollerith
