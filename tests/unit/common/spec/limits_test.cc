// Card limits in specs (`limits:`), the quantities they are written in, and the workspace paths
// a spec may name: what is accepted, and the file:line:col error for what is not.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "common/spec/limits.h"
#include "common/spec/parser.h"
#include "common/spec/quantities.h"
#include "common/spec/workspace_path.h"

namespace hollerith {
namespace {

// The spec "limits.yaml" with one card of stack A whose extra lines are `card_lines`.
Result<JobSpec> ParseCard(std::string_view card_lines) {
  const std::string text = "name: j\nstacks:\n  A:\n    cards:\n      - id: a\n        run: x\n" +
                           std::string(card_lines);
  return ParseJobSpec(text, "limits.yaml");
}

std::string Problem(std::string_view card_lines) {
  Result<JobSpec> r = ParseCard(card_lines);
  return r.ok() ? "OK" : r.message();
}

TEST(SpecLimitsTest, ReadsEveryLimitFromYamlAndJson) {
  Result<JobSpec> yaml =
      ParseCard("        limits: {memory: 2GiB, cpu: 60s, files: 1024, processes: 256}\n");
  ASSERT_TRUE(yaml.ok()) << yaml.message();
  const CardLimits& l = yaml->stacks[0].cards[0].limits();
  EXPECT_EQ(l.memory_bytes, uint64_t{2} << 30);
  EXPECT_EQ(l.cpu, Duration(60'000));
  EXPECT_EQ(l.files, 1024u);
  EXPECT_EQ(l.processes, 256u);

  Result<JobSpec> json = ParseJobSpec(
      R"({"name": "j", "stacks": {"A": {"cards": [{"id": "a", "run": "x",
          "limits": {"memory": "512MiB", "processes": "20"}}]}}})",
      "limits.json");
  ASSERT_TRUE(json.ok()) << json.message();
  const CardLimits& j = json->stacks[0].cards[0].limits();
  EXPECT_EQ(j.memory_bytes, uint64_t{512} << 20);
  EXPECT_EQ(j.processes, 20u);
  EXPECT_EQ(j.cpu.count(), 0) << "unset limits stay unset (the worker's default applies)";
  EXPECT_EQ(j.files, 0u);
}

TEST(SpecLimitsTest, CombineTakesLimitsToo) {
  Result<JobSpec> r = ParseJobSpec(
      "name: j\nstacks: {A: {cards: [{id: a, builtin: noop}]}}\ncombine:\n  run: x\n"
      "  limits: {cpu: 5s}\n",
      "limits.yaml");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->stacks.back().cards[0].limits().cpu, Duration(5000));
}

TEST(SpecLimitsTest, BadLimitsNameTheirPlace) {
  EXPECT_EQ(Problem("        limits: {memory: 2 GB}\n"),
            "limits.yaml:7:26: 'limits' of card 'A.a': memory: bad size '2 GB': unknown unit "
            "' GB' (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)");
  EXPECT_EQ(Problem("        limits: {memory: 2048}\n"),
            "limits.yaml:7:26: 'limits' of card 'A.a': memory: bad size '2048': a unit is "
            "required (B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)");
  EXPECT_EQ(Problem("        limits: {cpu: 0s}\n"),
            "limits.yaml:7:23: 'limits' of card 'A.a': cpu: must be more than zero");
  EXPECT_EQ(Problem("        limits: {files: -1}\n"),
            "limits.yaml:7:25: 'limits' of card 'A.a': files: bad count '-1': expected a whole "
            "number from 1 to 1048576");
  EXPECT_EQ(Problem("        limits: {threads: 4}\n"),
            "limits.yaml:7:18: unknown key 'threads' in 'limits' of card 'A.a' (expected memory, "
            "cpu, files or processes)");
  EXPECT_EQ(Problem("        limits: {cpu: 1s, cpu: 2s}\n"),
            "limits.yaml:7:27: duplicate key 'cpu' in 'limits' of card 'A.a'");
  EXPECT_EQ(Problem("        limits: [cpu]\n"),
            "limits.yaml:7:17: 'limits' of card 'A.a' must be a map, not a list");
}

TEST(SpecPathsTest, InputsAndOutputsCannotLeaveTheWorkspace) {
  const std::string producer =
      "        outputs: [data.txt]\n  B:\n    cards:\n      - id: b\n"
      "        run: x\n";
  EXPECT_EQ(Problem(producer + "        inputs: ['A.a:../data.txt']\n"),
            "limits.yaml:12:18: bad input 'A.a:../data.txt' in 'inputs' of card 'B.b': the path "
            "must not contain '..'");
  EXPECT_EQ(Problem(producer + "        inputs: ['A.a:/etc/shadow']\n"),
            "limits.yaml:12:18: bad input 'A.a:/etc/shadow' in 'inputs' of card 'B.b': the path "
            "must be relative to the workspace");
  EXPECT_EQ(Problem("        outputs: [\"a\\tb\"]\n"),
            "limits.yaml:7:19: bad output 'a\\x09b' in 'outputs' of card 'A.a': the path has a "
            "control character");
  EXPECT_EQ(Problem("        outputs: [" + std::string(256, 'x') + "]\n"),
            "limits.yaml:7:19: bad output '" + std::string(80, 'x') +
                "...' in 'outputs' of card 'A.a': the path has a component longer than 255 bytes");
}

TEST(WorkspacePathTest, OnlyCleanRelativePathsPass) {
  EXPECT_EQ(WorkspacePathProblem("a/b/c.txt"), nullptr);
  EXPECT_EQ(WorkspacePathProblem("..hidden"), nullptr) << "a name starting with dots is a name";
  for (std::string_view bad : {"", "/abs", "..", "a/..", "../a", "a//b", "a/", "./a", "a/./b"}) {
    EXPECT_NE(WorkspacePathProblem(bad), nullptr) << bad;
  }
  EXPECT_NE(WorkspacePathProblem(std::string_view("a\0b", 3)), nullptr) << "NUL";
  EXPECT_NE(WorkspacePathProblem(std::string(4097, 'a')), nullptr);
}

TEST(QuantitiesTest, SizesParseAndPrintBack) {
  EXPECT_EQ(*ParseSize("100B"), 100u);
  EXPECT_EQ(*ParseSize("4KiB"), 4096u);
  EXPECT_EQ(*ParseSize("2GiB"), uint64_t{2} << 30);
  EXPECT_EQ(*ParseSize("1GB"), 1000'000'000u);
  EXPECT_FALSE(ParseSize("0MiB").ok());
  EXPECT_FALSE(ParseSize("1.5GiB").ok());
  EXPECT_FALSE(ParseSize("99999999999999TiB").ok());
  EXPECT_EQ(FormatSize(uint64_t{2} << 30), "2GiB");
  EXPECT_EQ(FormatSize(1536 * 1024), "1536KiB");
  EXPECT_EQ(FormatSize(100), "100B");
  EXPECT_EQ(FormatDuration(Duration(60'000)), "1m");
  EXPECT_EQ(FormatDuration(Duration(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(Duration(7'200'000)), "2h");
}

TEST(QuantitiesTest, LimitListsForWorkerFlags) {
  Result<CardLimits> l = ParseLimitList("memory=4GiB,cpu=1h,files=4096,processes=1024");
  ASSERT_TRUE(l.ok()) << l.message();
  EXPECT_EQ(l->memory_bytes, uint64_t{4} << 30);
  EXPECT_EQ(l->cpu, Duration(3'600'000));
  EXPECT_EQ(FormatLimitList(*l), "memory=4GiB,cpu=1h,files=4096,processes=1024");
  EXPECT_TRUE(ParseLimitList("")->empty());
  EXPECT_EQ(ParseLimitList("memory").message(),
            "bad limit 'memory' (expected memory=SIZE, cpu=DURATION, files=N or processes=N)");
  EXPECT_EQ(ParseLimitList("cpu=forever").message(),
            "cpu: bad duration 'forever': expected a number and a unit, e.g. 500ms, 30s, 1.5m, 2h");
  const CardLimits merged = WithDefaults(CardLimits{.cpu = Duration(1000)}, *l);
  EXPECT_EQ(merged.cpu, Duration(1000)) << "the card's own limit wins";
  EXPECT_EQ(merged.memory_bytes, uint64_t{4} << 30) << "an unset one takes the default";
}

}  // namespace
}  // namespace hollerith
