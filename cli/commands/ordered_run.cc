#include "cli/commands/ordered_run.h"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <optional>

#include "cli/commands/local_workdir.h"
#include "common/core/result_document.h"
#include "common/local/local_run.h"
#include "common/trace/chrome_trace.h"

namespace hollerith::cli {
namespace {

// Slots enough for every stack to hold one while its card waits for its turn (see OrderGate).
constexpr size_t kEveryStackAtOnce = size_t{1} << 20;

}  // namespace

void AddLocalRunFlags(CLI::App* cmd, LocalRunFlags& flags, const std::string& keep_help) {
  cmd->add_option("--workdir", flags.workdir,
                  "Where the workspaces go (default: a new temp dir, removed at the end)");
  cmd->add_flag("--keep", flags.keep, keep_help);
  cmd->add_option("--run-as", flags.run_as, kRunAsHelp);
  cmd->add_option("--default-limits", flags.default_limits, kDefaultLimitsHelp);
}

OrderedRun RunInOrder(std::shared_ptr<const JobSpec> job, const OrderGate::Sequencer& sequencer,
                      const OrderedRunOptions& o) {
  OrderedRun out;
  const auto began = std::chrono::steady_clock::now();
  std::error_code ec;
  std::filesystem::remove_all(o.workdir, ec);
  if (Status s = PrepareWorkdir(o.workdir, o.sandbox); !s.ok()) {
    out.problem = s.message();
    return out;
  }
  LocalRunOptions options;
  options.sandbox = o.sandbox;
  options.workdir = o.workdir;
  options.jobs = sequencer ? kEveryStackAtOnce : o.jobs;

  asio::io_context io;
  ProcessCardRunner runner(io, o.sandbox);
  std::optional<OrderGate> gate;
  if (sequencer) gate.emplace(io, runner, sequencer, OrderGate::Options{o.stall_limit});
  options.on_event = [&gate](const SchedulerCore& core) {
    if (gate) gate->OnEvent(core);
  };
  LocalRun run(io, job, options, gate ? static_cast<CardExecutor*>(&*gate) : &runner);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  run.Start([&] {
    out.finished = true;
    signals.cancel();
  });
  signals.async_wait([&](const std::error_code& e, int) {
    if (e) return;
    out.problem = "interrupted";
    io.stop();
  });
  io.run();

  const SchedulerCore& core = run.core();
  out.result = ResultDocument(core);
  const JobSpec& ran = core.job();
  for (uint32_t s = 0; s < ran.stacks.size(); ++s) {
    if (ran.stacks[s].is_template()) continue;
    for (uint32_t c = 0; c < ran.stacks[s].cards.size(); ++c) {
      const CardRecord& record = core.record({s, c});
      if (record.tries > 0) ++out.cards_run;
      if (!record.out().stderr_text.empty()) {
        out.stderr_text[ran.card_name({s, c})] = record.out().stderr_text;
      }
    }
  }
  if (gate) {
    for (CardRef card : gate->started()) out.started.push_back(ran.card_name(card));
    out.deviations = gate->deviations();
  }
  if (!o.trace.empty()) {
    if (Status s = WriteChromeTraceFile(ran, core.trace(), o.trace); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return out;
}

}  // namespace hollerith::cli
