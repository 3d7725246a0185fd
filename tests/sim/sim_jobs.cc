#include "tests/sim/sim_jobs.h"

#include <asio/io_context.hpp>

#include "common/base/check.h"
#include "common/core/result_document.h"
#include "common/local/local_run.h"
#include "common/spec/parser.h"

namespace hollerith::sim {

SimJobPlan DrawJob(const std::string& tag, std::mt19937_64& rng, Truth& truth) {
  auto chance = [&rng](double p) { return std::bernoulli_distribution(p)(rng); };
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  SimJobPlan plan;
  plan.tag = tag;
  std::vector<std::vector<std::string>> stacks;  // card names per stack
  std::string yaml = "name: sim-" + tag + "\nstacks:\n";
  auto& deps = truth.dependencies[tag];
  const int stack_count = pick(1, 5);
  for (int s = 0; s < stack_count; ++s) {
    const std::string stack = "S" + std::to_string(s);
    yaml += "  " + stack + ":\n    cards:\n";
    std::vector<std::string>& cards = stacks.emplace_back();
    const int card_count = pick(1, 3);
    for (int c = 0; c < card_count; ++c) {
      SimCard card{tag, stack + ".c" + std::to_string(c), chance(0.06) ? 1 : 0,
                   "out-" + tag + "-" + stack + "-" + std::to_string(c)};
      yaml +=
          "      - id: c" + std::to_string(c) + "\n        run: \"" + SimCardCommand(card) + "\"\n";
      std::vector<std::string>& card_deps = deps[card.name];
      if (c > 0) card_deps.push_back(cards.back());
      if (s > 0 && chance(0.5)) {
        std::string after;
        for (int k = pick(1, 2); k > 0; --k) {
          const auto& from = stacks[static_cast<size_t>(pick(0, s - 1))];
          const std::string& dep =
              from[static_cast<size_t>(pick(0, static_cast<int>(from.size()) - 1))];
          if (std::find(card_deps.begin(), card_deps.end(), dep) != card_deps.end()) continue;
          card_deps.push_back(dep);
          after += (after.empty() ? "" : ", ") + dep;
        }
        if (!after.empty()) yaml += "        after: [" + after + "]\n";
      }
      if (chance(0.15)) yaml += "        retries: 1\n";
      cards.push_back(card.name);
    }
  }
  plan.yaml = yaml;
  auto parsed = ParseJobSpec(yaml, tag + ".yaml", SpecLimits{});
  HOLLERITH_CHECK(parsed.ok(), parsed.message().c_str());
  plan.spec = std::make_shared<const JobSpec>(std::move(parsed).value());
  return plan;
}

nlohmann::json ResultProjection(const nlohmann::json& doc) {
  // A field that is absent or null reads as null.
  auto field = [](const nlohmann::json& j, const char* key) {
    return j.contains(key) ? j.at(key) : nlohmann::json();
  };
  nlohmann::json out = {{"state", field(doc, "state")}, {"reason", field(doc, "reason")}};
  nlohmann::json cards = nlohmann::json::object();
  const nlohmann::json doc_cards = field(doc, "cards");
  for (const auto& [name, card] : doc_cards.items()) {
    cards[name] = {{"state", field(card, "state")},
                   {"exit_code", field(card, "exit_code")},
                   {"stdout", field(card, "stdout")},
                   {"error", field(card, "error")}};
  }
  // With several failed cards the reason names whichever failed first: an order that is not
  // declared, so it may differ between two correct runs.
  // Likewise a skipped card names the failed card it learnt of first.
  size_t failed = 0;
  for (auto& [name, card] : cards.items()) {
    failed += card["state"] == "failed";
    if (card["state"] == "skipped") card["error"] = "skipped";
  }
  if (failed > 1) out["reason"] = "(" + std::to_string(failed) + " cards failed)";
  out["cards"] = std::move(cards);
  return out;
}

nlohmann::json LocalResult(const std::shared_ptr<const JobSpec>& spec,
                           const std::filesystem::path& workdir) {
  asio::io_context io;
  Truth truth;
  SimExecutor executor(io, truth, "local", /*auto_complete=*/true);
  LocalRunOptions options;
  options.jobs = 4;
  options.workdir = workdir;
  options.retry.base = Duration(1);
  options.retry.max = Duration(1);
  LocalRun run(io, spec, options, &executor);
  bool done = false;
  run.Start([&] { done = true; });
  io.run();
  HOLLERITH_CHECK(done, "the local run did not end");
  return ResultProjection(ResultDocument(run.core()));
}

}  // namespace hollerith::sim
