// `hollerith explore` and `hollerith replay` as users call them: the real binary, real processes.
// explore finds a dependency a job hides (a shared path outside the workspaces) and agrees on
// every example; replay re-runs a recorded order (local and cluster traces) and names the cards
// whose results differ from the record.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace hollerith::testing {
namespace {

constexpr auto kExploreTimeout = std::chrono::seconds(120);

// Stack A writes a file in a directory outside the workspaces; stack B reads it without saying
// `after: [A.write]`. Whether B sees it depends on which ran first.
std::string HiddenDependencySpec(const TempDir& dir) {
  const std::string shared = dir.SharedDir("shared");
  return dir.Write("hidden.yaml",
                   "name: hidden\n"
                   "stacks:\n"
                   "  A:\n"
                   "    cards:\n"
                   "      - id: write\n"
                   "        run: sh -c 'echo from-A > " +
                       shared +
                       "/note'\n"
                       "  B:\n"
                       "    cards:\n"
                       "      - id: read\n"
                       "        run: sh -c 'cat " +
                       shared + "/note 2>/dev/null || echo missing; rm -f " + shared + "/note'\n");
}

TEST(Explore, FindsAnUndeclaredDependencyAndNamesTheCardAndTwoOrders) {
  TempDir dir;
  const std::string spec = HiddenDependencySpec(dir);
  auto r =
      RunCommand({kHollerith, "explore", spec, "--workdir", dir.path() + "/work"}, kExploreTimeout);
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("card B.read: its result changed with the order"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("card A.write"), std::string::npos) << "A.write never changes\n" << r.out;
  // Serial runs A first (B reads the note), stacks reversed runs B first (it is missing).
  EXPECT_NE(r.out.find(") disagree"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from-A"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("missing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 of 2 cards changed"), std::string::npos) << r.out;
  // One progress line per order on stderr.
  for (int i = 1; i <= 8; ++i) {
    EXPECT_NE(r.err.find("order " + std::to_string(i) + "/8 ("), std::string::npos) << r.err;
  }
  EXPECT_NE(r.err.find("order 2/8 (serial): 2 cards"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("order 3/8 (stacks reversed): 2 cards"), std::string::npos) << r.err;
}

TEST(Explore, EveryExampleAgreesInEveryOrder) {
  // Examples that `run --local` cannot run, with the reason; none today.
  const std::map<std::string, std::string> cannot_run_locally = {};
  std::vector<std::string> specs;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    if (entry.path().extension() == ".yaml") specs.push_back(entry.path().string());
  }
  specs.push_back(kExamples + "include/build.yaml");  // the example of `include:`
  std::sort(specs.begin(), specs.end());
  ASSERT_GE(specs.size(), 8u);
  for (const std::string& spec : specs) {
    if (cannot_run_locally.contains(std::filesystem::path(spec).filename())) continue;
    TempDir dir;
    auto r = RunCommand({kHollerith, "explore", spec, "--orders", "6", "--workdir", dir.path()},
                        kExploreTimeout);
    EXPECT_EQ(r.exit_code, 0) << spec << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("explore: 6 orders, "), std::string::npos) << spec << "\n" << r.out;
    EXPECT_NE(r.out.find("all agreed"), std::string::npos) << spec << "\n" << r.out;
  }
}

TEST(Explore, ABadSpecExitsTwoNamingThePlace) {
  TempDir dir;
  const std::string spec = dir.Write("bad.yaml",
                                     "name: bad\n"
                                     "stacks:\n"
                                     "  A:\n"
                                     "    cards:\n"
                                     "      - id: a\n"
                                     "        runn: echo\n");
  auto r = RunCommand({kHollerith, "explore", spec});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:6:9"), std::string::npos) << r.err;
  EXPECT_EQ(RunCommand({kHollerith, "explore", spec, "--orders", "1"}).exit_code, 2);
}

// Writes `trace` again with the recorded exit code of `card`'s finish replaced.
void TamperExitCode(const std::string& trace, const std::string& card, int exit_code) {
  std::ifstream in(trace);
  auto doc = nlohmann::json::parse(in);
  bool changed = false;
  for (auto& e : doc["traceEvents"]) {
    if (e.contains("args") && e["args"].value("kind", "") == "card_finished" &&
        e["args"].value("card", "") == card) {
      e["args"]["exit_code"] = exit_code;
      changed = true;
    }
  }
  ASSERT_TRUE(changed) << "no card_finished event of " << card;
  std::ofstream(trace, std::ios::trunc) << doc.dump();
}

TEST(Replay, ALocalTraceReplaysAsRecorded) {
  // report: two stacks and combine; discover: stacks a run-time matrix makes from a list.
  for (const auto& [spec, cards] : {std::pair{"report.yaml", 5}, std::pair{"discover.yaml", 8}}) {
    TempDir dir;
    const std::string trace = dir.path() + "/trace.json";
    auto run = RunLocal(kExamples + spec, {"--trace", trace});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto r = RunCommand({kHollerith, "replay", trace, "--spec", kExamples + spec});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string n = std::to_string(cards);
    EXPECT_NE(r.out.find("replay: " + n + " cards in the recorded order; all " + n +
                         " recorded results matched"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.err.find("note:"), std::string::npos) << "the order was followed\n" << r.err;
  }
}

TEST(Replay, ATamperedExitCodeIsADivergenceNamingTheCard) {
  TempDir dir;
  const std::string trace = dir.path() + "/trace.json";
  ASSERT_EQ(RunLocal(kExamples + "report.yaml", {"--trace", trace}).exit_code, 0);
  TamperExitCode(trace, "B.double", 7);
  auto r = RunCommand({kHollerith, "replay", trace, "--spec", kExamples + "report.yaml"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("card B.double: recorded succeeded (exit 7), replay succeeded (exit 0)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 of 5 recorded results diverged"), std::string::npos) << r.out;
}

TEST(Replay, ACardWhoseWorldChangedDivergesAndShowsItsError) {
  TempDir dir;
  const std::string shared = dir.SharedDir("world");
  std::ofstream(shared + "/flag") << "on\n";
  std::filesystem::permissions(shared + "/flag", std::filesystem::perms::all);
  const std::string spec = dir.Write("world.yaml",
                                     "name: world\n"
                                     "stacks:\n"
                                     "  A:\n"
                                     "    cards:\n"
                                     "      - id: setup\n"
                                     "        run: echo setting up\n"
                                     "      - id: check\n"
                                     "        run: cat " +
                                         shared +
                                         "/flag\n"
                                         "  B:\n"
                                         "    cards:\n"
                                         "      - id: other\n"
                                         "        run: echo unaffected\n");
  const std::string trace = dir.path() + "/trace.json";
  auto run = RunLocal(spec, {"--trace", trace});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::filesystem::remove(shared + "/flag");
  auto r = RunCommand({kHollerith, "replay", trace, "--spec", spec});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("card A.check: recorded succeeded (exit 0), replay failed (exit 1)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("No such file"), std::string::npos) << "the replay's stderr\n" << r.out;
  EXPECT_EQ(r.out.find("card A.setup"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("card B.other"), std::string::npos) << r.out;
}

TEST(Replay, BadInputExitsTwo) {
  TempDir dir;
  const std::string trace = dir.path() + "/trace.json";
  ASSERT_EQ(RunLocal(kExamples + "report.yaml", {"--trace", trace}).exit_code, 0);
  // The same job with B.double renamed: the trace names a card the spec does not have.
  std::ifstream in(kExamples + "report.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find("id: double");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 10, "id: triple");
  text.replace(text.find("B.double.stdout"), 15, "B.triple.stdout");
  const std::string renamed = dir.Write("report.yaml", text);
  auto r = RunCommand({kHollerith, "replay", trace, "--spec", renamed});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("the trace names card B.double, which " + renamed + " does not have"),
            std::string::npos)
      << r.err;
  // Another job's spec, an unreadable trace.
  r = RunCommand({kHollerith, "replay", trace, "--spec", kExamples + "files.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("a trace of job 'report', not of 'files'"), std::string::npos) << r.err;
  const std::string garbage = dir.Write("garbage.json", "not json");
  r = RunCommand({kHollerith, "replay", garbage, "--spec", kExamples + "report.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a Hollerith trace"), std::string::npos) << r.err;
}

TEST(Replay, AClusterTraceReplaysOnOneMachine) {
  TempDir dir;
  const std::string trace = dir.path() + "/trace.json";
  // A failing job: the retried card and the skipped ones replay as the cluster recorded them.
  auto run = RunCommand({kHollerith, "run", kExamples + "failing.yaml", "--workers", "2",
                         "--workdir", dir.path() + "/cluster", "--trace", trace},
                        std::chrono::seconds(120));
  ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
  ASSERT_TRUE(std::filesystem::exists(trace)) << run.err;
  auto r = RunCommand({kHollerith, "replay", trace, "--spec", kExamples + "failing.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("all 7 recorded results matched"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hollerith::testing
