// `hollerith validate / run --local / verify` as users call them: the real binary, real processes.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace hollerith::testing {
namespace {

nlohmann::json RunLocalJson(const std::string& spec, CommandResult* raw,
                            const std::string& trace = "") {
  std::vector<std::string> args = {"--json"};
  if (!trace.empty()) {
    args.push_back("--trace");
    args.push_back(trace);
  }
  *raw = RunLocal(spec, args);
  return nlohmann::json::parse(raw->out, nullptr, false);
}

TEST(CliLocal, ReportExampleGivesTheSumsAndAVerifiableTrace) {
  TempDir dir;
  CommandResult r;
  auto doc = RunLocalJson(kExamples + "report.yaml", &r, dir.path() + "/trace.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(doc["state"], "succeeded");
  EXPECT_EQ(doc["cards"]["A.sum"]["stdout"], "500500\n");
  EXPECT_EQ(doc["cards"]["B.double"]["stdout"], "1001000\n");
  EXPECT_EQ(doc["cards"]["combine"]["stdout"], "500500 1001000\n");
  EXPECT_EQ(doc["cards"]["A.fetch"]["outputs"]["numbers.txt"].get<std::string>().size(), 64u);
  auto v = RunCommand(
      {kHollerith, "verify", dir.path() + "/trace.json", "--spec", kExamples + "report.yaml"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("verified"), std::string::npos);
  // The trace is Chrome Trace Event JSON with clocks in the args.
  std::ifstream in(dir.path() + "/trace.json");
  auto trace = nlohmann::json::parse(in);
  bool saw_clock = false;
  for (const auto& e : trace["traceEvents"]) {
    if (e.value("ph", "") == "B")
      saw_clock |= e["args"].contains("lamport") && e["args"].contains("vc");
  }
  EXPECT_TRUE(saw_clock);
}

TEST(CliLocal, FailingExampleSkipsDependentsAndExitsOne) {
  CommandResult r;
  auto doc = RunLocalJson(kExamples + "failing.yaml", &r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(doc["state"], "failed");
  EXPECT_NE(doc["reason"].get<std::string>().find("A.check"), std::string::npos);
  EXPECT_EQ(doc["cards"]["A.check"]["state"], "failed");
  EXPECT_EQ(doc["cards"]["A.check"]["attempts"], 2) << "retries: 1 means two tries";
  EXPECT_EQ(doc["cards"]["B.publish"]["state"], "skipped");
  EXPECT_EQ(doc["cards"]["B.publish"]["attempts"], 0) << "a skipped card never runs";
  EXPECT_EQ(doc["cards"]["B.archive"]["state"], "skipped");
  EXPECT_EQ(doc["cards"]["B.prepare"]["state"], "succeeded");
  EXPECT_EQ(doc["cards"]["C.independent"]["state"], "succeeded");
  EXPECT_EQ(doc["cards"]["combine"]["state"], "skipped");
}

TEST(CliLocal, FanoutCombinesEightStacks) {
  CommandResult r;
  auto doc = RunLocalJson(kExamples + "fanout.yaml", &r);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(doc["cards"]["combine"]["stdout"], "204\n");
  EXPECT_EQ(doc["cards"].size(), 17u);
}

TEST(CliLocal, FilesTravelBetweenStacks) {
  CommandResult r;
  auto doc = RunLocalJson(kExamples + "files.yaml", &r);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(doc["cards"]["C.report"]["stdout"], "3 words; first is alpha\n");
  EXPECT_EQ(doc["cards"]["A.write"]["outputs"]["words.txt"],
            "4fdbc441ea7b546100e086ac1e4fc5ae6749b7314311c99db05be450eca12996");
}

TEST(CliLocal, TimeoutKillsTheCardAndFailsTheJob) {
  TempDir dir;
  auto spec = dir.Write("t.yaml", R"(name: slow
stacks:
  A:
    cards:
      - id: nap
        run: sleep 30
        timeout: 300ms
)");
  CommandResult r;
  auto doc = RunLocalJson(spec, &r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(doc["cards"]["A.nap"]["state"], "failed");
  EXPECT_NE(doc["cards"]["A.nap"].value("error", "").find("timed out"), std::string::npos)
      << doc.dump();
}

TEST(CliLocal, MissingBinaryIsAFailedCardWithTheReason) {
  TempDir dir;
  auto spec = dir.Write("m.yaml", R"(name: missing
stacks:
  A:
    cards:
      - id: ghost
        run: [definitely-not-a-binary-xyz, --flag]
)");
  CommandResult r;
  auto doc = RunLocalJson(spec, &r);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(doc["cards"]["A.ghost"].value("error", "").find("definitely-not-a-binary-xyz"),
            std::string::npos)
      << doc.dump();
}

TEST(CliLocal, BadSpecExitsTwoWithFileLineColumn) {
  TempDir dir;
  auto spec = dir.Write("bad.yaml",
                        "name: x\nstacks:\n  A:\n    cards:\n      - id: a\n        rnu: true\n");
  auto r = RunLocal(spec);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:6:"), std::string::npos) << r.err;
  auto v = RunCommand({kHollerith, "validate", spec});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.err.find("bad.yaml:6:"), std::string::npos) << v.err;
  auto ok = RunCommand({kHollerith, "validate", kExamples + "report.yaml"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(CliLocal, CycleIsReportedAsItsPath) {
  TempDir dir;
  auto spec = dir.Write("cycle.yaml", R"(name: cyc
stacks:
  A:
    cards:
      - id: fetch
        after: [B.double]
        run: "true"
      - id: sum
        run: "true"
  B:
    cards:
      - id: double
        after: [A.sum]
        run: "true"
)");
  auto v = RunCommand({kHollerith, "validate", spec});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.err.find("A.sum -> B.double -> A.fetch -> A.sum"), std::string::npos) << v.err;
}

// The card table (stdout without --json) lists cards in the spec's order, not by name.
void ExpectCardTableInSpecOrder(const std::string& table) {
  std::vector<size_t> at;
  for (const char* card : {"\nA.fetch ", "\nA.sum ", "\nB.prepare ", "\nB.double ", "\ncombine "}) {
    at.push_back(table.find(card));
    EXPECT_NE(at.back(), std::string::npos) << card << " missing from\n" << table;
  }
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end())) << table;
}

TEST(CliLocal, CardTableFollowsTheSpecOrder) {
  auto r = RunLocal(kExamples + "report.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("CARD ")) << r.out;
  ExpectCardTableInSpecOrder(r.out);
}

TEST(CliLocal, CombineProgressReadsNaturally) {
  auto r = RunLocal(kExamples + "report.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("@combine"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("0/0"), std::string::npos) << r.err;
  const size_t waiting = r.err.find("] combine waiting for 2 stacks\n");
  const size_t running = r.err.find("] combine running on local\n");
  const size_t done = r.err.find("] combine done\n");
  EXPECT_NE(waiting, std::string::npos) << r.err;
  EXPECT_NE(running, std::string::npos) << r.err;
  EXPECT_NE(done, std::string::npos) << r.err;
  EXPECT_LT(waiting, running) << r.err;
  EXPECT_LT(running, done) << r.err;
}

TEST(CliLocal, ThrowawayClusterShowsTheCombineAndTheSpecOrderToo) {
  // Remote progress (events name the combine stack "@combine") and the coordinator's card order.
  auto r = RunCommand({kHollerith, "run", kExamples + "report.yaml", "--workers", "2"},
                      std::chrono::seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("@combine"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("0/0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("] combine running on w"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("] combine done\n"), std::string::npos) << r.err;
  ExpectCardTableInSpecOrder(r.out);
}

TEST(CliLocal, ValidateListsEveryErrorOnItsOwnLine) {
  TempDir dir;
  auto spec = dir.Write("errors.yaml", R"(name: j
stacks:
  A:
    colour: red
    cards:
      - id: a
        run: x
      - id: a
        run: y
      - id: b
        after: [Z.b]
        run: z
)");
  auto v = RunCommand({kHollerith, "validate", spec});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_EQ(v.err, spec +
                       ":4:5: unknown key 'colour' in stack 'A' (expected one of: node, "
                       "labels, cards, matrix, resources, cache, cache_version)\n" +
                       spec + ":8:13: duplicate card id 'a' in stack 'A' (first at 6:9)\n" + spec +
                       ":11:17: after 'Z.b' of card 'A.b' refers to unknown stack 'Z'\n");
}

TEST(CliLocal, VerifyRejectsATamperedTrace) {
  TempDir dir;
  CommandResult r;
  RunLocalJson(kExamples + "report.yaml", &r, dir.path() + "/trace.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(dir.path() + "/trace.json");
  auto trace = nlohmann::json::parse(in);
  // Drop the release of A.sum to B.double, as if the dependency had never been released.
  auto& events = trace["traceEvents"];
  for (auto it = events.begin(); it != events.end(); ++it) {
    const auto& args = (*it)["args"];
    if (args.value("kind", "") == "release" && args.value("card", "") == "A.sum" &&
        args.value("target", "") == "B.double") {
      events.erase(it);
      break;
    }
  }
  std::ofstream(dir.path() + "/tampered.json") << trace.dump();
  auto v = RunCommand(
      {kHollerith, "verify", dir.path() + "/tampered.json", "--spec", kExamples + "report.yaml"});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.err.find("A.sum -> B.double"), std::string::npos) << v.err;
}

}  // namespace
}  // namespace hollerith::testing
