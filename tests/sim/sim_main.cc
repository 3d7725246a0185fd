// hollerith-sim: runs the seeded simulator of the cluster over a range of seeds
// (docs/simulator.md).
//   hollerith-sim --seeds N [--from S] [--seconds T]   N schedules from seed S (time-boxed by T)
//   hollerith-sim --seed S [--print]                   one schedule; --print shows its steps
// A failing seed is shrunk (its faults left out one by one while it still fails) and printed as
// readable steps; the exit code is 1 then, 0 when every schedule kept every invariant.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tests/sim/sim_world.h"

int main(int argc, char** argv) {
  using namespace hollerith::sim;
  CLI::App app{
      "Runs the seeded simulator of a Hollerith cluster: the real coordinator and workers "
      "in one thread, on simulated time and network, under faults drawn from each seed."};
  uint64_t from = 1;
  uint64_t seeds = 100;
  std::optional<uint64_t> one;
  double seconds = 0;
  bool print = false;
  bool keep_going = false;
  SimConfig config;
  app.add_option("--seeds", seeds, "how many schedules (seeds FROM, FROM+1, ...)");
  app.add_option("--from", from, "the first seed");
  app.add_option("--seed", one, "run this one seed (with --print: show its steps)");
  app.add_option("--seconds", seconds, "stop after this long (0: run every seed)");
  app.add_option("--workers", config.workers, "simulated workers")->capture_default_str();
  app.add_option("--jobs", config.jobs, "jobs per schedule")->capture_default_str();
  app.add_flag("--print", print, "print the schedule's steps");
  app.add_flag(
      "--keep-going", keep_going,
      "after a failing seed, go on (its failure is printed, not shrunk); exit 1 at the end");
  app.add_option("--trace-dir", config.trace_dir,
                 "write each job's trace (JOB.json) and spec (JOB.yaml) into this directory");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::off);

  if (one) {
    config.seed = *one;
    config.record = print;
    SimReport r = Simulate(config);
    for (const auto& line : r.schedule) std::printf("%s\n", line.c_str());
    std::printf("seed %llu: %s (%zu steps, %zu cards run, %zu faults)\n",
                static_cast<unsigned long long>(*one), r.failure.empty() ? "ok" : r.failure.c_str(),
                r.steps, r.cards_run, r.faults.size());
    return r.failure.empty() ? 0 : 1;
  }
  const auto began = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  };
  size_t done = 0, steps = 0, faults = 0, cards = 0, quarantined = 0;
  std::vector<uint64_t> failed;
  double last_progress = 0;
  for (uint64_t seed = from; seed < from + seeds; ++seed) {
    if (seconds > 0 && elapsed() >= seconds) break;
    config.seed = seed;
    SimReport r = Simulate(config);
    ++done;
    steps += r.steps;
    faults += r.faults.size();
    cards += r.cards_run;
    quarantined += r.quarantined;
    if (!r.failure.empty() && keep_going) {
      std::printf("seed %llu FAILED: %s\n", static_cast<unsigned long long>(seed),
                  r.failure.c_str());
      std::fflush(stdout);
      failed.push_back(seed);
    } else if (!r.failure.empty()) {
      std::printf("seed %llu FAILED: %s\nshrinking...\n", static_cast<unsigned long long>(seed),
                  r.failure.c_str());
      std::fflush(stdout);
      SimReport shrunk = Shrink(config, r);
      std::printf("schedule of seed %llu with the faults that still make it fail:\n",
                  static_cast<unsigned long long>(seed));
      for (const auto& line : shrunk.schedule) std::printf("  %s\n", line.c_str());
      std::printf("reproduce: hollerith-sim --seed %llu --print\n",
                  static_cast<unsigned long long>(seed));
      return 1;
    }
    if (elapsed() - last_progress >= 10) {
      last_progress = elapsed();
      std::fprintf(stderr, "%zu schedules, %.0f/s, seeds %llu..%llu\n", done, done / elapsed(),
                   static_cast<unsigned long long>(from), static_cast<unsigned long long>(seed));
    }
  }
  const double t = elapsed();
  std::printf(
      "%zu schedules (seeds %llu..%llu) %s: %zu steps, %zu faults, %zu cards, "
      "%zu jobs with a quarantined card; %.1f s, %.0f schedules/s\n",
      done, static_cast<unsigned long long>(from), static_cast<unsigned long long>(from + done - 1),
      failed.empty() ? "kept every invariant" : "ran", steps, faults, cards, quarantined, t,
      done / t);
  if (!failed.empty()) {
    std::printf("%zu seeds FAILED (hollerith-sim --seed S --print shows one):", failed.size());
    for (uint64_t s : failed) std::printf(" %llu", static_cast<unsigned long long>(s));
    std::printf("\n");
    return 1;
  }
  return 0;
}
