// Workers that go away: between jobs (reconnect, nothing breaks), and in the middle of a stack
// (the stack is re-placed on another worker from its first card with attempt+1; the job succeeds
// and its trace still verifies).
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.h"
#include "tests/support/paths.h"

namespace hollerith::testing {
namespace {

TEST(Faults, WorkerThatReconnectsBetweenStacksDoesNotBreakJobs) {
  TestCluster cluster({{"w1", ""}});
  auto first = cluster.Cli({"submit", kExamples + "report.yaml", "--wait"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  cluster.KillWorker("w1", SIGKILL);
  ASSERT_TRUE(cluster.WaitForWorkers({}));
  cluster.StartWorker({"w1", ""});
  ASSERT_TRUE(cluster.WaitForWorkers({"w1"}));
  auto second = cluster.Cli({"submit", kExamples + "files.yaml", "--wait", "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto doc = nlohmann::json::parse(second.out);
  EXPECT_EQ(doc["cards"]["C.report"]["stdout"], "3 words; first is alpha\n");
}

TEST(Faults, LostWorkerStackIsReplacedAndTheTraceStillVerifies) {
  TestCluster cluster({{"x", ""}, {"y", ""}});
  const std::string gate = cluster.data_dir() + "/gate";
  const std::string spec = cluster.data_dir() + "/lost.yaml";
  std::ofstream(spec) << R"(name: lost
stacks:
  A:
    node: x
    cards:
      - {id: first, run: echo one}
  B:
    cards:
      - {id: start, run: echo begin}
      - id: hold
        run: sh -c 'while [ ! -f )"
                      << gate << R"( ]; do sleep 0.05; done; echo held'
        timeout: 60s
      - id: after
        after: [A.first]
        run: echo done
)";
  auto submit = cluster.Cli({"submit", spec});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  // B.start has finished on some worker; find which, then kill that worker mid-stack.
  auto logs = cluster.Cli({"logs", "lost", "B.start", "-f"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  auto status = nlohmann::json::parse(cluster.Cli({"status", "lost", "--json"}).out);
  const std::string holder = status["cards"]["B.start"]["node"];
  cluster.KillWorker(holder, SIGKILL);
  // x comes back as a new epoch (A is pinned to it); B is re-placed wherever there is room.
  if (holder == "x") cluster.StartWorker({"x", ""});
  std::ofstream(gate) << "go";
  auto watch = cluster.Cli({"watch", "lost"});
  EXPECT_EQ(watch.exit_code, 0) << watch.out << watch.err;
  auto doc = nlohmann::json::parse(cluster.Cli({"status", "lost", "--json"}).out);
  EXPECT_EQ(doc["state"], "succeeded") << doc.dump();
  EXPECT_EQ(doc["cards"]["B.hold"]["stdout"], "held\n");
  EXPECT_GE(doc["cards"]["B.start"]["attempts"].get<int>(), 2) << "B re-ran from its first card";
  const std::string trace = cluster.data_dir() + "/trace.json";
  ASSERT_EQ(cluster.Cli({"trace", "lost", "-o", trace}).exit_code, 0);
  auto v = RunCommand({HOLLERITH_CLI_PATH, "verify", trace, "--spec", spec});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  std::ifstream in(trace);
  auto events = nlohmann::json::parse(in)["traceEvents"];
  bool lost = false;
  for (const auto& e : events) lost |= e["args"].value("kind", "") == "stack_lost";
  EXPECT_TRUE(lost) << "the trace records the lost stack";
}

TEST(Faults, ACardThatKillsItsWorkerIsQuarantinedAfterThreeWorkers) {
  // The card must be able to kill its worker: cards run as the worker's own user here (as on a
  // worker that is not root). A root worker's cards run as another user and cannot (see
  // confinement_test.cc).
  const std::vector<std::string> same_user = {"--run-as", ::getpwuid(::geteuid())->pw_name};
  TestCluster cluster({{"w1", "", {}, same_user},
                       {"w2", "", {}, same_user},
                       {"w3", "", {}, same_user},
                       {"w4", "", {}, same_user}});
  const std::string spec = cluster.data_dir() + "/poison.yaml";
  std::ofstream(spec) << R"(name: poison
stacks:
  P:
    cards:
      - id: boom
        run: [sh, -c, 'kill -9 $PPID; sleep 5']
  Q:
    cards:
      - {id: fine, run: echo fine}
)";
  auto submitted = cluster.Cli({"submit", spec, "--wait"}, std::chrono::seconds(60));
  EXPECT_EQ(submitted.exit_code, 1) << submitted.out << submitted.err;
  auto doc = nlohmann::json::parse(cluster.Cli({"status", "poison", "--json"}).out);
  EXPECT_EQ(doc["state"], "failed");
  EXPECT_NE(doc["reason"].get<std::string>().find("card P.boom quarantined"), std::string::npos)
      << doc.dump();
  EXPECT_EQ(doc["cards"]["P.boom"]["state"], "failed");
  EXPECT_EQ(doc["cards"]["Q.fine"]["stdout"], "fine\n") << "independent stacks still run";
  auto workers = cluster.Cli({"workers"});
  EXPECT_EQ(std::count(workers.out.begin(), workers.out.end(), '\n'), 2)
      << "one worker is left: " << workers.out;
}

TEST(Faults, CancelStopsRunningCardsAndTheirChildrenOnEveryNode) {
  TestCluster cluster({{"x", ""}, {"y", ""}});
  // Cards may run as another user than the test (root in CI): they write to a directory of
  // their own that anyone may write.
  const std::string marks = cluster.SharedDir("marks");
  const std::string spec = cluster.data_dir() + "/cancel.yaml";
  // Each long card starts a child in the background too (the whole process group must go) and
  // writes both pids, so that the test waits on those processes, not on time.
  auto card = [&](const std::string& stack) {
    return "sh -c 'sleep 60 & echo $! > " + marks + "/" + stack + ".child; echo $$ > " + marks +
           "/" + stack + ".card; wait'";
  };
  std::ofstream(spec) << "name: cancelme\nstacks:\n  A:\n    node: x\n    cards:\n"
                      << "      - {id: long, run: \"" << card("A") << "\"}\n"
                      << "      - {id: never, run: echo never}\n"
                      << "  B:\n    node: y\n    cards:\n"
                      << "      - {id: long, run: \"" << card("B") << "\"}\n";
  ASSERT_EQ(cluster.Cli({"submit", spec}).exit_code, 0);
  std::vector<pid_t> pids;
  for (const char* file : {"A.child", "A.card", "B.child", "B.card"}) {
    const std::string pid = WaitForFileLine(marks + "/" + file);
    ASSERT_FALSE(pid.empty()) << file << ": the card did not start";
    pids.push_back(static_cast<pid_t>(std::stol(pid)));
  }
  auto cancelled = cluster.Cli({"cancel", "cancelme"});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.err;
  EXPECT_NE(cancelled.out.find("cancelled"), std::string::npos) << cancelled.out;
  for (pid_t pid : pids) {
    EXPECT_TRUE(WaitForProcessExit(pid, std::chrono::seconds(10)))
        << "process " << pid << " of a cancelled card still runs";
  }
  auto doc = nlohmann::json::parse(cluster.Cli({"status", "cancelme", "--json"}).out);
  EXPECT_EQ(doc["state"], "cancelled");
  EXPECT_EQ(doc["cards"]["A.never"]["state"], "skipped");
  EXPECT_NE(doc["cards"]["A.long"]["state"], "succeeded");
  EXPECT_NE(doc["cards"]["B.long"]["state"], "succeeded");
}

}  // namespace
}  // namespace hollerith::testing
