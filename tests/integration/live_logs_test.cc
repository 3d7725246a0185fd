// `hollerith logs`: a card's output streamed live from the worker running it (`-f`, ending with
// the card's exit code), every card of a job with STACK.CARD prefixes, and a card's full output
// (beyond the 64 KiB of the result document) readable once it ended.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/support/cluster.h"

namespace hollerith::testing {
namespace {

// A.talk prints a line, waits until the test opens the gate, prints more and exits 3; B.say
// writes to stdout and stderr at once.
std::string GatedSpec(const std::string& gate) {
  return "name: talks\nstacks:\n  A:\n    node: x\n    cards:\n      - id: talk\n"
         "        run: sh -c 'echo first; echo oops >&2; while [ ! -e " +
         gate +
         " ]; do sleep 0.05; done; echo second; exit 3'\n"
         "  B:\n    node: y\n    cards:\n"
         "      - id: say\n        run: sh -c 'echo hello from B; echo warned >&2'\n";
}

std::string CardState(TestCluster& cluster, const std::string& job, const std::string& card) {
  auto doc = nlohmann::json::parse(cluster.Cli({"status", job, "--json"}).out, nullptr, false);
  if (doc.is_discarded() || !doc["cards"].contains(card)) return "";
  return doc["cards"][card]["state"];
}

TEST(LiveLogs, FollowStreamsARemoteCardBeforeItEndsAndExitsWithItsCode) {
  TestCluster cluster({{"x", ""}, {"y", ""}});
  const std::string gate = cluster.data_dir() + "/gate";
  const std::string spec = cluster.data_dir() + "/talk.yaml";
  std::ofstream(spec) << GatedSpec(gate);
  auto submit = cluster.Cli({"submit", spec});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;

  Daemon follow({HOLLERITH_CLI_PATH, "logs", "talks", "A.talk", "-f"}, cluster.CliEnv());
  Daemon everything({HOLLERITH_CLI_PATH, "logs", "talks"}, cluster.CliEnv());
  // The first line arrives while the card still runs (it waits for the gate we have not opened).
  ASSERT_EQ(follow.WaitForLine("fir"), "st");
  ASSERT_EQ(everything.WaitForLine("A.talk | fir"), "st");
  EXPECT_EQ(CardState(cluster, "talks", "A.talk"), "running");

  std::ofstream(gate) << "go";
  EXPECT_EQ(follow.WaitForLine("sec"), "ond");
  EXPECT_EQ(follow.Wait(), 3);  // the card's exit code
  EXPECT_EQ(ReadAll(follow.stderr_path()), "oops\n");

  EXPECT_EQ(everything.WaitForLine("A.talk | sec"), "ond");
  EXPECT_EQ(everything.Wait(), 1);  // the job failed (A.talk exited 3)
  EXPECT_NE(ReadAll(everything.stderr_path()).find("A.talk | oops\n"), std::string::npos);
  EXPECT_NE(ReadAll(everything.stderr_path()).find("B.say | warned\n"), std::string::npos);

  // Once the job ended, `logs JOB` prints every card's output, prefixed, and ends.
  auto after = cluster.Cli({"logs", "talks"});
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_EQ(after.out, "A.talk | first\nA.talk | second\nB.say | hello from B\n");
  EXPECT_EQ(after.err, "A.talk | oops\nB.say | warned\n");
  auto one = cluster.Cli({"logs", "talks", "A.talk", "-f"});  // a finished card: at once
  EXPECT_EQ(one.out, "first\nsecond\n");
  EXPECT_EQ(one.exit_code, 3);
}

TEST(LiveLogs, OutputBeyondTheResultBoundIsReadableInFullAfterTheCardEnds) {
  TestCluster cluster({{"x", ""}});
  const std::string spec = cluster.data_dir() + "/big.yaml";
  // ~590 KB of stdout (the result document keeps 64 KiB) and ~100 KB of stderr.
  std::ofstream(spec) << "name: big\nstacks:\n  A:\n    cards:\n"
                         "      - id: loud\n        run: sh -c 'seq 1 100000; seq 1 20000 >&2'\n"
                         "      - {id: next, run: echo next}\n";
  auto run = cluster.Cli({"submit", spec, "--wait"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string expected_out, expected_err;
  for (int i = 1; i <= 100000; ++i) expected_out += std::to_string(i) + "\n";
  for (int i = 1; i <= 20000; ++i) expected_err += std::to_string(i) + "\n";

  auto doc = nlohmann::json::parse(cluster.Cli({"status", "big", "--json"}).out);
  EXPECT_TRUE(doc["cards"]["A.loud"]["stdout_truncated"].get<bool>()) << doc.dump().substr(0, 300);

  auto logs = cluster.Cli({"logs", "big", "A.loud"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out.size(), expected_out.size());
  EXPECT_TRUE(logs.out == expected_out);
  EXPECT_EQ(logs.err.size(), expected_err.size());
  EXPECT_TRUE(logs.err == expected_err);
  // Kept with the job: `delete` removes it.
  ASSERT_EQ(cluster.Cli({"delete", "big"}).exit_code, 0);
  EXPECT_TRUE(std::filesystem::is_empty(cluster.data_dir() + "/coordinator/logs"));
}

}  // namespace
}  // namespace hollerith::testing
