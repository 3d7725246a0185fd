// Run-time fan-out as users meet it: `run --local` and a cluster make the same stacks from the
// same list, with results equal and traces that verify; a bad list fails the job with its reason
// and the coordinator goes on; a coordinator killed with SIGKILL while the instances run comes
// back with the same instances, which finish the job.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/cluster.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace hollerith::testing {
namespace {

nlohmann::json Json(const CommandResult& r) {
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  return doc.is_discarded() ? nlohmann::json() : doc;
}

std::set<std::string> CardNames(const nlohmann::json& doc) {
  std::set<std::string> names;
  for (const auto& [name, card] : doc["cards"].items()) names.insert(name);
  return names;
}

TEST(FanOut, LocalAndClusterMakeTheSameStacksWithTheSameResultsAndTracesVerify) {
  TempDir dir;
  const std::string spec = kExamples + "discover.yaml";
  const std::string local_trace = dir.path() + "/local.json";
  const CommandResult local = RunLocal(spec, {"--json", "--trace", local_trace});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const nlohmann::json here = Json(local);
  EXPECT_EQ(here["cards"]["report.table"]["stdout"], "s1 10 55\ns2 20 210\ns3 30 465\n");
  EXPECT_EQ(CardNames(here), (std::set<std::string>{"discover.list", "measure-s1-10.generate",
                                                    "measure-s1-10.stats", "measure-s2-20.generate",
                                                    "measure-s2-20.stats", "measure-s3-30.generate",
                                                    "measure-s3-30.stats", "report.table"}));

  TestCluster cluster({{"x", ""}, {"y", ""}});
  const CommandResult submitted = cluster.Cli({"submit", spec, "--wait", "--json"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const nlohmann::json there = Json(submitted);
  EXPECT_EQ(there["state"], "succeeded");
  ASSERT_EQ(CardNames(there), CardNames(here));
  for (const auto& [name, card] : here["cards"].items()) {
    EXPECT_EQ(there["cards"][name]["stdout"], card["stdout"]) << name;
    EXPECT_EQ(there["cards"][name]["outputs"], card["outputs"]) << name;
  }
  const std::string cluster_trace = dir.path() + "/cluster.json";
  ASSERT_EQ(cluster.Cli({"trace", "discover", "-o", cluster_trace}).exit_code, 0);
  for (const std::string& trace : {local_trace, cluster_trace}) {
    const CommandResult v = RunCommand({kHollerith, "verify", trace, "--spec", spec});
    EXPECT_EQ(v.exit_code, 0) << trace << ": " << v.out << v.err;
  }
  // The instances are stacks like any other: their logs and their lines in `status`.
  EXPECT_EQ(cluster.Cli({"logs", "discover", "measure-s2-20.stats"}).exit_code, 0);
  const CommandResult status = cluster.Cli({"status", "discover"});
  EXPECT_NE(status.out.find("measure-s3-30"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("measure "), std::string::npos) << "no line for the template";

  // A list that is no list fails what waits for it, with the reason; the coordinator goes on.
  const std::string bad = dir.Write("bad.yaml", R"(name: bad
stacks:
  discover:
    cards: [{id: list, run: "echo '[1, [2]]' > l.json", outputs: [l.json]}]
  each:
    matrix: {from: discover.list:l.json}
    cards: [{id: run, run: "echo ${{ matrix.item }}"}]
  report:
    cards: [{id: all, run: "echo all", after: [each.run]}]
)");
  const CommandResult failed = cluster.Cli({"submit", bad, "--wait", "--json"});
  EXPECT_NE(failed.exit_code, 0);
  const nlohmann::json why = Json(failed);
  EXPECT_EQ(why["state"], "failed");
  EXPECT_NE(why["reason"].get<std::string>().find("item 2 of the list is a list"),
            std::string::npos)
      << why.dump();
  EXPECT_EQ(why["cards"]["report.all"]["state"], "skipped");
  EXPECT_EQ(cluster.Cli({"submit", spec, "--wait"}).exit_code, 0) << "the coordinator goes on";
}

TEST(FanOut, KillNineWhileTheInstancesRunKeepsTheSameInstances) {
  TestCluster cluster({{"x", ""}, {"y", ""}});
  const std::string shared = cluster.SharedDir("marks");
  const std::string gate = shared + "/gate";
  const std::string spec = cluster.data_dir() + "/slow.yaml";
  // Each instance says it started, then waits for the gate before it publishes done.txt.
  std::ofstream(spec) << R"(name: slow
stacks:
  discover:
    cards:
      - id: list
        run: echo '["a", "b", "c"]' > l.json
        outputs: [l.json]
  each:
    matrix: {from: discover.list:l.json}
    cards:
      - id: run
        run: echo started > )"
                      << shared << R"(/started-${{ matrix.item }}; while [ ! -f )" << gate
                      << R"( ]; do sleep 0.05; done; echo ${{ matrix.item }} > done.txt
        outputs: [done.txt]
        timeout: 60s
  report:
    cards: [{id: all, run: "cat */done.txt", inputs: [each.run:done.txt]}]
)";
  ASSERT_EQ(cluster.Cli({"submit", spec}).exit_code, 0);
  for (const char* item : {"a", "b", "c"}) {
    ASSERT_EQ(WaitForFileLine(shared + "/started-" + item, std::chrono::seconds(30)), "started");
  }
  const nlohmann::json before = Json(cluster.Cli({"status", "slow", "--json"}));

  cluster.RestartCoordinator(SIGKILL);
  ASSERT_TRUE(cluster.WaitForWorkers({"x", "y"}));
  const nlohmann::json recovered = Json(cluster.Cli({"status", "slow", "--json"}));
  EXPECT_EQ(CardNames(recovered), CardNames(before)) << recovered.dump();
  std::ofstream(gate) << "go";
  const CommandResult watched = cluster.Cli({"watch", "slow"});
  EXPECT_EQ(watched.exit_code, 0) << watched.out << watched.err;
  const nlohmann::json after = Json(cluster.Cli({"status", "slow", "--json"}));
  EXPECT_EQ(after["state"], "succeeded") << after.dump();
  EXPECT_EQ(CardNames(after), (std::set<std::string>{"discover.list", "each-a.run", "each-b.run",
                                                     "each-c.run", "report.all"}));
  EXPECT_EQ(after["cards"]["report.all"]["stdout"], "a\nb\nc\n");
  const std::string trace = cluster.data_dir() + "/slow-trace.json";
  ASSERT_EQ(cluster.Cli({"trace", "slow", "-o", trace}).exit_code, 0);
  const CommandResult v = RunCommand({kHollerith, "verify", trace, "--spec", spec});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace hollerith::testing
