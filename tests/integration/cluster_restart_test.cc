// The coordinator killed with SIGKILL and started again on the same data dir: every acknowledged
// job is there, finished jobs keep their results, logs and traces (which still verify), the same
// idempotency key returns the same job, and a job that was running goes on to the same results;
// on the SQLite store of the data dir and on a PostgreSQL server.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.h"
#include "tests/support/paths.h"
#include "tests/support/postgres_server.h"

namespace hollerith::testing {
namespace {

nlohmann::json Results(const CommandResult& r) {
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  return doc.is_discarded() ? nlohmann::json() : doc;
}

// The whole story on a coordinator started with `store_flags`.
void KillNineLosesNoAcknowledgedJob(const std::vector<std::string>& store_flags) {
  TestCluster cluster({{"x", ""}, {"y", ""}}, store_flags);
  auto done = cluster.Cli({"submit", kExamples + "report.yaml", "--json", "--key", "report-key"});
  ASSERT_EQ(done.exit_code, 0) << done.err;
  const auto before = Results(done);
  const std::string gate = cluster.data_dir() + "/gate";
  const std::string spec = cluster.data_dir() + "/slow.yaml";
  std::ofstream(spec) << R"(name: slow
stacks:
  A:
    cards:
      - {id: one, run: echo one}
      - id: wait
        run: sh -c 'while [ ! -f )"
                      << gate << R"( ]; do sleep 0.05; done; echo waited'
        timeout: 60s
  B:
    cards:
      - {id: after, after: [A.wait], run: echo after}
)";
  auto submitted = cluster.Cli({"submit", spec});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  ASSERT_EQ(cluster.Cli({"logs", "slow", "A.one", "-f"}).exit_code, 0);  // A.one has finished

  cluster.RestartCoordinator(SIGKILL);
  ASSERT_TRUE(cluster.WaitForWorkers({"x", "y"}));

  // The finished job: listed, same results, logs, a trace that verifies, the key finds it.
  auto listed = cluster.Cli({"status"});
  EXPECT_NE(listed.out.find("report"), std::string::npos) << listed.out;
  auto after = Results(cluster.Cli({"status", before["job_id"], "--json"}));
  EXPECT_EQ(after["state"], "succeeded");
  EXPECT_EQ(after["cards"], before["cards"]);
  auto log = cluster.Cli({"logs", before["job_id"], "combine"});
  EXPECT_EQ(log.out, "500500 1001000\n") << log.err;
  const std::string trace = cluster.data_dir() + "/report-trace.json";
  ASSERT_EQ(cluster.Cli({"trace", before["job_id"], "-o", trace}).exit_code, 0);
  auto verified =
      RunCommand({HOLLERITH_CLI_PATH, "verify", trace, "--spec", kExamples + "report.yaml"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  auto again = cluster.Cli({"submit", kExamples + "report.yaml", "--key", "report-key"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(before["job_id"].get<std::string>()), std::string::npos) << again.out;

  // The running job goes on (A's worker claims it: cluster_reconcile_test checks how) and ends
  // as a local run would.
  std::ofstream(gate) << "go";
  auto watched = cluster.Cli({"watch", "slow"});
  EXPECT_EQ(watched.exit_code, 0) << watched.out << watched.err;
  auto slow = Results(cluster.Cli({"status", "slow", "--json"}));
  EXPECT_EQ(slow["state"], "succeeded") << slow.dump();
  EXPECT_EQ(slow["cards"]["A.wait"]["stdout"], "waited\n");
  EXPECT_EQ(slow["cards"]["B.after"]["stdout"], "after\n");
  const std::string slow_trace = cluster.data_dir() + "/slow-trace.json";
  ASSERT_EQ(cluster.Cli({"trace", "slow", "-o", slow_trace}).exit_code, 0);
  auto slow_verified = RunCommand({HOLLERITH_CLI_PATH, "verify", slow_trace, "--spec", spec});
  EXPECT_EQ(slow_verified.exit_code, 0) << slow_verified.out << slow_verified.err;

  // `hollerith delete` removes a finished job for good: gone now and after the next restart.
  auto deleted = cluster.Cli({"delete", before["job_id"]});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(cluster.Cli({"status", before["job_id"]}).exit_code, 2);
  cluster.RestartCoordinator(SIGTERM);
  EXPECT_EQ(cluster.Cli({"status", before["job_id"]}).exit_code, 2);
  EXPECT_EQ(cluster.Cli({"status", "slow"}).exit_code, 0) << "the other job stays";
}

TEST(Restart, KillNineLosesNoAcknowledgedJobAndRunningJobsGoOn) {
  KillNineLosesNoAcknowledgedJob({});
}

// The same on a PostgreSQL server (a real one, started here): only the store differs.
TEST(Restart, KillNineLosesNoAcknowledgedJobOnPostgresql) {
  PostgresServer server;
  KillNineLosesNoAcknowledgedJob(
      {"--store", "postgres://hollerith@127.0.0.1:" + std::to_string(server.port()) + "/hollerith",
       "--store-passfile", server.WritePassfile()});
}

TEST(Restart, ASecondCoordinatorOnTheSameDataDirIsRefusedWithAClearMessage) {
  TestCluster cluster({});
  auto second = RunCommand({HOLLERITH_COORDINATOR_PATH, "--listen", "127.0.0.1:0", "--data-dir",
                            cluster.data_dir() + "/coordinator"},
                           std::chrono::seconds(20));
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find("another coordinator"), std::string::npos) << second.err;
}

}  // namespace
}  // namespace hollerith::testing
