// Seeded fault rounds on real processes: workers killed with SIGKILL mid-job, the coordinator
// killed with SIGKILL while jobs run, a worker stopped past its lease. Every job must end with the
// results of `hollerith run --local`, a trace that verifies and no dependency released twice.
// The seed is printed (and shown with any failure); HOLLERITH_FAULT_SEED repeats a run and
// HOLLERITH_FAULT_ROUNDS changes the number of rounds (scripts/soak.sh runs many more).
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.h"
#include "tests/support/fault_jobs.h"
#include "tests/support/postgres_server.h"

namespace hollerith::testing {
namespace {

// A random point inside a running job, reached on an event: at once, or once one of the cards
// every random job has (RandomJobSpec: >= 2 stacks of >= 2 cards) has finished.
void ReachFaultPoint(std::mt19937_64& rng, const TestCluster& cluster, const std::string& job) {
  static const char* const kCards[] = {"S0.c0", "S0.c1", "S1.c0", "S1.c1"};
  const int pick = std::uniform_int_distribution<int>(-1, 3)(rng);
  if (pick < 0) return;
  cluster.Cli({"logs", job, kCards[pick], "-f"}, std::chrono::seconds(60));
}

std::string JobIdOf(const CommandResult& submitted) {
  std::string id = submitted.out;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

// What the rounds found, printed as the figures scripts/soak.sh reports.
struct Tally {
  int rounds = 0, jobs = 0, lost = 0, wrong = 0, unverified = 0;
  int replaced = 0;               // stacks re-placed with attempt + 1 (stack_lost in the traces)
  std::vector<double> detect_ms;  // kill -9 of a worker -> the coordinator has dropped it

  void Print(const char* what) {
    std::sort(detect_ms.begin(), detect_ms.end());
    auto pct = [&](double p) {
      return detect_ms.empty() ? 0.0 : detect_ms[static_cast<size_t>(p * (detect_ms.size() - 1))];
    };
    std::printf(
        "fault summary (%s): rounds %d, jobs %d, lost %d, wrong results %d, failed "
        "verifications %d, stacks re-placed %d, dead worker detected in p50 %.0f ms / p99 %.0f "
        "ms\n",
        what, rounds, jobs, lost, wrong, unverified, replaced, pct(0.5), pct(0.99));
    std::fflush(stdout);
  }
};

// Waits for the job to end and checks results and trace against the local run.
void ExpectLikeLocal(const TestCluster& cluster, const std::string& job, const std::string& local,
                     const std::string& spec_path, Tally& tally) {
  ++tally.jobs;
  auto watched = cluster.Cli({"watch", job}, std::chrono::seconds(90));
  if (watched.timed_out) {
    ++tally.wrong;
    // What there is to know about a hang: where each stack stands, and the daemons' last words.
    auto tail = [](const std::string& log) {
      return log.substr(log.size() > 6000 ? log.size() - 6000 : 0);
    };
    ADD_FAILURE() << "job " << job << " did not finish\n"
                  << cluster.Cli({"status", job}).out << "\n--- its trace:\n"
                  << TraceLines(cluster, job) << "--- coordinator:\n"
                  << tail(cluster.CoordinatorLog()) << "\n--- w1:\n"
                  << tail(cluster.WorkerLog("w1")) << "\n--- w2:\n"
                  << tail(cluster.WorkerLog("w2"));
    return;
  }
  auto status = cluster.Cli({"status", job, "--json"});
  auto wrong = CompareResults(local, status.out);
  tally.wrong += !wrong.empty();
  for (const auto& p : wrong) ADD_FAILURE() << job << ": " << p;
  if (!wrong.empty()) ADD_FAILURE() << job << " as the cluster has it: " << status.out;
  auto unverified = CheckTrace(cluster, job, spec_path);
  tally.unverified += !unverified.empty();
  for (const auto& p : unverified) ADD_FAILURE() << job << ": " << p;
  tally.replaced += std::max(0, CountTraceEvents(cluster, job, "stack_lost"));
}

TEST(FaultRounds, WorkersKilledMidJobNeverChangeResults) {
  const uint64_t seed = FaultSeed();
  const int rounds = FaultRounds(20);
  std::printf("worker kill rounds: %d, seed %llu (HOLLERITH_FAULT_SEED to repeat)\n", rounds,
              static_cast<unsigned long long>(seed));
  SCOPED_TRACE("HOLLERITH_FAULT_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TestCluster cluster({{"w1", ""}, {"w2", ""}, {"w3", ""}});
  Tally tally;
  for (int round = 0; round < rounds && !HasFailure(); ++round, ++tally.rounds) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string name = "wk" + std::to_string(round);
    std::string spec_path;
    const std::string local =
        LocalResults(cluster.data_dir(), name, RandomJobSpec(rng, name), &spec_path);
    auto submitted = cluster.Cli({"submit", spec_path});
    ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
    ReachFaultPoint(rng, cluster, JobIdOf(submitted));
    const int v = std::uniform_int_distribution<int>(1, 3)(rng);
    const std::string victim = "w" + std::to_string(v);
    std::vector<std::string> others;
    for (int w = 1; w <= 3; ++w) {
      if (w != v) others.push_back("w" + std::to_string(w));
    }
    const auto killed_at = std::chrono::steady_clock::now();
    cluster.KillWorker(victim, SIGKILL);
    ASSERT_TRUE(cluster.WaitForWorkers(others)) << "the coordinator did not drop " << victim;
    tally.detect_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed_at)
            .count());
    cluster.StartWorker({victim, ""});
    // Rejoined before the next round kills again: a worker killed before its hello reached the
    // coordinator would never be seen to go, and the next round would wait for nothing.
    ASSERT_TRUE(cluster.WaitForWorkers({"w1", "w2", "w3"})) << victim << " did not rejoin";
    ExpectLikeLocal(cluster, JobIdOf(submitted), local, spec_path, tally);
  }
  tally.Print("worker kill -9");
}

// Rounds of 1-3 acknowledged jobs, then `kill` at a random point inside the last; every job must
// be there afterwards, end like the local run and verify, and no stack of a surviving worker may
// be re-placed (its worker claimed it: no running work is run again).
void CoordinatorKillRounds(TestCluster& cluster, const std::vector<std::string>& workers,
                           const std::string& prefix, const std::function<void()>& kill,
                           const char* what) {
  const uint64_t seed = FaultSeed();
  const int rounds = FaultRounds(20);
  std::printf("%s rounds: %d, seed %llu (HOLLERITH_FAULT_SEED to repeat)\n", what, rounds,
              static_cast<unsigned long long>(seed));
  SCOPED_TRACE("HOLLERITH_FAULT_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Tally tally;
  for (int round = 0; round < rounds && !::testing::Test::HasFailure(); ++round, ++tally.rounds) {
    SCOPED_TRACE("round " + std::to_string(round));
    struct Acked {
      std::string id, local, spec_path;
    };
    std::vector<Acked> acked;
    const int jobs = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int j = 0; j < jobs; ++j) {
      const std::string name = prefix + std::to_string(round) + "x" + std::to_string(j);
      Acked a;
      a.local = LocalResults(cluster.data_dir(), name, RandomJobSpec(rng, name), &a.spec_path);
      auto submitted = cluster.Cli({"submit", a.spec_path});
      ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
      a.id = JobIdOf(submitted);  // acknowledged: it must survive what follows
      acked.push_back(a);
    }
    ReachFaultPoint(rng, cluster, acked.back().id);
    kill();
    ASSERT_TRUE(cluster.WaitForWorkers(workers));
    for (const Acked& a : acked) {
      auto listed = cluster.Cli({"status", a.id});
      if (listed.exit_code != 0) {
        ++tally.lost;
        ++tally.jobs;
        ADD_FAILURE() << "acknowledged job " << a.id << " lost: " << listed.err;
        continue;
      }
      ExpectLikeLocal(cluster, a.id, a.local, a.spec_path, tally);
      // The workers survived the kill: they claimed their stacks in time, and those went on
      // under their attempts. (A claim may still be refused when the kill came before the last
      // group commit and the claim leans on what was lost: such a stack is re-placed, counted
      // in the summary.)
      EXPECT_EQ(CountTraceEvents(cluster, a.id, "stack_lost", "nobody claimed it"), 0)
          << "job " << a.id << ": a stack of a surviving worker was re-placed after the claim "
          << "window";
    }
  }
  tally.Print(what);
}

TEST(FaultRounds, CoordinatorKilledWhileJobsRunLosesNoAcknowledgedJob) {
  // A claim window well past the workers' reconnect time (a quarter lease, and at most a second
  // of the channel's backoff), so that every stack of a surviving worker is claimed in time.
  TestCluster cluster({{"w1", ""}, {"w2", ""}}, {"--claim-window-ms", "5000"});
  CoordinatorKillRounds(
      cluster, {"w1", "w2"}, "ck", [&] { cluster.RestartCoordinator(SIGKILL); },
      "coordinator kill -9");
}

// The same with two coordinators on one PostgreSQL store: the leader is killed, the standby takes
// over from the database, workers and the CLI (given both addresses) follow it, and the killed
// one comes back as the standby for the next round.
TEST(FaultRounds, LeaderKilledWhileJobsRunFailsOverLosingNothing) {
  PostgresServer pg;
  TestCluster cluster({},
                      {"--claim-window-ms", "5000", "--store",
                       "postgres://hollerith@127.0.0.1:" + std::to_string(pg.port()) + "/hollerith",
                       "--store-passfile", pg.WritePassfile(), "--leader-lease-ms", "1000"});
  cluster.AddStandby();
  // The outage a worker rides through is the failover (about a lease) and its reconnect.
  for (const char* w : {"w1", "w2"})
    cluster.StartWorker({w, "", {}, {"--outage-grace-ms", "10000"}});
  ASSERT_TRUE(cluster.WaitForWorkers({"w1", "w2"}));
  std::vector<double> failover_ms;
  CoordinatorKillRounds(
      cluster, {"w1", "w2"}, "fo",
      [&] { failover_ms.push_back(static_cast<double>(cluster.FailOver(SIGKILL).count())); },
      "leader kill -9");
  std::sort(failover_ms.begin(), failover_ms.end());
  if (!failover_ms.empty()) {
    std::printf(
        "failover (kill -9 -> the standby listening as leader): median %.0f ms, max %.0f ms\n",
        failover_ms[failover_ms.size() / 2], failover_ms.back());
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
  Tally tally;
  ExpectLikeLocal(cluster, job, local, spec_path, tally);
  auto doc = nlohmann::json::parse(cluster.Cli({"status", job, "--json"}).out);
  EXPECT_EQ(doc["cards"]["L.end"]["node"], other) << "L finished where it was re-placed";
  EXPECT_TRUE(cluster.WaitForWorkers({"a", "b"})) << "the stopped worker reconnects";
}

}  // namespace
}  // namespace hollerith::testing
