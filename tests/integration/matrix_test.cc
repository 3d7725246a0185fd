// Matrix stacks and templates as users meet them: the real `hollerith validate --expand` and
// `hollerith run --local` on the examples; the expanded spec runs to the same results.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace hollerith::testing {
namespace {

nlohmann::json RunLocalJson(const std::string& spec, const std::string& trace = "") {
  std::vector<std::string> args = {"--json"};
  if (!trace.empty()) args.insert(args.end(), {"--trace", trace});
  const CommandResult r = RunLocal(spec, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

TEST(Matrix, PipelineFansInEverySampleAndItsTraceVerifies) {
  TempDir dir;
  const std::string spec = kExamples + "pipeline.yaml";
  const nlohmann::json doc = RunLocalJson(spec, dir.path() + "/trace.json");
  EXPECT_EQ(doc["state"], "succeeded");
  EXPECT_EQ(doc["cards"]["report.table"]["stdout"],
            "sample readings mean max\ns1 18 37.5 84\ns2 18 46.0 84\ns3 44 44.6 88\n"
            "s4 18 46.5 89\n");
  EXPECT_EQ(doc["cards"]["process-s3.clean"]["stdout"], "44\n") << "include gave s3 50 readings";
  const CommandResult v =
      RunCommand({kHollerith, "verify", dir.path() + "/trace.json", "--spec", spec});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("verified"), std::string::npos) << v.out;
}

TEST(Matrix, ExpandedSpecsRunToTheSameResults) {
  TempDir dir;
  for (const char* example : {"pipeline.yaml", "matrix.yaml", "templates.yaml"}) {
    const std::string spec = kExamples + example;
    const nlohmann::json original = RunLocalJson(spec);
    for (const bool json : {false, true}) {
      std::vector<std::string> argv = {kHollerith, "validate", "--expand", spec};
      if (json) argv.push_back("--json");
      const CommandResult expand = RunCommand(argv);
      ASSERT_EQ(expand.exit_code, 0) << expand.err;
      EXPECT_EQ(expand.out.find("matrix:"), std::string::npos) << expand.out;
      EXPECT_EQ(expand.out.find("uses:"), std::string::npos) << expand.out;
      const std::string written = dir.Write(json ? "x.json" : "x.yaml", expand.out);
      const nlohmann::json again = RunLocalJson(written);
      ASSERT_EQ(again["cards"].size(), original["cards"].size()) << example;
      for (const auto& [card, result] : original["cards"].items()) {
        EXPECT_EQ(again["cards"][card]["stdout"], result["stdout"]) << example << " " << card;
        EXPECT_EQ(again["cards"][card]["state"], "succeeded") << example << " " << card;
      }
    }
  }
}

TEST(Matrix, ErrorsNameTheLineAndNothingRuns) {
  TempDir dir;
  const std::string spec = dir.Write("bad.yaml", R"(name: bad
stacks:
  s:
    matrix: {os: [a, b]}
    cards:
      - id: c
        run: echo ${{ matrix.oss }}
)");
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{kHollerith, "validate", spec},
        std::vector<std::string>{kHollerith, "validate", "--expand", spec},
        std::vector<std::string>{kHollerith, "run", "--local", spec}}) {
    const CommandResult r = RunCommand(argv);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(spec + ":7:14: '${{ matrix.oss }}': unknown matrix key 'oss' (keys: os)"),
              std::string::npos)
        << r.err;
  }
}

}  // namespace
}  // namespace hollerith::testing
