#include "tests/support/fault_jobs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

namespace hollerith::testing {

uint64_t FaultSeed() {
  if (const char* env = std::getenv("HOLLERITH_FAULT_SEED"); env && *env) {
    return std::strtoull(env, nullptr, 10);
  }
  return std::random_device{}();
}

int FaultRounds(int default_rounds) {
  if (const char* env = std::getenv("HOLLERITH_FAULT_ROUNDS"); env && *env) return std::atoi(env);
  return default_rounds;
}

std::string RandomJobSpec(std::mt19937_64& rng, const std::string& name) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int stacks = pick(2, 4);
  std::vector<int> cards(stacks);
  for (int& c : cards) c = pick(2, 4);
  std::ostringstream y;
  y << "name: " << name << "\nstacks:\n";
  for (int s = 0; s < stacks; ++s) {
    y << "  S" << s << ":\n    cards:\n";
    for (int c = 0; c < cards[s]; ++c) {
      const int ms = pick(10, 50);
      y << "      - id: c" << c << "\n";
      if (s == 0 && c == 0) {
        y << "        run: sh -c 'seq 1 " << pick(5, 50) << " > data.txt; sleep 0.0" << ms / 10
          << "; echo made'\n        outputs: [data.txt]\n";
        continue;
      }
      if (s > 0 && c == 0 && pick(0, 1)) {
        y << "        inputs: [S0.c0:data.txt]\n        run: sh -c 'wc -l < data.txt; sleep 0.0"
          << ms / 10 << "'\n";
        continue;
      }
      if (s > 0 && pick(0, 1)) {
        const int from = pick(0, s - 1);
        y << "        after: [S" << from << ".c" << pick(0, cards[from] - 1) << "]\n";
      }
      y << "        run: sh -c 'echo S" << s << ".c" << c << "; sleep 0.0" << ms / 10 << "'\n";
    }
  }
  if (pick(0, 1)) y << "combine:\n  run: sh -c 'cat results/*.stdout | wc -l'\n";
  return y.str();
}

std::string LocalResults(const std::string& dir, const std::string& name, const std::string& spec,
                         std::string* spec_path) {
  *spec_path = dir + "/" + name + ".yaml";
  std::ofstream(*spec_path) << spec;
  return RunLocal(*spec_path, {"--json"}).out;
}

std::vector<std::string> CompareResults(const std::string& local_json,
                                        const std::string& cluster_json) {
  std::vector<std::string> problems;
  auto local = nlohmann::json::parse(local_json, nullptr, false);
  auto cluster = nlohmann::json::parse(cluster_json, nullptr, false);
  if (local.is_discarded() || cluster.is_discarded()) return {"unreadable result document"};
  if (local["state"] != cluster["state"]) {
    problems.push_back("job state: local " + local["state"].dump() + ", cluster " +
                       cluster["state"].dump());
  }
  for (const auto& [card, want] : local["cards"].items()) {
    const auto& got = cluster["cards"][card];
    for (const char* key : {"state", "exit_code", "stdout", "outputs"}) {
      if (want[key] != got[key]) {
        problems.push_back(card + "." + key + ": local " + want[key].dump() + ", cluster " +
                           got[key].dump());
      }
    }
  }
  return problems;
}

namespace {

std::string TracePath(const TestCluster& cluster, const std::string& job) {
  return cluster.data_dir() + "/" + job + ".trace.json";
}

}  // namespace

int CountTraceEvents(const TestCluster& cluster, const std::string& job, const std::string& kind,
                     const std::string& detail) {
  std::ifstream in(TracePath(cluster, job));
  auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded()) return -1;
  int n = 0;
  for (const auto& e : doc["traceEvents"]) {
    const auto& args = e["args"];
    n += args.value("kind", "") == kind &&
         args.value("detail", "").find(detail) != std::string::npos;
  }
  return n;
}

std::vector<std::string> CheckTrace(const TestCluster& cluster, const std::string& job,
                                    const std::string& spec_path) {
  std::vector<std::string> problems;
  const std::string path = TracePath(cluster, job);
  auto exported = cluster.Cli({"trace", job, "-o", path});
  if (exported.exit_code != 0) return {"trace export failed: " + exported.err};
  auto verified = RunCommand({HOLLERITH_CLI_PATH, "verify", path, "--spec", spec_path});
  if (verified.exit_code != 0) {
    // Kept where the test's temp dir is not: the trace is what says what went wrong.
    std::error_code ignored;
    const auto kept = std::filesystem::temp_directory_path() / "hollerith-unverified-traces";
    std::filesystem::create_directories(kept, ignored);
    std::filesystem::copy_file(path, kept / (job + ".trace.json"),
                               std::filesystem::copy_options::overwrite_existing, ignored);
    problems.push_back("verify: " + verified.out + verified.err + " (trace kept in " +
                       kept.string() + ")");
  }
  std::ifstream in(path);
  auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded()) return {"unreadable trace"};
  std::map<std::tuple<std::string, std::string, int>, int> releases;
  for (const auto& e : doc["traceEvents"]) {
    const auto& a = e["args"];
    if (a.value("kind", "") != "release") continue;
    const auto key =
        std::make_tuple(a.value("card", ""), a.value("target", ""), a.value("attempt", 0));
    if (++releases[key] == 2) {
      problems.push_back("released twice: " + std::get<0>(key) + " -> " + std::get<1>(key) +
                         " (attempt " + std::to_string(std::get<2>(key)) + ")");
    }
  }
  return problems;
}

std::string TraceLines(const TestCluster& cluster, const std::string& job) {
  auto exported = cluster.Cli({"trace", job});
  if (exported.exit_code != 0) return "(no trace: " + exported.err + ")\n";
  auto doc = nlohmann::json::parse(exported.out, nullptr, false);
  if (doc.is_discarded()) return "(unreadable trace)\n";
  std::ostringstream lines;
  for (const auto& e : doc["traceEvents"]) {
    const auto& a = e["args"];
    if (!a.contains("kind")) continue;
    lines << a.value("kind", "") << " " << a.value("card", a.value("stack", ""));
    if (a.contains("target")) lines << " -> " << a.value("target", "");
    lines << " attempt " << a.value("attempt", 0) << " on " << a.value("node", "") << " at "
          << a.value("lamport", uint64_t{0}) << "\n";
  }
  return lines.str();
}

}  // namespace hollerith::testing
