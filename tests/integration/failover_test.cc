// Coordinators sharing one PostgreSQL database (a real server, started here): one leads, the
// other waits as a standby. Killed with SIGKILL, the leader is replaced within about its lease:
// the standby recovers every job from the database and accepts new ones (the time from the kill
// to the first job it accepts is printed). Paused with SIGSTOP past its lease, the leader is
// replaced too, and when it resumes it learns that another leads and stops: it never writes again.
// A database restarted under the leader: submissions are refused meanwhile, then it goes on.
// Clients and workers given a standby's address follow it to the leader.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "cli/client/client.h"
#include "hollerith.grpc.pb.h"
#include "proto/rpc_auth.h"
#include "proto/rpc_leader.h"
#include "tests/support/cluster.h"
#include "tests/support/paths.h"
#include "tests/support/postgres_server.h"

namespace hollerith::testing {
namespace {

std::vector<std::string> StoreFlags(const PostgresServer& pg, const std::string& passfile) {
  return {"--store",
          "postgres://hollerith@127.0.0.1:" + std::to_string(pg.port()) + "/hollerith",
          "--store-passfile",
          passfile,
          "--leader-lease-ms",
          "1000"};
}

// A second coordinator on the same database, with the cluster's token and a data dir of its own.
std::unique_ptr<Daemon> StartStandby(TestCluster& cluster, const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {HOLLERITH_COORDINATOR_PATH,
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--data-dir",
                                   cluster.data_dir() + "/standby",
                                   "--token-file",
                                   cluster.token_file(),
                                   "--http-listen",
                                   "127.0.0.1:0",
                                   "--heartbeat-ms",
                                   "200"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return std::make_unique<Daemon>(argv);
}

CommandResult CliAt(const std::string& address, const std::string& token_file,
                    const std::vector<std::string>& args) {
  std::vector<std::string> argv = {HOLLERITH_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, std::chrono::seconds(60),
                    {"HOLLERITH_COORDINATOR=" + address, "HOLLERITH_TOKEN_FILE=" + token_file});
}

TEST(Failover, AStandbyTakesOverFromAKilledLeaderWithEveryJob) {
  PostgresServer pg;
  const auto flags = StoreFlags(pg, pg.WritePassfile());
  TestCluster cluster({{"x", ""}}, flags);
  auto done = cluster.Cli({"submit", kExamples + "report.yaml", "--json", "--key", "k1"});
  ASSERT_EQ(done.exit_code, 0) << done.err;
  const auto before = nlohmann::json::parse(done.out);

  auto standby = StartStandby(cluster, flags);
  const std::string leader = standby->WaitForLine("standby: the leader is ");
  EXPECT_NE(leader.find(cluster.address()), std::string::npos) << leader;

  const auto killed = std::chrono::steady_clock::now();
  cluster.StopCoordinator(SIGKILL);
  const std::string address = standby->WaitForLine("listening on ", std::chrono::seconds(30));
  ASSERT_FALSE(address.empty()) << "the standby did not take over";
  auto accepted = CliAt(address, cluster.token_file(), {"submit", kExamples + "report.yaml"});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  const auto failover = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed);
  std::printf("failover: %lld ms from the leader's kill to the first job the new one accepted\n",
              static_cast<long long>(failover.count()));
  RecordProperty("failover_ms", static_cast<int>(failover.count()));

  // Everything the first leader acknowledged is there: the finished job with its results, and
  // its idempotency key.
  auto status = CliAt(address, cluster.token_file(),
                      {"status", before["job_id"].get<std::string>(), "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const auto after = nlohmann::json::parse(status.out);
  EXPECT_EQ(after["state"], "succeeded");
  EXPECT_EQ(after["cards"], before["cards"]);
  auto again =
      CliAt(address, cluster.token_file(), {"submit", kExamples + "report.yaml", "--key", "k1"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(before["job_id"].get<std::string>()), std::string::npos) << again.out;
}

TEST(Failover, ALeaderPausedPastItsLeaseIsReplacedAndStopsWhenItResumes) {
  PostgresServer pg;
  const auto flags = StoreFlags(pg, pg.WritePassfile());
  TestCluster cluster({{"x", ""}}, flags);
  auto standby = StartStandby(cluster, flags);
  ASSERT_FALSE(standby->WaitForLine("standby: the leader is ").empty());

  cluster.coordinator().Signal(SIGSTOP);
  const std::string address = standby->WaitForLine("listening on ", std::chrono::seconds(30));
  ASSERT_FALSE(address.empty()) << "the standby did not take over";
  auto accepted = CliAt(address, cluster.token_file(), {"submit", kExamples + "report.yaml"});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;

  cluster.coordinator().Signal(SIGCONT);
  EXPECT_EQ(cluster.coordinator().Wait(std::chrono::seconds(30)), 3);
  const std::string log = cluster.CoordinatorLog();
  EXPECT_NE(log.find("not the leader any more"), std::string::npos) << log;
  EXPECT_NE(log.find("epoch 2"), std::string::npos) << log;  // who leads now
  // The new leader is undisturbed: it still answers, with the job it accepted.
  auto listed = CliAt(address, cluster.token_file(), {"status"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("report"), std::string::npos) << listed.out;
}

TEST(Failover, ADatabaseRestartedUnderTheLeaderRefusesSubmissionsMeanwhileThenGoesOn) {
  PostgresServer pg;
  TestCluster cluster({{"x", ""}}, StoreFlags(pg, pg.WritePassfile()));
  auto first = cluster.Cli({"submit", kExamples + "report.yaml", "--wait"});
  ASSERT_EQ(first.exit_code, 0) << first.err;

  pg.Stop();
  auto refused = cluster.Cli({"submit", kExamples + "report.yaml"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("job store"), std::string::npos) << refused.err;

  pg.Start();
  // The store reconnects at its next write: this submission's.
  auto after = cluster.Cli({"submit", kExamples + "report.yaml", "--wait"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  auto listed = cluster.Cli({"status"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(cluster.WaitForCoordinatorLog("connected again"));
  EXPECT_EQ(::kill(cluster.coordinator_pid(), 0), 0) << "the leader stepped down";
}

// A standby listens and answers every authenticated call with "not the leader; the leader is
// ADDR"; the CLI and workers given only the standby's address follow it to the leader, and after
// the leader's kill -9, a worker that followed it finds the new one.
TEST(Failover, AStandbyNamesTheLeaderAndClientsAndWorkersFollowIt) {
  PostgresServer pg;
  TestCluster cluster({}, StoreFlags(pg, pg.WritePassfile()));
  cluster.AddStandby();
  const std::string leader = cluster.address();
  const std::string standby = cluster.Addresses().substr(leader.size() + 1);

  auto stub =
      v1::Coordinator::NewStub(grpc::CreateChannel(standby, grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext ctx;
    rpc::AttachBearer(ctx, cluster.Token());
    v1::ListJobsRequest req;
    v1::ListJobsResponse resp;
    grpc::Status s = stub->ListJobs(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(s.error_message(), "not the leader; the leader is " + leader);
    EXPECT_EQ(rpc::StandbyAnswer(ctx.GetServerTrailingMetadata()), leader);
  }
  {
    grpc::ClientContext ctx;
    rpc::AttachBearer(ctx, "not-the-token");
    v1::ListJobsRequest req;
    v1::ListJobsResponse resp;
    grpc::Status s = stub->ListJobs(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
    EXPECT_EQ(rpc::StandbyAnswer(ctx.GetServerTrailingMetadata()), std::nullopt);
  }

  // The CLI and a worker that know only the standby.
  auto submitted = CliAt(standby, cluster.token_file(), {"submit", kExamples + "report.yaml"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  Daemon worker({HOLLERITH_WORKER_PATH, "--coordinator", standby, "--name", "x", "--work-dir",
                 cluster.data_dir() + "/x", "--token-file", cluster.token_file(),
                 "--outage-grace-ms", "10000"});
  ASSERT_TRUE(cluster.WaitForWorkers({"x"}))
      << "the worker did not follow the standby to the leader";
  auto watched = CliAt(standby, cluster.token_file(), {"watch", "report"});
  EXPECT_EQ(watched.exit_code, 0) << watched.err;
  EXPECT_TRUE(worker.WaitForLogLine([&](const std::string& line) {
    return line.find("coordinator " + standby + " is a standby; trying coordinator " + leader) !=
           std::string::npos;
  }));
  // The client library's one-call submission, without an idempotency key, asked of the standby:
  // it accepted nothing, so the client submits at the leader it names and watches there.
  {
    Client client(standby, cluster.Token());
    std::string last;
    auto job = client.SubmitAndWatch(
        "name: one\nstacks:\n  A:\n    cards:\n      - {id: a, run: echo one}\n", "one.yaml", "",
        "", {}, [&](const v1::JobEvent& ev) { last = ev.kind() + " " + ev.job_state(); });
    ASSERT_TRUE(job.ok()) << job.message();
    EXPECT_EQ(last, "job_finished succeeded");
  }

  // The leader dies: the standby leads, and the worker, which followed the old leader, goes back
  // to the address it was given.
  const auto took = cluster.FailOver(SIGKILL);
  std::printf("failover with a worker and clients that dialled the standby: %lld ms\n",
              static_cast<long long>(took.count()));
  ASSERT_EQ(cluster.address(), standby);
  EXPECT_TRUE(cluster.WaitForWorkers({"x"})) << "the worker did not find the new leader";
  // The old leader is back as a standby: a CLI that knows only it is sent to the new leader.
  auto status = CliAt(leader, cluster.token_file(), {"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("report"), std::string::npos) << status.out;
  auto again = CliAt(leader, cluster.token_file(), {"submit", kExamples + "report.yaml", "--wait"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

}  // namespace
}  // namespace hollerith::testing
