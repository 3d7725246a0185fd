// `include:` as users meet it: the real CLI reads the included files (validate, run --local,
// verify, submit), a cluster runs the job `submit` sent as one document to the same results, and
// an error in an included file names that file, before anything is sent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

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

TEST(Include, TheClusterRunsWhatSubmitSentAsALocalRunDoes) {
  TempDir dir;
  const std::string spec = kExamples + "include/build.yaml";
  const std::string trace = dir.path() + "/trace.json";
  const CommandResult local = RunLocal(spec, {"--json", "--trace", trace});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const nlohmann::json here = Json(local);
  EXPECT_EQ(here["cards"]["test-unit.run"]["stdout"], "checking unit tests\n");
  EXPECT_EQ(here["cards"].size(), 4u);
  const CommandResult verified = RunCommand({kHollerith, "verify", trace, "--spec", spec});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  const CommandResult expanded = RunCommand({kHollerith, "validate", "--expand", spec});
  ASSERT_EQ(expanded.exit_code, 0) << expanded.err;
  EXPECT_EQ(expanded.out.find("include"), std::string::npos) << expanded.out;

  TestCluster cluster({{"x", ""}});
  const CommandResult submitted = cluster.Cli({"submit", spec, "--wait", "--json"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  const nlohmann::json there = Json(submitted);
  for (const auto& [name, card] : here["cards"].items()) {
    EXPECT_EQ(there["cards"][name]["stdout"], card["stdout"]) << name;
  }
}

TEST(Include, AnErrorInAnIncludedFileNamesThatFileAndNothingIsSent) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/lib");
  dir.Write("lib/steps.yaml", "stacks:\n  b: {cards: [{id: c, run: c, after: [nope.x]}]}\n");
  const std::string spec = dir.Write("job.yaml",
                                     "name: j\ninclude: [lib/steps.yaml]\nstacks:\n  a: {cards: "
                                     "[{id: c, run: c}]}\n");
  const std::string expected =
      dir.path() +
      "/lib/steps.yaml:2:39: after 'nope.x' of card 'b.c' refers to unknown "
      "stack 'nope'";
  for (const auto& argv : {std::vector<std::string>{kHollerith, "validate", spec},
                           std::vector<std::string>{kHollerith, "run", "--local", spec}}) {
    const CommandResult r = RunCommand(argv);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  }
  TestCluster cluster({});
  const CommandResult submitted = cluster.Cli({"submit", spec});
  EXPECT_EQ(submitted.exit_code, 2);
  EXPECT_NE(submitted.err.find(expected), std::string::npos) << submitted.err;
  EXPECT_EQ(cluster.Cli({"status", "j"}).exit_code, 2) << "no job was made";
}

}  // namespace
}  // namespace hollerith::testing
