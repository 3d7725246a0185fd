// Authentication over every RPC: without a token and with a wrong one, each call gets
// UNAUTHENTICATED and nothing else happens. Also bad input over the wire gets a clear error.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>

#include "hollerith.grpc.pb.h"
#include "proto/rpc_auth.h"
#include "tests/support/cluster.h"
#include "tests/support/every_rpc.h"

namespace hollerith::testing {
namespace {

using v1::Coordinator;

TEST(Auth, EveryRpcRejectsMissingAndWrongTokens) {
  TestCluster cluster({});
  auto stub = Coordinator::NewStub(rpc::MakeChannel(cluster.address()));
  const auto calls = EveryRpc("/tmp/pwned");
  EXPECT_EQ(calls.size(), CoordinatorMethodCount()) << "every RPC of the service is in the table";
  for (const auto& call : calls) {
    for (const char* token : {"", "wrong-token"}) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      if (*token) rpc::AttachBearer(ctx, token);
      grpc::Status s = call.invoke(*stub, ctx);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << call.name << " with token '" << token << "': " << s.error_message();
    }
  }
  // Nothing else happened: no job was accepted, no worker joined.
  auto jobs = cluster.Cli({"status"});
  EXPECT_EQ(jobs.exit_code, 0) << jobs.err;
  EXPECT_EQ(jobs.out.find("sneaky"), std::string::npos) << jobs.out;
  auto workers = cluster.Cli({"workers"});
  EXPECT_EQ(workers.out.find("intruder"), std::string::npos) << workers.out;
}

TEST(BadInput, MalformedSpecUnknownJobAndOversizedSpecGetClearErrors) {
  TestCluster cluster({}, {"--max-spec-bytes", "100000"});
  auto bad = cluster.data_dir() + "/bad.yaml";
  std::ofstream(bad) << "name: x\nstacks:\n  A:\n    cards:\n      - id: a\n        after: [Z.q]\n "
                        "       run: 'true'\n";
  auto r = cluster.Cli({"submit", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Z.q"), std::string::npos) << r.err;

  auto unknown = cluster.Cli({"status", "no-such-job"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("no-such-job"), std::string::npos) << unknown.err;

  auto big = cluster.data_dir() + "/big.yaml";
  {
    std::ofstream out(big);
    out << "name: big\nstacks:\n  A:\n    cards:\n";
    for (int i = 0; i < 5000; ++i) out << "      - {id: c" << i << ", builtin: noop}\n";
  }
  auto huge = cluster.Cli({"submit", big});
  EXPECT_EQ(huge.exit_code, 2);
  EXPECT_NE(huge.err.find("limit"), std::string::npos) << huge.err;

  // A worker hello with an invalid name is refused with INVALID_ARGUMENT, and the daemon lives on.
  auto stub = Coordinator::NewStub(rpc::MakeChannel(cluster.address()));
  std::ifstream tf(cluster.token_file());
  std::string token;
  tf >> token;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  rpc::AttachBearer(ctx, token);
  auto stream = stub->Session(&ctx);
  v1::WorkerMessage hello;
  hello.mutable_hello()->set_name("../../etc");
  hello.mutable_hello()->set_slots(1);
  stream->Write(hello);
  v1::CoordinatorMessage msg;
  EXPECT_FALSE(stream->Read(&msg));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(cluster.Cli({"status"}).exit_code, 0) << "the coordinator is still serving";
}

TEST(Idempotency, SameKeyTwiceReturnsTheSameJob) {
  TestCluster cluster({{"w1", ""}});
  const std::string spec = std::string(HOLLERITH_SOURCE_DIR) + "/examples/report.yaml";
  auto a = cluster.Cli({"submit", spec, "--key", "k-123"});
  auto b = cluster.Cli({"submit", spec, "--key", "k-123"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  auto list = cluster.Cli({"status"});
  EXPECT_EQ(list.out.find("report-2"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace hollerith::testing
