// The jobs of a simulated schedule: drawn from the seed (stacks of simulated cards with `after`
// edges to earlier stacks, some cards failing, some with retries), and what `run --local` makes
// of each, which the cluster's results must equal.
#pragma once

#include <memory>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "common/spec/job.h"
#include "tests/sim/sim_executor.h"

namespace hollerith::sim {

struct SimJobPlan {
  std::string tag;  // "j1", "j2", ...
  std::string yaml;
  std::shared_ptr<const JobSpec> spec;
  nlohmann::json expected;  // ResultProjection of the local run
};

// A job drawn from `rng`; its cards' dependencies go into `truth`.
SimJobPlan DrawJob(const std::string& tag, std::mt19937_64& rng, Truth& truth);
// What must agree between runs: the job's state and reason (unless several cards failed: then
// it names the first to fail), and per card its state, exit code, stdout and error.
nlohmann::json ResultProjection(const nlohmann::json& result_document);
// Runs the job with `run --local`'s wiring (LocalRun) on simulated cards; its projection.
nlohmann::json LocalResult(const std::shared_ptr<const JobSpec>& spec,
                           const std::filesystem::path& workdir);

}  // namespace hollerith::sim
