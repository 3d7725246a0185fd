// `hollerith explore JOB.yaml`: runs the job locally in several orders its dependencies allow
// and reports each card whose result changed with the order (an undeclared dependency).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands/commands.h"
#include "cli/commands/local_workdir.h"
#include "cli/commands/ordered_run.h"
#include "common/local/card_order.h"

namespace hollerith::cli {
namespace {

struct ExploreFlags {
  std::string file;
  size_t orders = 8;
  uint64_t seed = 1;
  size_t jobs = 0;
  LocalRunFlags local;
};

// What is compared of a card across orders (the result document's entry less what varies by
// nature: duration, node, error texts naming workspaces).
nlohmann::json Compared(const nlohmann::json& card) {
  nlohmann::json c = nlohmann::json::object();
  for (const char* key :
       {"state", "exit_code", "stdout", "stdout_truncated", "attempts", "outputs"})
    if (card.contains(key)) c[key] = card[key];
  return c;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The lines of `a` missing from `b` ("- ") and of `b` missing from `a` ("+ "), in order, by a
// longest common subsequence (outputs are at most kResultStdoutBound: 64 KiB).
std::vector<std::string> DiffLines(const std::string& a_text, const std::string& b_text) {
  const auto a = Lines(a_text), b = Lines(b_text);
  std::vector<std::vector<uint32_t>> lcs(a.size() + 1, std::vector<uint32_t>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<std::string> out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ++i, ++j;
    } else if (j == b.size() || (i < a.size() && lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push_back("- " + a[i++]);
    } else {
      out.push_back("+ " + b[j++]);
    }
  }
  return out;
}

std::string Short(const nlohmann::json& v) {
  if (v.is_null()) return "(none)";
  if (v.is_string()) return v.get<std::string>().substr(0, 16);
  return v.dump();
}

// What changed between two results of one card, a line each, indented.
std::string DescribeChange(const nlohmann::json& a, const nlohmann::json& b) {
  std::string out;
  if (a.is_null() || b.is_null()) {
    return std::string("    the card ") + (a.is_null() ? "is missing from the first" : "") +
           (b.is_null() ? "is missing from the second" : "") + " run\n";
  }
  for (const char* key : {"state", "exit_code", "attempts", "stdout_truncated"}) {
    if (a.value(key, nlohmann::json()) != b.value(key, nlohmann::json())) {
      out += std::string("    ") + key + ": " + a.value(key, nlohmann::json()).dump() + " | " +
             b.value(key, nlohmann::json()).dump() + "\n";
    }
  }
  if (a["stdout"] != b["stdout"]) {
    out += "    stdout:\n";
    const auto diff = DiffLines(a["stdout"].get<std::string>(), b["stdout"].get<std::string>());
    const size_t shown = std::min<size_t>(diff.size(), 20);
    for (size_t i = 0; i < shown; ++i) out += "      " + diff[i] + "\n";
    if (diff.size() > shown) out += "      ... " + std::to_string(diff.size() - shown) + " more\n";
    if (diff.empty()) out += "      (the same lines; line endings differ)\n";
  }
  std::map<std::string, std::pair<nlohmann::json, nlohmann::json>> outputs;
  for (const auto& [path, digest] : a["outputs"].items()) outputs[path].first = digest;
  for (const auto& [path, digest] : b["outputs"].items()) outputs[path].second = digest;
  for (const auto& [path, digests] : outputs) {
    if (digests.first != digests.second) {
      out += "    output " + path + ": sha256 " + Short(digests.first) + " | " +
             Short(digests.second) + "\n";
    }
  }
  return out;
}

std::string OrderName(size_t index, const OrderPlan& plan) {
  return "order " + std::to_string(index + 1) + " (" + plan.label + ")";
}

int Explore(const ExploreFlags& f) {
  auto loaded = LoadLocalJob(f.file, f.local.run_as, f.local.default_limits);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.message().c_str());
    return 2;
  }
  const std::shared_ptr<const JobSpec> job = loaded->job;
  const CardSandbox& sandbox = loaded->sandbox;
  const bool own_base = f.local.workdir.empty();
  const std::filesystem::path base =
      own_base ? NewTempWorkdir(job->name) : std::filesystem::path(f.local.workdir);
  if (Status s = PrepareWorkdir(base, sandbox); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  const std::vector<OrderPlan> plans = ExplorePlans(*job, f.orders, f.seed);
  std::fprintf(stderr, "exploring job '%s' in %zu orders (seed %llu); workspaces in %s\n",
               job->name.c_str(), plans.size(), static_cast<unsigned long long>(f.seed),
               base.c_str());

  // Every order runs in the same place (so a card printing its path prints the same text),
  // emptied before each run; --keep moves each run's workspaces to order-N afterwards.
  const std::filesystem::path place = base / "run";
  std::vector<OrderedRun> runs;
  std::vector<std::string> deviations;
  for (size_t i = 0; i < plans.size(); ++i) {
    OrderGate::Sequencer sequencer;
    if (plans[i].kind != OrderKind::kParallel) {
      sequencer = [plan = plans[i]](const JobSpec& j) { return CardSequence(j, plan); };
    }
    OrderedRun run =
        RunInOrder(job, sequencer, {.workdir = place, .sandbox = sandbox, .jobs = f.jobs});
    std::error_code ec;
    if (f.local.keep) {
      std::filesystem::remove_all(base / ("order-" + std::to_string(i + 1)), ec);
      std::filesystem::rename(place, base / ("order-" + std::to_string(i + 1)), ec);
    } else {
      std::filesystem::remove_all(place, ec);
    }
    if (!run.finished) {
      std::fprintf(stderr, "%s: %s\n", OrderName(i, plans[i]).c_str(), run.problem.c_str());
      return run.problem == "interrupted" ? 1 : 2;
    }
    std::fprintf(stderr, "order %zu/%zu (%s): %zu cards, %.1f s\n", i + 1, plans.size(),
                 plans[i].label.c_str(), run.cards_run, run.seconds);
    for (const std::string& d : run.deviations) {
      deviations.push_back(OrderName(i, plans[i]) + ": " + d);
    }
    runs.push_back(std::move(run));
  }
  if (own_base && !f.local.keep) {
    std::error_code ec;
    std::filesystem::remove_all(base, ec);
  }

  // Every card any run had, in the first run's order, then the others'.
  std::vector<std::string> names;
  std::map<std::string, bool> seen;
  for (const OrderedRun& run : runs) {
    for (const auto& [name, card] : run.result["cards"].items()) {
      if (!seen[name]) names.push_back(name);
      seen[name] = true;
    }
  }
  size_t changed = 0;
  std::string report;
  for (const std::string& name : names) {
    std::vector<nlohmann::json> results;
    for (const OrderedRun& run : runs) {
      const auto& cards = run.result["cards"];
      results.push_back(cards.contains(name) ? Compared(cards[name]) : nlohmann::json());
    }
    // The groups of orders that agree, the first run's group first.
    std::vector<std::vector<size_t>> groups;
    for (size_t i = 0; i < results.size(); ++i) {
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const auto& group) { return results[group[0]] == results[i]; });
      if (g == groups.end()) {
        groups.push_back({i});
      } else {
        g->push_back(i);
      }
    }
    if (groups.size() == 1) continue;
    ++changed;
    const size_t a = groups[0][0], b = groups[1][0];
    report += "card " + name + ": its result changed with the order\n";
    report += "  " + OrderName(a, plans[a]) + " and " + OrderName(b, plans[b]) + " disagree\n";
    report += "  orders giving the same result:";
    for (size_t g = 0; g < groups.size(); ++g) {
      report += g ? " |" : "";
      for (size_t i : groups[g]) report += " " + std::to_string(i + 1);
    }
    report += "\n  what changed (" + OrderName(a, plans[a]) + " | " + OrderName(b, plans[b]) +
              "):\n" + DescribeChange(results[a], results[b]);
  }
  for (const std::string& d : deviations) std::fprintf(stderr, "note: %s\n", d.c_str());
  const size_t cards = runs.empty() ? 0 : runs[0].result["cards"].size();
  if (changed == 0) {
    std::printf("explore: %zu orders, %zu cards: all agreed\n", runs.size(), cards);
    return 0;
  }
  std::fputs(report.c_str(), stdout);
  std::printf(
      "explore: %zu of %zu cards changed with the order across %zu orders: an undeclared "
      "dependency (a file outside the workspace, a shared path, the time, ...)?\n",
      changed, names.size(), runs.size());
  return 1;
}

}  // namespace

void AddExploreCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "explore",
      "Run a job locally in several orders its dependencies allow and report cards whose result "
      "changed (exit 0 all agreed, 1 some changed, 2 bad spec)");
  auto f = std::make_shared<ExploreFlags>();
  cmd->add_option("FILE", f->file, "Job spec (YAML or JSON)")->required();
  cmd->add_option("--orders,-k", f->orders,
                  "How many orders: parallel, serial, stacks reversed, stacks delayed, random "
                  "(default 8)")
      ->check(CLI::Range(2, 1000));
  cmd->add_option("--seed", f->seed, "Seed of the delayed stacks' choice and the random orders");
  cmd->add_option("--jobs,-j", f->jobs,
                  "Cards running at once in the parallel order (default: number of cores)");
  AddLocalRunFlags(cmd, f->local, "Keep each order's workspaces (WORKDIR/order-N)");
  cmd->callback([f, &exit_code] { exit_code = Explore(*f); });
}

}  // namespace hollerith::cli
