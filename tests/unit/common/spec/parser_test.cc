#include "common/spec/parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "same_job.h"

namespace hollerith {
namespace {

constexpr std::string_view kDesignExample = R"(name: report
stacks:
  A:
    node: x
    labels: {zone: eu}
    cards:
      - id: fetch
        run: sh -c 'seq 1 1000 > numbers.txt'
        outputs: [numbers.txt]
      - id: sum
        run: awk '{s+=$1} END {print s}' numbers.txt
  B:
    cards:
      - id: prepare
        run: [echo, preparing]
      - id: double
        after: [A.sum]
        inputs: [A.fetch:numbers.txt]
        run: awk '{s+=2*$1} END {print s}' numbers.txt
        timeout: 30s
        retries: 2
        env: {K: V, LANG: C}
      - id: nap
        builtin: {sleep: 200ms}
combine:
  run: sh -c 'echo $(cat results/A.sum.stdout) $(cat results/B.double.stdout)'
)";

// The same job as kDesignExample, in JSON.
constexpr std::string_view kDesignExampleJson = R"({
  "name": "report",
  "stacks": {
    "A": {
      "node": "x",
      "labels": {"zone": "eu"},
      "cards": [
        {"id": "fetch", "run": "sh -c 'seq 1 1000 > numbers.txt'", "outputs": ["numbers.txt"]},
        {"id": "sum", "run": "awk '{s+=$1} END {print s}' numbers.txt"}
      ]
    },
    "B": {
      "cards": [
        {"id": "prepare", "run": ["echo", "preparing"]},
        {"id": "double", "after": ["A.sum"], "inputs": ["A.fetch:numbers.txt"],
         "run": "awk '{s+=2*$1} END {print s}' numbers.txt",
         "timeout": "30s", "retries": 2, "env": {"K": "V", "LANG": "C"}},
        {"id": "nap", "builtin": {"sleep": "200ms"}}
      ]
    }
  },
  "combine": {"run": "sh -c 'echo $(cat results/A.sum.stdout) $(cat results/B.double.stdout)'"}
}
)";

// A.fetch waits on B.double, which waits on A.sum, which follows A.fetch in stack A.
constexpr std::string_view kCycle = R"(name: loop
stacks:
  A:
    cards:
      - id: fetch
        after: [B.double]
        run: echo fetch
      - id: sum
        run: echo sum
  B:
    cards:
      - id: prepare
        run: echo prepare
      - id: double
        after: [A.sum]
        run: echo double
)";

// The error message of parsing `text` as "spec.yaml", or "OK" if it parses.
std::string ErrorOf(std::string_view text, const SpecLimits& limits = {}) {
  auto r = ParseJobSpec(text, "spec.yaml", limits);
  return r.ok() ? "OK" : r.message();
}

// A minimal valid job around one card's YAML (indented as a list item of stack A).
std::string OneCard(std::string_view card) {
  return "name: j\nstacks:\n  A:\n    cards:\n" + std::string(card);
}

// A JSON job of `stacks` x `cards` noop cards; card 500 of each stack after card 500 of the
// previous stack.
std::string BigJsonJob(int stacks, int cards) {
  std::string out = R"({"name":"big","stacks":{)";
  for (int s = 0; s < stacks; ++s) {
    out += (s ? ",\"s" : "\"s") + std::to_string(s) + R"(":{"cards":[)";
    for (int c = 0; c < cards; ++c) {
      out += (c ? ",{\"id\":\"c" : "{\"id\":\"c") + std::to_string(c) + R"(","builtin":"noop")";
      if (c == 500 && s > 0) out += R"(,"after":["s)" + std::to_string(s - 1) + ".c500\"]";
      out += "}";
    }
    out += "]}";
  }
  return out + "}}";
}

TEST(SpecParserTest, DesignExampleParsesToTheModel) {
  const JobSpec job = MustParse(kDesignExample, "report.yaml");
  EXPECT_EQ(job.name, "report");
  EXPECT_EQ(job.source, "report.yaml");
  ASSERT_EQ(job.stacks.size(), 3u);
  ASSERT_TRUE(job.has_combine());
  EXPECT_EQ(job.card_count(), 6u);

  const StackSpec& a = job.stacks[0];
  EXPECT_EQ(a.id, "A");
  EXPECT_EQ(a.node, "x");
  EXPECT_EQ(a.labels, (std::vector<std::pair<std::string, std::string>>{{"zone", "eu"}}));
  EXPECT_FALSE(a.is_combine);
  EXPECT_EQ(a.mark.line, 3);
  EXPECT_EQ(a.mark.column, 3);
  ASSERT_EQ(a.cards.size(), 2u);
  EXPECT_EQ(a.cards[0].id, "fetch");
  EXPECT_EQ(a.cards[0].shell, "sh -c 'seq 1 1000 > numbers.txt'");
  EXPECT_TRUE(a.cards[0].argv().empty());
  EXPECT_EQ(a.cards[0].builtin, BuiltinKind::kNone);
  EXPECT_EQ(a.cards[0].outputs, std::vector<std::string>{"numbers.txt"});
  EXPECT_EQ(a.cards[0].mark.line, 7);
  EXPECT_EQ(a.cards[0].mark.column, 9);
  EXPECT_EQ(a.cards[1].shell, "awk '{s+=$1} END {print s}' numbers.txt");
  EXPECT_EQ(a.cards[1].timeout, Duration(0));
  EXPECT_EQ(a.cards[1].retries, 0);

  const StackSpec& b = job.stacks[1];
  EXPECT_EQ(b.id, "B");
  EXPECT_EQ(b.node, "");
  ASSERT_EQ(b.cards.size(), 3u);
  EXPECT_EQ(b.cards[0].argv(), (std::vector<std::string>{"echo", "preparing"}));
  EXPECT_EQ(b.cards[0].shell, "");
  const CardSpec& dbl = b.cards[1];
  EXPECT_EQ(dbl.id, "double");
  EXPECT_EQ(dbl.after, (std::vector<CardRef>{{0, 1}}));
  ASSERT_EQ(dbl.inputs.size(), 1u);
  EXPECT_EQ(dbl.inputs[0].from, (CardRef{0, 0}));
  EXPECT_EQ(dbl.inputs[0].path, "numbers.txt");
  EXPECT_EQ(dbl.inputs[0].dest, "numbers.txt");
  EXPECT_EQ(dbl.timeout, std::chrono::seconds(30));
  EXPECT_EQ(dbl.retries, 2);
  EXPECT_EQ(dbl.env(),
            (std::vector<std::pair<std::string, std::string>>{{"K", "V"}, {"LANG", "C"}}));
  EXPECT_EQ(dbl.mark.line, 16);
  EXPECT_EQ(dbl.mark.column, 9);
  EXPECT_EQ(b.cards[2].builtin, BuiltinKind::kSleep);
  EXPECT_EQ(b.cards[2].sleep, Duration(200));

  const StackSpec& combine = job.stacks[2];
  EXPECT_TRUE(combine.is_combine);
  EXPECT_EQ(combine.id, "combine");
  ASSERT_EQ(combine.cards.size(), 1u);
  const CardSpec& cc = combine.cards[0];
  EXPECT_EQ(cc.id, "combine");
  EXPECT_EQ(cc.shell, "sh -c 'echo $(cat results/A.sum.stdout) $(cat results/B.double.stdout)'");
  EXPECT_EQ(cc.after, (std::vector<CardRef>{{0, 1}, {1, 2}}));  // last card of A and of B
  ASSERT_EQ(cc.inputs.size(), 1u);
  EXPECT_EQ(cc.inputs[0].from, (CardRef{0, 0}));
  EXPECT_EQ(cc.inputs[0].path, "numbers.txt");
  EXPECT_EQ(cc.inputs[0].dest, "results/A.fetch/numbers.txt");
  EXPECT_EQ(job.card_name(CardRef{2, 0}), "combine");
  EXPECT_EQ(job.card_name(CardRef{1, 1}), "B.double");
  EXPECT_EQ(combine.mark.line, 25);
}

// argv, env, limits and a cache version live out of line (CardRareFields): a card that sets none
// of them must not make the block, or a million such cards pay for it after all.
TEST(SpecParserTest, OnlyCardsThatSetARareFieldHoldOne) {
  const JobSpec job = MustParse(R"(name: j
cache: true
stacks:
  A:
    cards:
      - {id: shell, run: echo a}
      - {id: noop, builtin: noop}
      - {id: words, run: [echo, b]}
      - {id: env, run: echo c, env: {K: V}}
      - {id: limited, run: echo d, limits: {files: 64}}
      - {id: versioned, run: echo e, cache_version: "2"}
)",
                                "rare.yaml");
  const auto& cards = job.stacks[0].cards;
  ASSERT_EQ(cards.size(), 6u);
  EXPECT_FALSE(cards[0].rare.set());
  EXPECT_FALSE(cards[1].rare.set());
  EXPECT_TRUE(cards[0].cache) << "cached, without a version of its own";
  EXPECT_EQ(cards[2].argv(), (std::vector<std::string>{"echo", "b"}));
  EXPECT_EQ(cards[3].env(), (std::vector<std::pair<std::string, std::string>>{{"K", "V"}}));
  EXPECT_EQ(cards[4].limits().files, 64u);
  EXPECT_EQ(cards[5].cache_version(), "2");
  const CardSpec copy = cards[5];  // a copy has a block of its own, equal
  EXPECT_EQ(copy.cache_version(), "2");
  EXPECT_NE(&copy.cache_version(), &cards[5].cache_version());
}

TEST(SpecParserTest, JsonParsesEqualToYaml) {
  const JobSpec yaml = MustParse(kDesignExample);
  const JobSpec json = MustParse(kDesignExampleJson, "spec.json");
  ExpectSameJob(yaml, json);
  EXPECT_EQ(json.stacks[0].cards[0].mark.line, 8);
  EXPECT_EQ(json.stacks[0].cards[0].mark.column, 9);
}

TEST(SpecParserTest, YamlFlowMappingIsNotMistakenForJson) {
  const JobSpec job = MustParse("{name: j, stacks: {A: {cards: [{id: a, builtin: noop}]}}}");
  ASSERT_EQ(job.stacks.size(), 1u);
  EXPECT_EQ(job.stacks[0].cards[0].builtin, BuiltinKind::kNoop);
}

TEST(SpecParserTest, StacksKeepFileOrderAndCombineIdIsOptional) {
  const JobSpec job = MustParse(R"(name: order
stacks:
  zeta: {cards: [{id: a, builtin: noop, outputs: [out/x.txt, y]}]}
  alpha: {cards: [{id: a, builtin: "sleep 1.5s"}, {id: b, builtin: noop}]}
  combine: {cards: [{id: c, builtin: noop}]}
combine:
  id: merge
  builtin: noop
  retries: 1
  timeout: 1m
)");
  ASSERT_EQ(job.stacks.size(), 4u);
  EXPECT_EQ(job.stacks[0].id, "zeta");
  EXPECT_EQ(job.stacks[1].id, "alpha");
  EXPECT_EQ(job.stacks[1].cards[0].sleep, Duration(1500));
  EXPECT_EQ(job.stacks[2].id, "combine");  // a user stack may be called combine
  EXPECT_FALSE(job.stacks[2].is_combine);
  const CardSpec& merge = job.stacks[3].cards[0];
  EXPECT_EQ(merge.id, "merge");
  EXPECT_EQ(merge.retries, 1);
  EXPECT_EQ(merge.timeout, std::chrono::minutes(1));
  EXPECT_EQ(merge.after, (std::vector<CardRef>{{0, 0}, {1, 1}, {2, 0}}));
  ASSERT_EQ(merge.inputs.size(), 2u);
  EXPECT_EQ(merge.inputs[0].dest, "results/zeta.a/out/x.txt");
  EXPECT_EQ(merge.inputs[1].dest, "results/zeta.a/y");
}

TEST(SpecParserTest, JobWithoutCombineHasNoCombineStack) {
  const JobSpec job = MustParse(OneCard("      - {id: a, run: [true]}\n"));
  EXPECT_FALSE(job.has_combine());
  EXPECT_EQ(job.stacks[0].cards[0].argv(), std::vector<std::string>{"true"});
}

TEST(SpecParserTest, ByteOrderMarkAndCrlfLineEndingsAreAccepted) {
  const JobSpec yaml = MustParse(
      "\xEF\xBB\xBFname: j\r\nstacks:\r\n  A:\r\n    cards:\r\n"
      "      - {id: a, run: x}\r\n");
  EXPECT_EQ(yaml.stacks[0].cards[0].mark.line, 5);
  const JobSpec json = MustParse(
      "\xEF\xBB\xBF{\"name\": \"j\",\r\n\"stacks\": {\"A\": {\"cards\": [{\"id\": \"a\", "
      "\"run\": \"x\"}]}}}\r\n");
  ExpectSameJob(yaml, json);
}

TEST(SpecParserTest, SameStackAfterAndInputsAreAllowed) {
  const JobSpec job = MustParse(OneCard(R"(      - id: a
        run: touch f
        outputs: [f]
      - id: b
        after: [A.a]
        inputs: [A.a:f]
        run: cat f
)"));
  EXPECT_EQ(job.stacks[0].cards[1].after, (std::vector<CardRef>{{0, 0}}));
  EXPECT_EQ(job.stacks[0].cards[1].inputs[0].from, (CardRef{0, 0}));
}

TEST(SpecParserTest, SyntaxErrorsNameThePlace) {
  EXPECT_EQ(ErrorOf("name: x\nstacks: [a, b\n"),
            "spec.yaml:3:1: syntax error: end of sequence flow not found");
  EXPECT_EQ(ErrorOf("name: x\n  bad: indentation\n"),
            "spec.yaml:2:6: syntax error: illegal map value");
  EXPECT_EQ(ErrorOf("{\"name\": \"x\",\n \"stacks\": {\"A\" 1}}"),
            "spec.yaml:2:17: syntax error: unexpected character '1', expected ':' after the key");
  EXPECT_EQ(ErrorOf("{\"name\": \"x\"} trailing"),
            "spec.yaml:1:15: syntax error: unexpected text after the end of the JSON document");
  EXPECT_EQ(ErrorOf("{\"name\": \"x\\q\"}"), "spec.yaml:1:12: syntax error: bad escape '\\q'");
  EXPECT_EQ(ErrorOf("{\"name\": \"x\""),
            "spec.yaml:1:13: syntax error: unexpected end of input, expected ',' or '}'");
}

TEST(SpecParserTest, TopLevelMustBeAJobMap) {
  EXPECT_EQ(ErrorOf("- a\n- b\n"),
            "spec.yaml:1:1: the spec must be a map with 'name' and 'stacks', not a list");
  EXPECT_EQ(ErrorOf("just words"),
            "spec.yaml:1:1: the spec must be a map with 'name' and 'stacks', not a string");
  EXPECT_EQ(ErrorOf("stacks: {A: {cards: [{id: a, builtin: noop}]}}\n"),
            "spec.yaml:1:1: missing 'name'");
  EXPECT_EQ(ErrorOf("name: j\n"), "spec.yaml:1:1: missing 'stacks'");
  EXPECT_EQ(ErrorOf("name: j\nstacks: {}\n"), "spec.yaml:2:9: 'stacks' must not be empty");
  EXPECT_EQ(ErrorOf("name: j\nstacks:\n  A: {node: x}\n"),
            "spec.yaml:3:6: stack 'A' needs a non-empty 'cards' list");
  EXPECT_EQ(ErrorOf("name: j\nstacks:\n  A: {cards: []}\n"),
            "spec.yaml:3:14: stack 'A' needs a non-empty 'cards' list");
  EXPECT_EQ(ErrorOf("name: j\nstacks:\n  A:\n    cards:\n      - a\n"),
            "spec.yaml:5:9: card 1 of stack 'A' must be a map, not a string");
  EXPECT_EQ(ErrorOf("name: j\nstacks: {A: {cards: [{id: a, builtin: noop}]}}\n---\nname: k\n"),
            "spec.yaml:3:1: a spec must be a single YAML document");
}

TEST(SpecParserTest, UnknownAndDuplicateKeys) {
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        colour: red\n")),
            "spec.yaml:7:9: unknown key 'colour' in card 'A.a' (expected one of: id, run, builtin, "
            "after, inputs, outputs, timeout, retries, env, limits, cache, cache_version)");
  EXPECT_EQ(ErrorOf("name: j\nversion: 2\n"),
            "spec.yaml:1:1: missing 'stacks'\n"
            "spec.yaml:2:1: unknown key 'version' in the job (expected one of: name, stacks, "
            "combine, priority, tenant, cache, cache_version)");
  EXPECT_EQ(ErrorOf("name: j\nstacks:\n  A:\n    cards: [{id: a, run: x}]\n    nodes: x\n"),
            "spec.yaml:5:5: unknown key 'nodes' in stack 'A' (expected one of: node, labels, "
            "cards, matrix, resources, cache, cache_version)");
  EXPECT_EQ(ErrorOf("name: j\nstacks: {A: {cards: [{id: a, run: x}]}}\ncombine:\n  run: x\n"
                    "  after: [A.a]\n"),
            "spec.yaml:5:3: unknown key 'after' in combine (expected one of: id, run, builtin, "
            "timeout, retries, env, limits)");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        run: y\n")),
            "spec.yaml:7:9: duplicate key 'run' in card 'A.a'");
}

TEST(SpecParserTest, CommandErrors) {
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        retries: 1\n")),
            "spec.yaml:5:9: card 'A.a' needs 'run' or 'builtin'");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        builtin: noop\n")),
            "spec.yaml:7:9: card 'A.a' has both 'run' and 'builtin'; use one");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: ''\n")),
            "spec.yaml:6:14: 'run' of card 'A.a' must not be empty");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: []\n")),
            "spec.yaml:6:14: 'run' of card 'A.a' must not be an empty list");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: [echo, [x]]\n")),
            "spec.yaml:6:21: each word of 'run' of card 'A.a' must be a string, not a list");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        builtin: explode\n")),
            "spec.yaml:6:18: unknown builtin 'explode' in card 'A.a' (expected 'noop' or "
            "{sleep: DURATION})");
  EXPECT_EQ(ErrorOf(OneCard("      - {id: a, builtin: {sleep: 5}}\n")),
            "spec.yaml:5:34: card 'A.a', 'builtin' sleep: bad duration '5': a unit is required "
            "(ms, s, m or h)");
}

TEST(SpecParserTest, IdErrors) {
  EXPECT_EQ(ErrorOf(OneCard("      - id: fe tch\n        run: x\n")),
            "spec.yaml:5:13: bad card id 'fe tch' (use 1-64 characters from A-Z a-z 0-9 _ -)");
  EXPECT_EQ(ErrorOf("name: j\nstacks:\n  A.B: {cards: [{id: a, run: x}]}\n"),
            "spec.yaml:3:3: bad stack id 'A.B' (use 1-64 characters from A-Z a-z 0-9 _ -)");
  EXPECT_EQ(ErrorOf("name: j/k\nstacks: {A: {cards: [{id: a, run: x}]}}\n"),
            "spec.yaml:1:7: bad job name 'j/k' (use 1-128 characters from A-Z a-z 0-9 _ -)");
  EXPECT_EQ(ErrorOf(OneCard("      - id: " + std::string(65, 'x') + "\n        run: x\n")),
            "spec.yaml:5:13: bad card id '" + std::string(65, 'x') +
                "' (use 1-64 characters from A-Z a-z 0-9 _ -)");
  EXPECT_EQ(ErrorOf(OneCard("      - run: x\n")), "spec.yaml:5:9: card 1 of stack 'A' has no 'id'");
  EXPECT_EQ(ErrorOf(OneCard("      - id:\n        run: x\n")),
            "spec.yaml:5:9: card id must be a string, not empty");
}

TEST(SpecParserTest, DuplicateIds) {
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n      - id: a\n        run: y\n")),
            "spec.yaml:7:13: duplicate card id 'a' in stack 'A' (first at 5:9)");
  EXPECT_EQ(ErrorOf("name: j\nstacks:\n  A: {cards: [{id: a, run: x}]}\n"
                    "  A: {cards: [{id: b, run: x}]}\n"),
            "spec.yaml:4:3: duplicate stack id 'A' (first at 3:3)");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        env: {K: 1, K: 2}\n")),
            "spec.yaml:7:21: duplicate key 'K' in 'env' of card 'A.a'");
}

TEST(SpecParserTest, ReferenceErrors) {
  const std::string two_stacks = R"(name: j
stacks:
  A:
    cards:
      - id: fetch
        run: x
        outputs: [numbers.txt]
  B:
    cards:
      - id: double
        run: y
)";
  EXPECT_EQ(ErrorOf(two_stacks + "        after: [A.fetch, Z.sum]\n"),
            "spec.yaml:12:26: after 'Z.sum' of card 'B.double' refers to unknown stack 'Z'");
  EXPECT_EQ(ErrorOf(two_stacks + "        after: [A.nope]\n"),
            "spec.yaml:12:17: after 'A.nope' of card 'B.double' refers to unknown card 'nope' in "
            "stack 'A'");
  EXPECT_EQ(ErrorOf(two_stacks + "        after: [A]\n"),
            "spec.yaml:12:17: bad reference 'A' in 'after' of card 'B.double' (expected "
            "STACK.CARD)");
  EXPECT_EQ(ErrorOf(two_stacks + "        inputs: [A.nope:numbers.txt]\n"),
            "spec.yaml:12:18: input 'A.nope:numbers.txt' of card 'B.double' refers to unknown card "
            "'nope' in stack 'A'");
  EXPECT_EQ(ErrorOf(two_stacks + "        inputs: [A.fetch:other.txt]\n"),
            "spec.yaml:12:18: input 'A.fetch:other.txt' of card 'B.double': card 'A.fetch' does "
            "not declare output 'other.txt'");
  EXPECT_EQ(ErrorOf(two_stacks + "        inputs: [A.fetch]\n"),
            "spec.yaml:12:18: bad input 'A.fetch' in 'inputs' of card 'B.double' (expected "
            "STACK.CARD:PATH)");
  EXPECT_EQ(ErrorOf(two_stacks + "        inputs: [A.fetch:numbers.txt, A.fetch:numbers.txt]\n"),
            "spec.yaml:12:39: input 'A.fetch:numbers.txt' in 'inputs' of card 'B.double' writes "
            "'numbers.txt', as an earlier input does");
  EXPECT_EQ(ErrorOf(two_stacks + "        after: A.fetch\n"),
            "spec.yaml:12:16: 'after' of card 'B.double' must be a list, not a string");
}

TEST(SpecParserTest, OutputPathErrors) {
  auto with_output = [](std::string_view path) {
    return ErrorOf(
        OneCard("      - id: a\n        run: x\n        outputs: ['" + std::string(path) + "']\n"));
  };
  EXPECT_EQ(with_output("ok/file.txt"), "OK");
  EXPECT_EQ(with_output("../up"),
            "spec.yaml:7:19: bad output '../up' in 'outputs' of card 'A.a': the path must not "
            "contain '..'");
  EXPECT_EQ(with_output("a/../b"),
            "spec.yaml:7:19: bad output 'a/../b' in 'outputs' of card 'A.a': the path must not "
            "contain '..'");
  EXPECT_EQ(with_output("/etc/passwd"),
            "spec.yaml:7:19: bad output '/etc/passwd' in 'outputs' of card 'A.a': the path must "
            "be relative to the workspace");
  EXPECT_EQ(with_output(""),
            "spec.yaml:7:19: bad output '' in 'outputs' of card 'A.a': the path is empty");
  EXPECT_EQ(with_output("dir/"),
            "spec.yaml:7:19: bad output 'dir/' in 'outputs' of card 'A.a': the path has an empty "
            "component ('//' or a trailing '/')");
  EXPECT_EQ(with_output("./x"),
            "spec.yaml:7:19: bad output './x' in 'outputs' of card 'A.a': the path has a '.' "
            "component");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        outputs: [f, f]\n")),
            "spec.yaml:7:22: duplicate output 'f' in 'outputs' of card 'A.a'");
}

TEST(SpecParserTest, DurationAndRetriesErrors) {
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        timeout: 30\n")),
            "spec.yaml:7:18: card 'A.a', 'timeout': bad duration '30': a unit is required (ms, s, "
            "m or h)");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        timeout: 3 days\n")),
            "spec.yaml:7:18: card 'A.a', 'timeout': bad duration '3 days': unknown unit ' days' "
            "(use ms, s, m or h)");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        retries: -1\n")),
            "spec.yaml:7:18: 'retries' of card 'A.a' must be a whole number from 0 to 100, not "
            "'-1'");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        retries: 101\n")),
            "spec.yaml:7:18: 'retries' of card 'A.a' must be a whole number from 0 to 100, not "
            "'101'");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        retries: 100\n")), "OK");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        env: {1X: y}\n")),
            "spec.yaml:7:15: bad key '1X' in 'env' of card 'A.a' (names are letters, digits and _, "
            "not starting with a digit)");
}

TEST(SpecParserTest, EveryErrorIsReportedSortedByPosition) {
  // A reference to a missing stack (resolved last), a duplicate card id and an unknown key, read
  // in that order of position: the report lists all three by line and column.
  EXPECT_EQ(ErrorOf(R"(name: j
stacks:
  A:
    cards:
      - id: a
        after: [Z.b]
        run: x
      - id: a
        run: y
  B:
    colour: red
    cards: [{id: c, run: z}]
)"),
            "spec.yaml:6:17: after 'Z.b' of card 'A.a' refers to unknown stack 'Z'\n"
            "spec.yaml:8:13: duplicate card id 'a' in stack 'A' (first at 5:9)\n"
            "spec.yaml:11:5: unknown key 'colour' in stack 'B' (expected one of: node, labels, "
            "cards, matrix, resources, cache, cache_version)");
  // Bad fields of a card are each reported and the card's other fields still read; a reference
  // into a stack with a skipped card is not reported again as unknown.
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: x\n        timeout: 30\n"
                            "        retries: many\n        outputs: [/abs, ok]\n"
                            "      - run: y\n      - id: c\n        after: [A.b]\n"
                            "        builtin: noop\n")),
            "spec.yaml:7:18: card 'A.a', 'timeout': bad duration '30': a unit is required (ms, s, "
            "m or h)\n"
            "spec.yaml:8:18: 'retries' of card 'A.a' must be a whole number from 0 to 100, not "
            "'many'\n"
            "spec.yaml:9:19: bad output '/abs' in 'outputs' of card 'A.a': the path must be "
            "relative to the workspace\n"
            "spec.yaml:10:9: card 2 of stack 'A' has no 'id'");
  // A cycle is checked only once the rest is valid (references may be broken).
  EXPECT_EQ(ErrorOf(std::string(kCycle) + "      - id: prepare\n        run: again\n"),
            "spec.yaml:17:13: duplicate card id 'prepare' in stack 'B' (first at 12:9)");
}

TEST(SpecParserTest, ErrorListIsCappedAtFifty) {
  std::string spec = "name: j\nstacks:\n  A:\n    cards:\n";
  for (int i = 0; i < 60; ++i) {
    spec += "      - {id: c" + std::to_string(i) + ", run: x, retries: lots}\n";
  }
  const std::string error = ErrorOf(spec);
  std::vector<std::string> lines;
  for (size_t start = 0; start <= error.size();) {
    const size_t end = std::min(error.find('\n', start), error.size());
    lines.push_back(error.substr(start, end - start));
    start = end + 1;
  }
  ASSERT_EQ(lines.size(), 51u) << error;
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(lines[i], "spec.yaml:" + std::to_string(5 + i) + ":" +
                            std::to_string(35 + (i >= 10)) + ": 'retries' of card 'A.c" +
                            std::to_string(i) +
                            "' must be a whole number from 0 to 100, not 'lots'");
  }
  EXPECT_EQ(lines[50], "and 10 more errors");
}

TEST(SpecParserTest, ManyErrorsInABigSpecKeepTheFirstFifty) {
  // Errors found out of order (references are resolved after every stack is read) and far more
  // than are kept: the first 50 by position are listed.
  std::string spec = R"({"name":"big","stacks":{"S":{"cards":[)";
  const int n = 20'000;
  for (int c = 0; c < n; ++c) {
    spec += (c ? ",\n" : "\n") + std::string(R"({"id":"c)") + std::to_string(c) +
            R"(","builtin":"noop","after":["T.x"],"timeout":"5"})";
  }
  spec += "]}}}";
  const std::string error = ErrorOf(spec);
  // The reference error of each card (found last) comes before its timeout error (found first).
  EXPECT_TRUE(error.starts_with(
      "spec.yaml:2:38: after 'T.x' of card 'S.c0' refers to unknown stack 'T'\n"
      "spec.yaml:2:55: card 'S.c0', 'timeout': bad duration '5': a unit is required (ms, s, m or "
      "h)\nspec.yaml:3:38: after 'T.x' of card 'S.c1'"))
      << error;
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 50);
  EXPECT_TRUE(error.ends_with("\nand " + std::to_string(2 * n - 50) + " more errors")) << error;
  EXPECT_NE(error.find("spec.yaml:26:"), std::string::npos);
  EXPECT_EQ(error.find("spec.yaml:27:"), std::string::npos);
}

TEST(SpecParserTest, CycleErrorListsThePath) {
  EXPECT_EQ(ErrorOf(kCycle),
            "spec.yaml:8:9: dependency cycle: A.sum -> B.double -> A.fetch -> A.sum");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        after: [A.a]\n        run: x\n")),
            "spec.yaml:5:9: dependency cycle: A.a -> A.a");
  // An input edge backwards in the same stack closes a loop with stack order.
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        inputs: [A.b:f]\n        run: x\n"
                            "      - id: b\n        run: y\n        outputs: [f]\n")),
            "spec.yaml:8:9: dependency cycle: A.b -> A.a -> A.b");
}

TEST(SpecParserTest, LongCycleIsFoundWithoutRecursionAndShownShortened) {
  // One stack of 300,000 cards whose first card waits on its last: the cycle runs through every
  // card, so a recursive search would need 300,000 frames.
  const int n = 300'000;
  std::string spec =
      R"({"name":"long","stacks":{"S":{"cards":[{"id":"c0","builtin":"noop","after":["S.c)" +
      std::to_string(n - 1) + "\"]}";
  for (int c = 1; c < n; ++c)
    spec += ",{\"id\":\"c" + std::to_string(c) + "\",\"builtin\":\"noop\"}";
  spec += "]}}}";
  EXPECT_EQ(ErrorOf(spec),
            "spec.yaml:1:91: dependency cycle: S.c1 -> S.c2 -> S.c3 -> S.c4 -> S.c5 -> S.c6 -> "
            "S.c7 -> S.c8 -> ... (299985 more cards) -> S.c299994 -> S.c299995 -> S.c299996 -> "
            "S.c299997 -> S.c299998 -> S.c299999 -> S.c0 -> S.c1");
}

TEST(SpecParserTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep(50'000, '[');
  // yaml-cpp reads each unclosed '[' as a sequence inside a possible single-pair map (two levels).
  EXPECT_EQ(ErrorOf("name: " + deep), "spec.yaml:1:39: nesting deeper than 64 levels");
  EXPECT_EQ(ErrorOf(deep), "spec.yaml:1:33: nesting deeper than 64 levels");
  EXPECT_EQ(ErrorOf("{\"name\": " + deep), "spec.yaml:1:73: nesting deeper than 64 levels");
  EXPECT_NE(ErrorOf(std::string(50'000, '{')), "OK");
  std::string block;
  for (int i = 0; i < 50'000; ++i) block += "- ";
  EXPECT_EQ(ErrorOf(block + "x\n"), "spec.yaml:1:129: nesting deeper than 64 levels");
  SpecLimits shallow;
  shallow.max_depth = 3;
  EXPECT_EQ(ErrorOf(kDesignExample, shallow), "spec.yaml:5:13: nesting deeper than 3 levels");
}

TEST(SpecParserTest, HugeStringsAndFilesAreRejected) {
  const std::string huge(10u << 20, 'a');
  EXPECT_EQ(ErrorOf("{\"name\": \"" + huge + "\"}"),
            "spec.yaml:1:10: string of 10485760 bytes is longer than the limit of 1048576 bytes");
  SpecLimits tiny_strings;
  tiny_strings.max_string_bytes = 4096;
  EXPECT_EQ(ErrorOf("name: \"" + huge + "\"\n", tiny_strings),
            "spec.yaml:1:7: string of 10485760 bytes is longer than the limit of 4096 bytes");
  EXPECT_EQ(ErrorOf(OneCard("      - id: a\n        run: " + std::string(4097, 'x') + "\n"),
                    tiny_strings),
            "spec.yaml:6:14: string of 4097 bytes is longer than the limit of 4096 bytes");
  SpecLimits small;
  small.max_file_bytes = 100;
  EXPECT_EQ(ErrorOf(kDesignExample, small), "spec.yaml:1:1: the spec is " +
                                                std::to_string(kDesignExample.size()) +
                                                " bytes, more than the limit of 100");
}

TEST(SpecParserTest, BinaryAndEmptyInputAreRejected) {
  EXPECT_EQ(ErrorOf(""), "spec.yaml:1:1: the spec is empty");
  EXPECT_EQ(ErrorOf("  \n\n"), "spec.yaml:1:1: the spec is empty");
  EXPECT_EQ(ErrorOf("# only a comment\n"), "spec.yaml:1:1: the spec is empty");
  EXPECT_EQ(ErrorOf(std::string_view("name: a\0b", 9)),
            "spec.yaml:1:8: NUL byte: the spec must be UTF-8 text, not binary data");
  EXPECT_EQ(ErrorOf("name: caf\xc3\xa9\nstacks: \xff\n"),
            "spec.yaml:2:9: invalid UTF-8 byte 0xff: the spec must be UTF-8 text");
  EXPECT_EQ(ErrorOf("name: \x01"),
            "spec.yaml:1:7: control character '\\x01': the spec must be UTF-8 text");
  EXPECT_EQ(ErrorOf("\xff\xfen\0a\0m\0e\0"),
            "spec.yaml:1:1: invalid UTF-8 byte 0xff: the spec must be UTF-8 text");  // UTF-16

  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::string garbage(1 + rng() % 4096, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    const std::string error = ErrorOf(garbage);
    EXPECT_TRUE(error.starts_with("spec.yaml:")) << error;
  }
}

TEST(SpecParserTest, MangledSpecsNeverCrash) {
  // Printable garbage and random edits of a valid spec reach deep into both parsers.
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]:,-#&*!|>'\"% \n\tabcAB.0123456789";
  for (int round = 0; round < 300; ++round) {
    std::string text(rng() % 600, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    const std::string error = ErrorOf(text);
    EXPECT_TRUE(error == "OK" || error.starts_with("spec.yaml:")) << error;
  }
  for (std::string_view base : {kDesignExample, kDesignExampleJson}) {
    for (int round = 0; round < 300; ++round) {
      std::string text(base);
      for (int edits = 1 + rng() % 4; edits > 0; --edits) {
        const size_t at = rng() % text.size();
        switch (rng() % 3) {
          case 0:
            text.erase(at, 1 + rng() % 8);
            break;
          case 1:
            text.insert(at, 1, alphabet[rng() % alphabet.size()]);
            break;
          default:
            text[at] = alphabet[rng() % alphabet.size()];
        }
        if (text.empty()) text = "x";
      }
      const std::string error = ErrorOf(text);
      EXPECT_TRUE(error == "OK" || error.starts_with("spec.yaml:")) << error;
    }
  }
}

TEST(SpecParserTest, AliasesAreRejected) {
  EXPECT_EQ(ErrorOf("name: j\nstacks:\n  A:\n    cards: &c [{id: a, run: x}]\n  B:\n"
                    "    cards: *c\n"),
            "spec.yaml:6:12: YAML aliases (*name) are not supported");
}

TEST(SpecParserTest, TwoHundredThousandCardJsonParses) {
  const std::string spec = BigJsonJob(200, 1000);
  const auto start = std::chrono::steady_clock::now();
  auto job = ParseJobSpec(spec, "big.json");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(job.ok()) << job.message();
  EXPECT_EQ(job->card_count(), 200'000u);
  EXPECT_EQ(job->stacks[199].cards[500].after, (std::vector<CardRef>{{198, 500}}));
  std::printf("200,000 cards parsed in %.3f s\n", std::chrono::duration<double>(elapsed).count());
}

TEST(SpecParserTest, LoadJobSpecFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("spec_parser_test_" + std::to_string(std::random_device()()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "report.yaml").string();
  std::ofstream(path) << kDesignExample;
  auto job = LoadJobSpecFile(path);
  ASSERT_TRUE(job.ok()) << job.message();
  EXPECT_EQ(job->source, path);
  EXPECT_EQ(job->stacks[1].cards[1].id, "double");

  std::ofstream(path) << kCycle;
  EXPECT_EQ(LoadJobSpecFile(path).message(),
            path + ":8:9: dependency cycle: A.sum -> B.double -> A.fetch -> A.sum");
  SpecLimits small;
  small.max_file_bytes = 10;
  EXPECT_EQ(LoadJobSpecFile(path, small).message(), "cannot read " + path + ": the file is " +
                                                        std::to_string(kCycle.size()) +
                                                        " bytes, more than the limit of 10");
  EXPECT_EQ(LoadJobSpecFile((dir / "missing.yaml").string()).message(),
            "cannot read " + (dir / "missing.yaml").string() + ": No such file or directory");
  EXPECT_EQ(LoadJobSpecFile(dir.string()).message(),
            "cannot read " + dir.string() + ": Is a directory");
  std::filesystem::remove_all(dir);
}

TEST(ParseDurationTest, AcceptsUnitsAndDecimals) {
  EXPECT_EQ(*ParseDuration("500ms"), Duration(500));
  EXPECT_EQ(*ParseDuration("30s"), Duration(30'000));
  EXPECT_EQ(*ParseDuration("5m"), Duration(300'000));
  EXPECT_EQ(*ParseDuration("1h"), Duration(3'600'000));
  EXPECT_EQ(*ParseDuration("1.5s"), Duration(1'500));
  EXPECT_EQ(*ParseDuration("0.25m"), Duration(15'000));
  EXPECT_EQ(*ParseDuration("0s"), Duration(0));
  EXPECT_EQ(*ParseDuration("999999999999h"), Duration(999'999'999'999LL * 3'600'000));
}

TEST(ParseDurationTest, RejectsMalformed) {
  EXPECT_EQ(ParseDuration("30").message(), "bad duration '30': a unit is required (ms, s, m or h)");
  EXPECT_EQ(ParseDuration("").message(),
            "bad duration '': expected a number and a unit, e.g. 500ms, 30s, 1.5m, 2h");
  EXPECT_EQ(ParseDuration("-1s").message(),
            "bad duration '-1s': expected a number and a unit, e.g. 500ms, 30s, 1.5m, 2h");
  EXPECT_EQ(ParseDuration("1.s").message(), "bad duration '1.s': expected digits after '.'");
  EXPECT_EQ(ParseDuration("1.5").message(),
            "bad duration '1.5': a unit is required (ms, s, m or h)");
  EXPECT_EQ(ParseDuration("2d").message(),
            "bad duration '2d': unknown unit 'd' (use ms, s, m or h)");
  EXPECT_EQ(ParseDuration("0.5ms").message(), "bad duration '0.5ms': finer than a millisecond");
  EXPECT_EQ(ParseDuration("1000000000000s").message(), "bad duration '1000000000000s': too large");
  EXPECT_FALSE(ParseDuration(" 1s").ok());
  EXPECT_FALSE(ParseDuration("1s ").ok());
  EXPECT_FALSE(ParseDuration("1h30m").ok());
}

TEST(SpecParserTest, ResourcesAndTenantAreReadWithErrorsAtTheirPlace) {
  const JobSpec job = MustParse(
      "name: j\ntenant: ml\nstacks:\n  A:\n    resources: {cpu: 0.5, memory: 4Gi, gpu: 2}\n"
      "    cards: [{id: a, run: x}]\n  B: {cards: [{id: b, run: x}]}\n");
  EXPECT_EQ(job.tenant, "ml");
  EXPECT_EQ(job.stacks[0].resources.cpu_milli, 500u);
  EXPECT_EQ(job.stacks[0].resources.memory_bytes, uint64_t{4} << 30);
  EXPECT_EQ(job.stacks[0].resources.Named("gpu"), 2u);
  EXPECT_EQ(job.stacks[1].resources, DefaultRequest()) << "cpu=1 when nothing is said";
  auto error = [](const std::string& resources) {
    return ErrorOf("name: j\nstacks:\n  A:\n    resources: " + resources +
                   "\n    cards: [{id: a, run: x}]\n");
  };
  EXPECT_EQ(error("{gpu: -1}"),
            "spec.yaml:4:22: 'resources' of stack 'A': bad gpu amount '-1': amounts cannot be "
            "negative");
  EXPECT_EQ(error("{memory: 12Q}"),
            "spec.yaml:4:25: 'resources' of stack 'A': bad memory amount '12Q': expected a size "
            "such as 4GiB, 512MiB, 4G or 4Gi");
  EXPECT_EQ(error("{cpu: lots}"),
            "spec.yaml:4:22: 'resources' of stack 'A': bad cpu amount 'lots': expected a number "
            "of cpus such as 2, 0.5 or 250m");
  EXPECT_NE(error("{GPU: 1}")
                .find("spec.yaml:4:17: 'resources' of stack 'A': bad resource name "
                      "'GPU'"),
            std::string::npos);
  EXPECT_NE(error("{gpu: 1, gpu: 2}").find("duplicate key 'gpu'"), std::string::npos);
  EXPECT_NE(error("[cpu]").find("'resources' of stack 'A'"), std::string::npos);
  EXPECT_NE(ErrorOf("name: j\ntenant: 'a b'\nstacks: {A: {cards: [{id: a, run: x}]}}\n")
                .find("spec.yaml:2:9:"),
            std::string::npos);
}

TEST(SpecParserTest, PriorityIsAWholeNumberInRange) {
  EXPECT_EQ(MustParse("name: j\nstacks: {A: {cards: [{id: a, run: x}]}}\n").priority, 0);
  EXPECT_EQ(MustParse("name: j\npriority: -20\nstacks: {A: {cards: [{id: a, run: x}]}}\n").priority,
            -20);
  EXPECT_EQ(
      MustParse("name: j\npriority: 1000\nstacks: {A: {cards: [{id: a, run: x}]}}\n").priority,
      1000);
  for (const char* bad : {"1001", "-1001", "1.5", "high", "99999999999", "--1"}) {
    auto r = ParseJobSpec(
        std::string("name: j\npriority: ") + bad + "\nstacks: {A: {cards: [{id: a, run: x}]}}\n",
        "spec.yaml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.message().find("spec.yaml:2:11: 'priority' must be a whole number from -1000 to "
                               "1000"),
              std::string::npos)
        << r.message();
  }
}

}  // namespace

}  // namespace hollerith
