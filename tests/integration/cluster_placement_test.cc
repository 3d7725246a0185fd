// Placement (`node:` and `labels:`), a stack waiting for a missing node, cross-node dependencies
// with artifacts, and a corrupted blob being detected on arrival.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.h"

namespace hollerith::testing {
namespace {

nlohmann::json Json(const CommandResult& r) { return nlohmann::json::parse(r.out, nullptr, false); }

TEST(Placement, NodeAndLabelsLandWhereAsked) {
  TestCluster cluster({{"w1", ""}, {"w2", "zone=eu"}, {"w3", "zone=us"}});
  auto spec = cluster.data_dir() + "/p.yaml";
  std::ofstream(spec) << R"(name: placed
stacks:
  A:
    node: w1
    cards:
      - {id: a, run: hostname}
  B:
    labels: {zone: eu}
    cards:
      - {id: b, run: "true"}
  C:
    labels: {zone: us}
    cards:
      - {id: c, run: "true"}
)";
  auto r = cluster.Cli({"submit", spec, "--wait", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = Json(r);
  EXPECT_EQ(doc["cards"]["A.a"]["node"], "w1");
  EXPECT_EQ(doc["cards"]["B.b"]["node"], "w2");
  EXPECT_EQ(doc["cards"]["C.c"]["node"], "w3");
}

TEST(Placement, StackForAMissingNodeWaitsIsReportedAndRunsWhenItArrives) {
  TestCluster cluster({{"w1", ""}});
  auto spec = cluster.data_dir() + "/m.yaml";
  std::ofstream(spec) << R"(name: waits
stacks:
  A:
    node: late
    cards:
      - {id: a, run: echo ran}
  B:
    cards:
      - {id: b, run: echo free}
)";
  auto submit = cluster.Cli({"submit", spec});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  auto status = cluster.Cli({"status", "waits"});
  EXPECT_NE(status.out.find("pinned to worker late, which is not connected"), std::string::npos)
      << status.out << status.err;
  cluster.StartWorker({"late", ""});
  auto watch = cluster.Cli({"watch", "waits"});
  EXPECT_EQ(watch.exit_code, 0) << watch.out << watch.err;
  auto final_status = cluster.Cli({"status", "waits", "--json"});
  auto doc = Json(final_status);
  EXPECT_EQ(doc["cards"]["A.a"]["node"], "late") << final_status.out;
  EXPECT_EQ(doc["cards"]["A.a"]["stdout"], "ran\n");
}

TEST(Artifacts, CrossNodeDependencyCarriesTheFile) {
  TestCluster cluster({{"x", ""}, {"y", ""}});
  auto spec = cluster.data_dir() + "/a.yaml";
  std::ofstream(spec) << R"(name: xfer
stacks:
  A:
    node: x
    cards:
      - id: make
        run: sh -c 'head -c 300000 /dev/urandom > blob.bin; sha256sum blob.bin | cut -c1-64'
        outputs: [blob.bin]
  B:
    node: y
    cards:
      - id: use
        inputs: [A.make:blob.bin]
        run: sh -c 'sha256sum blob.bin | cut -c1-64'
)";
  auto r = cluster.Cli({"submit", spec, "--wait", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = Json(r);
  EXPECT_EQ(doc["cards"]["A.make"]["node"], "x");
  EXPECT_EQ(doc["cards"]["B.use"]["node"], "y");
  EXPECT_EQ(doc["cards"]["A.make"]["stdout"], doc["cards"]["B.use"]["stdout"]);
  EXPECT_EQ(doc["cards"]["A.make"]["outputs"]["blob.bin"].get<std::string>() + "\n",
            doc["cards"]["B.use"]["stdout"].get<std::string>());
}

TEST(Artifacts, CorruptedBlobIsDetectedOnArrival) {
  TestCluster cluster({{"x", ""}, {"y", ""}});
  const std::string gate = cluster.data_dir() + "/gate";
  auto spec = cluster.data_dir() + "/c.yaml";
  std::ofstream(spec) << R"(name: corrupt
stacks:
  A:
    node: x
    cards:
      - id: make
        run: sh -c 'echo precious > data.txt'
        outputs: [data.txt]
      - id: gate
        run: sh -c 'while [ ! -f )"
                      << gate << R"( ]; do sleep 0.05; done'
        timeout: 60s
  B:
    node: y
    cards:
      - id: use
        after: [A.gate]
        inputs: [A.make:data.txt]
        run: cat data.txt
)";
  auto submit = cluster.Cli({"submit", spec});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  // Waits for A.make to finish: its output has been uploaded before the finish was reported.
  auto logs = cluster.Cli({"logs", "corrupt", "A.make", "-f"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  size_t corrupted = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(cluster.data_dir() +
                                                                     "/coordinator/artifacts")) {
    if (!e.is_regular_file()) continue;
    std::ofstream(e.path(), std::ios::trunc) << "tampered\n";
    ++corrupted;
  }
  ASSERT_EQ(corrupted, 1u);
  std::ofstream(gate) << "go";
  auto watch = cluster.Cli({"watch", "corrupt"});
  EXPECT_EQ(watch.exit_code, 1);
  auto doc = Json(cluster.Cli({"status", "corrupt", "--json"}));
  EXPECT_EQ(doc["cards"]["B.use"]["state"], "failed") << doc.dump();
  EXPECT_NE(doc["cards"]["B.use"].value("error", "").find("corrupt"), std::string::npos)
      << doc.dump();
}

}  // namespace
}  // namespace hollerith::testing
