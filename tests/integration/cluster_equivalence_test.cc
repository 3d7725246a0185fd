// Contract 4: the same job, `run --local` vs a cluster of 3 workers, gives the same card results
// (states, exit codes, stdout, output digests), and the cluster's trace verifies.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.h"
#include "tests/support/paths.h"

namespace hollerith::testing {
namespace {

class Equivalence : public ::testing::TestWithParam<std::string> {};

nlohmann::json Comparable(const nlohmann::json& doc) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, card] : doc["cards"].items()) {
    out[name] = {{"state", card["state"]},
                 {"exit_code", card["exit_code"]},
                 {"stdout", card["stdout"]},
                 {"outputs", card["outputs"]}};
  }
  return out;
}

TEST_P(Equivalence, LocalAndThreeWorkerClusterAgree) {
  const std::string spec = kExamples + GetParam();
  auto local = RunLocal(spec, {"--json"});
  auto local_doc = nlohmann::json::parse(local.out, nullptr, false);
  ASSERT_FALSE(local_doc.is_discarded()) << local.err;

  TestCluster cluster({{"w1", ""}, {"w2", ""}, {"w3", ""}});
  auto remote = cluster.Cli({"submit", spec, "--wait", "--json"});
  EXPECT_EQ(remote.exit_code, local.exit_code) << remote.err;
  auto remote_doc = nlohmann::json::parse(remote.out, nullptr, false);
  ASSERT_FALSE(remote_doc.is_discarded()) << remote.out << remote.err;
  EXPECT_EQ(remote_doc["state"], local_doc["state"]);
  EXPECT_EQ(Comparable(remote_doc), Comparable(local_doc));
  EXPECT_FALSE(remote_doc.value("job_id", "").empty());

  const std::string trace = cluster.data_dir() + "/trace.json";
  auto t = cluster.Cli({"trace", remote_doc["job_id"], "-o", trace});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  auto v = RunCommand({HOLLERITH_CLI_PATH, "verify", trace, "--spec", spec});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

INSTANTIATE_TEST_SUITE_P(Examples, Equivalence,
                         ::testing::Values("report.yaml", "fanout.yaml", "failing.yaml",
                                           "files.yaml"),
                         [](const auto& info) {
                           return info.param.substr(0, info.param.find('.'));
                         });

TEST(ClusterRun, ReadmeDemoRunsOnAThrowawayLocalCluster) {
  auto r =
      RunCommand({HOLLERITH_CLI_PATH, "run", kExamples + "report.yaml", "--workers", "3", "--json"},
                 std::chrono::seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(doc["cards"]["combine"]["stdout"], "500500 1001000\n");
}

}  // namespace
}  // namespace hollerith::testing
