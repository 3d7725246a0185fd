// One local run of a job for `explore` and `replay`: the core and the real card runner in this
// process (LocalRun), behind an OrderGate that makes the cards run one at a time in a sequence,
// or as `run --local` does (no sequence: every ready card at once).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/local/order_gate.h"
#include "common/runner/card_sandbox.h"
#include "common/spec/job.h"

namespace hollerith::cli {

// The flags of both commands' local runs.
struct LocalRunFlags {
  std::string workdir;  // "": a new temp dir, removed at the end unless `keep`
  bool keep = false;
  std::string run_as;
  std::string default_limits;
};
void AddLocalRunFlags(CLI::App* cmd, LocalRunFlags& flags, const std::string& keep_help);

struct OrderedRunOptions {
  std::filesystem::path workdir;  // made afresh (removed first if it is there)
  CardSandbox sandbox;
  size_t jobs = 0;    // without a sequence: cards at once (0: cores)
  std::string trace;  // write the run's trace there ("": none)
  std::chrono::milliseconds stall_limit{std::chrono::seconds(60)};
};

struct OrderedRun {
  bool finished = false;  // false: interrupted (SIGINT/SIGTERM) or the workdir failed
  std::string problem;    // why it did not finish
  nlohmann::json result;  // the result document (common/core/result_document.h)
  std::map<std::string, std::string> stderr_text;  // of each card that wrote some, by name
  std::vector<std::string> started;                // the gate's admissions, by name
  std::vector<std::string> deviations;             // OrderGate::deviations()
  size_t cards_run = 0;                            // cards that started at least once
  double seconds = 0;
};

// `sequencer` null: no gate (the "parallel" order).
OrderedRun RunInOrder(std::shared_ptr<const JobSpec> job, const OrderGate::Sequencer& sequencer,
                      const OrderedRunOptions& options);

}  // namespace hollerith::cli
