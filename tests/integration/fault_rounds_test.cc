// Seeded fault rounds on real processes: workers killed with SIGKILL mid-job, the coordinator
// killed with SIGKILL while jobs run, a worker stopped past its lease. Every job must end with the
// results of `hollerith run --local`, a trace that verifies and no dependency released twice.
// The seed is printed (and shown with any failure); HOLLERITH_FAULT_SEED repeats a run and
// HOLLERITH_FAULT_ROUNDS changes the number of rounds (scripts/soak.sh runs many more).
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/cluster.h"
#include "tests/support/fault_jobs.h"

namespace hollerith::testing {
namespace {

// A random moment inside a running job: fault injection, not synchronisation.
void FaultDelay(std::mt19937_64& rng, int max_ms) {
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int>(0, max_ms)(rng)));
}

std::string JobIdOf(const CommandResult& submitted) {
  std::string id = submitted.out;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

// Waits for the job to end and checks results and trace against the local run.
void ExpectLikeLocal(const TestCluster& cluster, const std::string& job, const std::string& local,
                     const std::string& spec_path) {
  auto watched = cluster.Cli({"watch", job}, std::chrono::seconds(90));
  ASSERT_FALSE(watched.timed_out) << "job " << job << " did not finish";
  auto status = cluster.Cli({"status", job, "--json"});
  for (const auto& p : CompareResults(local, status.out)) ADD_FAILURE() << job << ": " << p;
  for (const auto& p : CheckTrace(cluster, job, spec_path)) ADD_FAILURE() << job << ": " << p;
}

TEST(FaultRounds, WorkersKilledMidJobNeverChangeResults) {
  const uint64_t seed = FaultSeed();
  const int rounds = FaultRounds(20);
  std::printf("worker kill rounds: %d, seed %llu (HOLLERITH_FAULT_SEED to repeat)\n", rounds,
              static_cast<unsigned long long>(seed));
  SCOPED_TRACE("HOLLERITH_FAULT_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TestCluster cluster({{"w1", ""}, {"w2", ""}, {"w3", ""}});
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string name = "wk" + std::to_string(round);
    std::string spec_path;
    const std::string local =
        LocalResults(cluster.data_dir(), name, RandomJobSpec(rng, name), &spec_path);
    auto submitted = cluster.Cli({"submit", spec_path});
    ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
    FaultDelay(rng, 150);
    const std::string victim = "w" + std::to_string(std::uniform_int_distribution<int>(1, 3)(rng));
    cluster.KillWorker(victim, SIGKILL);
    cluster.StartWorker({victim, ""});
    ExpectLikeLocal(cluster, JobIdOf(submitted), local, spec_path);
  }
}

TEST(FaultRounds, CoordinatorKilledWhileJobsRunLosesNoAcknowledgedJob) {
  const uint64_t seed = FaultSeed();
  const int rounds = FaultRounds(20);
  std::printf("coordinator kill rounds: %d, seed %llu (HOLLERITH_FAULT_SEED to repeat)\n", rounds,
              static_cast<unsigned long long>(seed));
  SCOPED_TRACE("HOLLERITH_FAULT_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TestCluster cluster({{"w1", ""}, {"w2", ""}});
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    struct Acked {
      std::string id, local, spec_path;
    };
    std::vector<Acked> acked;
    const int jobs = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int j = 0; j < jobs; ++j) {
      const std::string name = "ck" + std::to_string(round) + "x" + std::to_string(j);
      Acked a;
      a.local = LocalResults(cluster.data_dir(), name, RandomJobSpec(rng, name), &a.spec_path);
      auto submitted = cluster.Cli({"submit", a.spec_path});
      ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
      a.id = JobIdOf(submitted);  // acknowledged: it must survive what follows
      acked.push_back(a);
    }
    FaultDelay(rng, 200);
    cluster.RestartCoordinator(SIGKILL);
    ASSERT_TRUE(cluster.WaitForWorkers({"w1", "w2"}));
    for (const Acked& a : acked) {
      auto listed = cluster.Cli({"status", a.id});
      ASSERT_EQ(listed.exit_code, 0) << "acknowledged job " << a.id << " lost: " << listed.err;
      ExpectLikeLocal(cluster, a.id, a.local, a.spec_path);
    }
  }
}

TEST(FaultRounds, AWorkerStoppedPastItsLeaseIsFencedAndTheJobStaysCorrect) {
  TestCluster cluster({{"a", ""}, {"b", ""}}, {"--missed-heartbeats", "3"});
  const std::string spec = R"(name: stopped
stacks:
  L:
    cards:
      - {id: start, run: echo start}
      - {id: hold, run: sh -c 'sleep 1; echo held'}
      - {id: end, run: echo end}
  M:
    cards:
      - {id: after, after: [L.end], run: echo after}
)";
  std::string spec_path;
  const std::string local = LocalResults(cluster.data_dir(), "stopped", spec, &spec_path);
  auto submitted = cluster.Cli({"submit", spec_path});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const std::string job = JobIdOf(submitted);
  ASSERT_EQ(cluster.Cli({"logs", job, "L.start", "-f"}).exit_code, 0);
  auto status = nlohmann::json::parse(cluster.Cli({"status", job, "--json"}).out);
  const std::string holder = status["cards"]["L.start"]["node"];
  const std::string other = holder == "a" ? "b" : "a";
  cluster.SignalWorker(holder, SIGSTOP);
  // 3 missed heartbeats of 200 ms: the lease expires and L is re-placed on the other worker.
  ASSERT_TRUE(cluster.WaitForWorkers({other}, std::chrono::seconds(20)));
  cluster.SignalWorker(holder, SIGCONT);  // its late reports belong to a fenced epoch
  ExpectLikeLocal(cluster, job, local, spec_path);
  auto doc = nlohmann::json::parse(cluster.Cli({"status", job, "--json"}).out);
  EXPECT_EQ(doc["cards"]["L.end"]["node"], other) << "L finished where it was re-placed";
  EXPECT_TRUE(cluster.WaitForWorkers({"a", "b"})) << "the stopped worker reconnects";
}

}  // namespace
}  // namespace hollerith::testing
