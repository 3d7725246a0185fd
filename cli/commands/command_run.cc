#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/cluster/cluster_run.h"
#include "cli/commands/cache_flags.h"
#include "cli/commands/commands.h"
#include "cli/commands/local_workdir.h"
#include "cli/display/progress.h"
#include "cli/display/tables.h"
#include "common/base/json_text.h"
#include "common/core/result_document.h"
#include "common/local/local_run.h"
#include "common/spec/parser.h"
#include "common/trace/chrome_trace.h"

namespace hollerith::cli {
namespace {

struct RunFlags {
  std::string file;
  bool local = false;
  size_t jobs = 0;
  bool json = false;
  std::string trace;
  std::string workdir;
  int workers = 0;  // > 0: on a local cluster of that many workers
  int slots = 0;
  std::string run_as;
  std::string default_limits;
  CacheFlags cache;
};

bool AnyCacheable(const JobSpec& job) {
  for (const StackSpec& stack : job.stacks) {
    for (const CardSpec& card : stack.cards) {
      if (card.cache) return true;
    }
  }
  return false;
}

std::filesystem::path MakeWorkdir(const RunFlags& f, const std::string& job) {
  if (!f.workdir.empty()) return f.workdir;
  return NewTempWorkdir(job);
}

int RunLocal(const RunFlags& f) {
  auto loaded = LoadLocalJob(f.file, f.run_as, f.default_limits);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.message().c_str());
    return 2;
  }
  std::shared_ptr<const JobSpec> job = loaded->job;
  LocalRunOptions options;
  options.sandbox = std::move(loaded->sandbox);
  options.jobs = f.jobs;
  options.workdir = MakeWorkdir(f, job->name);
  if (Status s = PrepareWorkdir(options.workdir, options.sandbox); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  std::fprintf(stderr, "running job '%s' locally; workspaces in %s; %s\n", job->name.c_str(),
               options.workdir.c_str(), DescribeSandbox(options.sandbox).c_str());
  LocalCache cache;  // opened only for a job with cacheable cards
  if (AnyCacheable(*job)) {
    cache = OpenLocalCache(f.cache);
    if (!cache.entries) {
      std::fprintf(stderr, "warning: running without the result cache: %s\n",
                   cache.problem.c_str());
    }
    options.cache_entries = cache.entries.get();
    options.cache_store = cache.files.get();
    options.cache_unavailable = cache.problem;
    options.cache_mode = CacheModeOf(f.cache);
  }
  ProgressPrinter printer(stderr);
  const size_t stacks = job->stacks.size();
  options.on_event = [&printer, stacks](const SchedulerCore& core) {
    if (printer.Due(stacks)) printer.Update(SnapshotProgress(core));
  };

  asio::io_context io;
  LocalRun run(io, job, options);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool finished = false;
  run.Start([&] {
    finished = true;
    signals.cancel();
  });
  signals.async_wait([&](const std::error_code& e, int) {
    if (!e) std::fprintf(stderr, "interrupted: stopping running cards\n");
    if (!e) io.stop();
  });
  io.run();
  const SchedulerCore& core = run.core();
  printer.Update(SnapshotProgress(core), /*final=*/true);
  if (!f.trace.empty()) {
    if (Status s = WriteChromeTraceFile(core.job(), core.trace(), f.trace); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
    } else {
      std::fprintf(stderr, "trace written to %s\n", f.trace.c_str());
    }
  }
  if (f.json) {
    std::cout << JsonText(ResultDocument(core, &run.cache_notes()), 2) << std::endl;
  } else {
    PrintCardTable(stdout, core, &run.cache_notes());  // as `run --workers` prints it
  }
  if (!finished) return 1;
  std::fprintf(stderr, "job '%s' %s%s%s\n", job->name.c_str(), JobStateName(core.state()),
               core.reason().empty() ? "" : ": ", core.reason().c_str());
  return core.state() == JobState::kSucceeded ? 0 : 1;
}

}  // namespace

void AddRunCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "run", "Run a job and wait for its result (exit 0 ok, 1 failed, 2 bad spec)");
  auto f = std::make_shared<RunFlags>();
  cmd->add_option("FILE", f->file, "Job spec (YAML or JSON)")->required();
  cmd->add_flag("--local", f->local, "Run every stack in this process (no daemons)");
  cmd->add_option("--jobs,-j", f->jobs, "Cards running at once (default: number of cores)");
  cmd->add_flag("--json", f->json, "Print the result document as JSON on stdout");
  cmd->add_option("--trace", f->trace, "Write the trace (Chrome Trace Event JSON) to this file");
  cmd->add_option(
      "--workdir", f->workdir,
      "Where stack workspaces go (with --workers: the cluster's data dir; default: a new "
      "temp dir)");
  cmd->add_option("--workers,-w", f->workers,
                  "Run on a throwaway local cluster: a coordinator and this many workers")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slots", f->slots, "With --workers: cards at once per worker");
  cmd->add_option("--run-as", f->run_as, std::string("Without --workers: ") + kRunAsHelp);
  cmd->add_option("--default-limits", f->default_limits,
                  std::string("Without --workers: ") + kDefaultLimitsHelp);
  AddCacheFlags(cmd, f->cache, /*local=*/true);
  cmd->callback([f, &exit_code] {
    if (f->workers == 0) {
      exit_code = RunLocal(*f);
      return;
    }
    if (!f->run_as.empty() || !f->default_limits.empty()) {
      std::fprintf(stderr,
                   "--run-as and --default-limits apply to run --local; a cluster's workers "
                   "take them as hollerith-worker flags\n");
      exit_code = 2;
      return;
    }
    if (!f->cache.dir.empty()) {
      std::fprintf(stderr,
                   "--cache-dir applies to run --local; a cluster's coordinator keeps its own "
                   "result cache in its data dir\n");
      exit_code = 2;
      return;
    }
    if (f->local) {
      std::fprintf(stderr, "--local and --workers exclude each other\n");
      exit_code = 2;
      return;
    }
    exit_code = RunOnLocalCluster({.file = f->file,
                                   .workers = f->workers,
                                   .slots = f->slots,
                                   .data_dir = f->workdir,
                                   .json = f->json,
                                   .trace = f->trace,
                                   .cache = CacheModeOf(f->cache) == CacheMode::kOn
                                                ? ""
                                                : CacheModeName(CacheModeOf(f->cache))});
  });
}

}  // namespace hollerith::cli
