// Workers reconcile with a coordinator that was killed with SIGKILL and started again on the same
// data dir: a running stack finishes under its original attempt (its first card ran once), a card
// that finished while the coordinator was down is recorded once and released once, and a worker
// that comes back after the claim window is told to drop the stack that was re-placed meanwhile.
// Every job ends with the results of `run --local`, and its trace verifies.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/cluster.h"
#include "tests/support/fault_jobs.h"

namespace hollerith::testing {
namespace {

// A stack A whose middle card waits for the file GATE; each card appends its name to COUNT.
// B.after depends on A.wait. `pin` places A on x and B on y.
std::string GatedSpec(const std::string& name, const std::string& count, const std::string& gate,
                      bool pin) {
  std::ostringstream s;
  s << "name: " << name << "\nstacks:\n  A:\n";
  if (pin) s << "    node: x\n";
  s << "    cards:\n"
    << "      - {id: one, run: sh -c 'echo one >> " << count << "; echo one'}\n"
    << "      - id: wait\n"
    << "        run: sh -c 'echo wait >> " << count << "; while [ ! -f " << gate
    << " ]; do sleep 0.05; done; echo waited'\n"
    << "        timeout: 60s\n"
    << "      - {id: three, run: sh -c 'echo three >> " << count << "; echo three'}\n"
    << "  B:\n";
  if (pin) s << "    node: y\n";
  s << "    cards:\n"
    << "      - {id: after, after: [A.wait], run: echo after}\n";
  return s.str();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

nlohmann::json Status(const TestCluster& cluster, const std::string& job) {
  auto doc = nlohmann::json::parse(cluster.Cli({"status", job, "--json"}).out, nullptr, false);
  return doc.is_discarded() ? nlohmann::json() : doc;
}

// The job as a local run: the gate open, counts in a file of its own.
struct Prepared {
  std::string spec_path, local, count, gate;
};
Prepared Prepare(const TestCluster& cluster, const std::string& name, bool pin) {
  Prepared p;
  const std::string dir = cluster.SharedDir("marks");  // cards may run as nobody (root in CI)
  std::ofstream(dir + "/" + name + ".local-gate") << "open";
  std::string local_spec;
  p.local = LocalResults(
      dir, name + "-local",
      GatedSpec(name, dir + "/" + name + ".local-count", dir + "/" + name + ".local-gate", pin),
      &local_spec);
  p.count = dir + "/" + name + ".count";
  p.gate = dir + "/" + name + ".gate";
  p.spec_path = dir + "/" + name + ".yaml";
  std::ofstream(p.spec_path) << GatedSpec(name, p.count, p.gate, pin);
  return p;
}

void ExpectLikeLocalAndVerified(const TestCluster& cluster, const std::string& job,
                                const Prepared& p) {
  auto watched = cluster.Cli({"watch", job});
  EXPECT_EQ(watched.exit_code, 0) << watched.out << watched.err;
  auto status = cluster.Cli({"status", job, "--json"});
  for (const auto& problem : CompareResults(p.local, status.out)) ADD_FAILURE() << problem;
  for (const auto& problem : CheckTrace(cluster, job, p.spec_path)) ADD_FAILURE() << problem;
}

TEST(Reconcile, ARunningStackFinishesUnderItsOriginalAttemptAcrossACoordinatorKill) {
  TestCluster cluster({{"x", ""}, {"y", ""}});
  const Prepared p = Prepare(cluster, "long", /*pin=*/false);
  auto submitted = cluster.Cli({"submit", p.spec_path});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  ASSERT_EQ(cluster.Cli({"logs", "long", "A.one", "-f"}).exit_code, 0);  // A.wait is next

  cluster.RestartCoordinator(SIGKILL);
  ASSERT_TRUE(cluster.WaitForWorkers({"x", "y"}));
  ASSERT_TRUE(cluster.WaitForCoordinatorLog("keep running"));  // the claims were judged
  std::ofstream(p.gate) << "go";

  ExpectLikeLocalAndVerified(cluster, "long", p);
  const std::string job_name = "long";
  const auto doc = Status(cluster, job_name);
  for (const char* card : {"A.one", "A.wait", "A.three", "B.after"}) {
    EXPECT_EQ(doc["cards"][card]["attempts"], 1) << card << " ran once: " << doc.dump();
  }
  EXPECT_EQ(ReadFile(p.count), "one\nwait\nthree\n") << "no card of A ran twice";
  EXPECT_EQ(CountTraceEvents(cluster, job_name, "stack_lost"), 0) << "nothing re-placed";
}

TEST(Reconcile, ACardFinishedWhileTheCoordinatorWasDownIsRecordedAndReleasedOnce) {
  TestCluster cluster({{"x", ""}, {"y", ""}});
  const Prepared p = Prepare(cluster, "away", /*pin=*/true);
  auto submitted = cluster.Cli({"submit", p.spec_path});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  ASSERT_EQ(cluster.Cli({"logs", "away", "A.one", "-f"}).exit_code, 0);

  cluster.StopCoordinator(SIGKILL);
  ASSERT_TRUE(cluster.WaitForWorkerLog("x", "keeping 1 local stacks"));
  std::ofstream(p.gate) << "go";  // A.wait finishes now, with nobody to tell
  ASSERT_TRUE(cluster.WaitForWorkerLog("x", "buffered the finish of job away-1 card 0.1"));
  cluster.StartCoordinatorAgain();
  ASSERT_TRUE(cluster.WaitForWorkers({"x", "y"}));

  ExpectLikeLocalAndVerified(cluster, "away", p);
  const std::string job_name = "away";
  const auto doc = Status(cluster, job_name);
  EXPECT_EQ(doc["cards"]["A.wait"]["attempts"], 1) << doc.dump();
  EXPECT_EQ(doc["cards"]["A.wait"]["node"], "x");
  EXPECT_EQ(doc["cards"]["B.after"]["node"], "y");
  EXPECT_EQ(CountTraceEvents(cluster, job_name, "release"), 1) << "A.wait -> B.after, once";
  EXPECT_EQ(CountTraceEvents(cluster, job_name, "stack_lost"), 0);
  EXPECT_EQ(ReadFile(p.count), "one\nwait\nthree\n");
}

TEST(Reconcile, AWorkerBackAfterTheClaimWindowIsToldToDropTheReplacedStack) {
  TestCluster cluster({{"x", ""}});
  const Prepared p = Prepare(cluster, "late", /*pin=*/false);
  auto submitted = cluster.Cli({"submit", p.spec_path});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  ASSERT_EQ(cluster.Cli({"logs", "late", "A.one", "-f"}).exit_code, 0);  // A and B run on x
  cluster.StartWorker({"y", ""});
  ASSERT_TRUE(cluster.WaitForWorkers({"x", "y"}));

  cluster.SignalWorker("x", SIGSTOP);  // x sleeps through the restart and the claim window
  cluster.RestartCoordinator(SIGKILL);
  ASSERT_TRUE(cluster.WaitForWorkers({"y"}));
  std::ofstream(p.gate) << "go";
  ASSERT_TRUE(cluster.WaitForCoordinatorLog("were not claimed within"));
  cluster.SignalWorker("x", SIGCONT);
  ASSERT_TRUE(cluster.WaitForWorkerLog("x", "the coordinator rejected our claim of stack"));
  ASSERT_TRUE(cluster.WaitForWorkers({"x", "y"}));

  ExpectLikeLocalAndVerified(cluster, "late", p);
  const auto doc = Status(cluster, "late");
  EXPECT_EQ(doc["cards"]["A.three"]["node"], "y") << "A finished where it was re-placed";
  EXPECT_EQ(doc["cards"]["B.after"]["node"], "y");
}

}  // namespace
}  // namespace hollerith::testing
