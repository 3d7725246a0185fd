// `matrix:` stacks: combinations (GitHub Actions' include/exclude), the ids of generated stacks,
// `${{ matrix.KEY }}` substitution, fan-in references, limits, and `validate --expand`'s text.
#include "common/spec/matrix.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/spec/parser.h"
#include "same_job.h"

namespace hollerith {
namespace {

std::vector<std::string> StackIds(const JobSpec& job) {
  std::vector<std::string> ids;
  for (const StackSpec& s : job.stacks) ids.push_back(s.id);
  return ids;
}

// The error message of a spec that must fail.
std::string ErrorOf(std::string_view text, const SpecLimits& limits = {}) {
  auto r = ParseJobSpec(text, "m.yaml", limits);
  EXPECT_FALSE(r.ok()) << "parsed, but should not have:\n" << text;
  return r.ok() ? "" : r.message();
}

const StackSpec& Stack(const JobSpec& job, std::string_view id) {
  for (const StackSpec& s : job.stacks) {
    if (s.id == id) return s;
  }
  ADD_FAILURE() << "no stack " << id;
  static const StackSpec none;
  return none;
}

TEST(MatrixTest, OneStackPerCombinationInKeyOrderLastKeyFastest) {
  const JobSpec job = MustParse(R"(name: m
stacks:
  build:
    matrix: {os: [debian, alpine], level: [1, 2, 3]}
    cards: [{id: compile, run: "make OS=${{ matrix.os }} LEVEL=${{matrix.level}}"}]
)");
  EXPECT_EQ(StackIds(job),
            (std::vector<std::string>{"build-debian-1", "build-debian-2", "build-debian-3",
                                      "build-alpine-1", "build-alpine-2", "build-alpine-3"}));
  EXPECT_EQ(job.stacks[4].cards[0].shell, "make OS=alpine LEVEL=2");
  // Every generated stack points at the line the user wrote.
  EXPECT_EQ(job.stacks[4].mark.line, 3);
  EXPECT_EQ(job.stacks[4].cards[0].mark.line, 5);
}

TEST(MatrixTest, SubstitutesInEveryPlaceAStackCanHoldText) {
  const JobSpec job = MustParse(R"(name: m
stacks:
  src:
    cards:
      - {id: make-a, run: touch a.txt, outputs: [a.txt]}
  use:
    matrix: {v: [a], t: [5s]}
    node: node-${{ matrix.v }}
    labels: {zone: "z-${{ matrix.v }}"}
    cards:
      - id: c
        run: echo ${{ matrix.v }}
        env: {V: "<${{ matrix.v }}>"}
        timeout: ${{ matrix.t }}
        after: ["src.make-${{ matrix.v }}"]
        inputs: ["src.make-a:${{ matrix.v }}.txt"]
        outputs: ["out-${{ matrix.v }}.txt"]
      - id: d
        run: [echo, "${{ matrix.v }}", "${{ matrix.t }}"]
)");
  const StackSpec& use = Stack(job, "use-a-5s");
  EXPECT_EQ(use.node, "node-a");
  EXPECT_EQ(use.labels, (std::vector<std::pair<std::string, std::string>>{{"zone", "z-a"}}));
  const CardSpec& c = use.cards[0];
  EXPECT_EQ(c.shell, "echo a");
  EXPECT_EQ(c.env(), (std::vector<std::pair<std::string, std::string>>{{"V", "<a>"}}));
  EXPECT_EQ(c.timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.after, (std::vector<CardRef>{{0, 0}}));
  ASSERT_EQ(c.inputs.size(), 1u);
  EXPECT_EQ(c.inputs[0].path, "a.txt");
  EXPECT_EQ(c.inputs[0].dest, "a.txt");
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"out-a.txt"}));
  EXPECT_EQ(use.cards[1].argv(), (std::vector<std::string>{"echo", "a", "5s"}));
}

TEST(MatrixTest, ShellSyntaxIsLeftAloneAndDollarDollarBracesIsALiteral) {
  const JobSpec job = MustParse(R"(name: m
stacks:
  s:
    matrix: {v: [x]}
    cards:
      - id: c
        run: 'echo $V ${V} $$ $((1+2)) ${V:-d} $${{ not.substituted }} ${{matrix.v}}'
  plain:
    cards: [{id: c, run: 'echo $${{ literal }} $HOME'}]
)");
  EXPECT_EQ(job.stacks[0].cards[0].shell,
            "echo $V ${V} $$ $((1+2)) ${V:-d} ${{ not.substituted }} x");
  EXPECT_EQ(job.stacks[1].cards[0].shell, "echo ${{ literal }} $HOME");
}

TEST(MatrixTest, UnknownOrMalformedSubstitutionsAreErrorsAtTheString) {
  EXPECT_EQ(ErrorOf(R"(name: m
stacks:
  s:
    matrix: {os: [a]}
    cards:
      - id: c
        run: echo ${{ matrix.nope }}
)"),
            "m.yaml:7:14: '${{ matrix.nope }}': unknown matrix key 'nope' (keys: os)");
  EXPECT_EQ(ErrorOf("name: m\nstacks:\n  s:\n    cards: [{id: c, run: 'echo ${{ matrix.os }}'}]\n"),
            "m.yaml:4:26: '${{ matrix.os }}': stack 's' has no matrix");
  EXPECT_NE(ErrorOf("name: m\nstacks:\n  s:\n    cards: [{id: c, run: 'echo ${{ matrix.os'}]\n")
                .find("m.yaml:4:26: '${{' without '}}'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: m\nstacks:\n  s:\n    cards: [{id: c, run: 'echo ${{ env.X }}'}]\n")
                .find("m.yaml:4:26: bad substitution '${{ env.X }}'"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("name: m\nstacks:\n  s:\n    cards: [{id: c, run: x}]\n"
                    "combine:\n  run: echo ${{ matrix.os }}\n"),
            "m.yaml:6:8: '${{ matrix.os }}': the combine card has no matrix");
}

TEST(MatrixTest, IdsAreSanitizedStableAndShortenedWithAHash) {
  const std::string spec = R"(name: m
stacks:
  t:
    matrix: {py: ["3.11", "3 12"], long: [")" +
                           std::string(80, 'x') + R"("]}
    cards: [{id: c, run: echo}]
)";
  const JobSpec job = MustParse(spec);
  ASSERT_EQ(job.stacks.size(), 2u);
  const std::string full = "t-3_11-" + std::string(80, 'x');
  EXPECT_EQ(job.stacks[0].id, MatrixStackId("t-3.11-" + std::string(80, 'x')));
  EXPECT_EQ(job.stacks[0].id.size(), kMaxIdLength);
  EXPECT_EQ(job.stacks[0].id.substr(0, 55), full.substr(0, 55));
  EXPECT_EQ(job.stacks[0].id[55], '-');
  EXPECT_NE(job.stacks[0].id, job.stacks[1].id);
  // FNV-1a (32 bits) of the whole sanitized id, in hex: fixed, so ids are the same every run.
  EXPECT_EQ(MatrixStackId("a.b"), "a_b");
  EXPECT_EQ(MatrixStackId(std::string(70, 'a')), std::string(55, 'a') + "-5904740b");
  EXPECT_EQ(StackIds(MustParse(spec)), StackIds(job));
}

TEST(MatrixTest, TwoCombinationsWithOneIdAreAnErrorNamingBoth) {
  EXPECT_EQ(ErrorOf(R"(name: m
stacks:
  s:
    matrix:
      v: [a.b, a_b]
    cards: [{id: c, run: echo}]
)"),
            "m.yaml:4:5: the matrix of stack 's' gives two stacks the id 's-a_b': {v: 'a.b'} and "
            "{v: 'a_b'}");
}

// GitHub Actions' example of include ("Expanding or adding matrix configurations").
TEST(MatrixTest, IncludeAddsKeysToMatchingCombinationsOrAddsNewOnes) {
  const JobSpec job = MustParse(R"(name: m
stacks:
  s:
    matrix:
      fruit: [apple, pear]
      animal: [cat, dog]
      include:
        - color: green
        - color: pink
          animal: cat
        - fruit: apple
          shape: circle
        - fruit: banana
        - fruit: banana
          animal: cat
    cards:
      - id: c
        run: "${{ matrix.fruit }},${{ matrix.animal }},${{ matrix.color }},${{ matrix.shape }}"
)");
  std::vector<std::string> runs;
  for (const StackSpec& s : job.stacks) runs.push_back(s.id + " " + s.cards[0].shell);
  EXPECT_EQ(runs, (std::vector<std::string>{
                      "s-apple-cat apple,cat,pink,circle", "s-apple-dog apple,dog,green,circle",
                      "s-pear-cat pear,cat,pink,", "s-pear-dog pear,dog,green,",
                      "s-banana banana,,,", "s-banana-cat banana,cat,,"}));
}

// GitHub Actions' example of exclude: a partial match removes every combination it matches.
TEST(MatrixTest, ExcludeRemovesEveryCombinationMatchingAllItsKeys) {
  const JobSpec job = MustParse(R"(name: m
stacks:
  s:
    matrix:
      os: [macos, windows]
      version: [12, 14, 16]
      environment: [staging, production]
      exclude:
        - {os: macos, version: 12, environment: production}
        - {os: windows, version: 16}
    cards: [{id: c, run: echo}]
)");
  EXPECT_EQ(StackIds(job),
            (std::vector<std::string>{
                "s-macos-12-staging", "s-macos-14-staging", "s-macos-14-production",
                "s-macos-16-staging", "s-macos-16-production", "s-windows-12-staging",
                "s-windows-12-production", "s-windows-14-staging", "s-windows-14-production"}));
  EXPECT_EQ(ErrorOf(R"(name: m
stacks:
  s:
    matrix:
      os: [a]
      exclude: [{arch: x}]
    cards: [{id: c, run: echo}]
)"),
            "m.yaml:6:18: 'exclude' names 'arch', which is not a key of the matrix");
  EXPECT_EQ(ErrorOf(R"(name: m
stacks:
  s:
    matrix:
      os: [a]
      exclude: [{os: a}]
    cards: [{id: c, run: echo}]
)"),
            "m.yaml:4:5: the matrix of stack 's' makes no stacks (exclude removed every "
            "combination)");
}

constexpr std::string_view kFanIn = R"(name: m
stacks:
  build:
    matrix: {os: [debian, alpine], level: [1, 2]}
    cards:
      - id: compile
        run: echo ${{ matrix.os }} > out.txt
        outputs: [out.txt]
  report:
    cards:
      - id: all
        after: [build.compile]
        inputs: [build.compile:out.txt]
        run: cat */out.txt
      - id: one
        after: [build-alpine-2.compile]
        inputs: [build-debian-1.compile:out.txt]
        run: cat out.txt
)";

TEST(MatrixTest, ABaseNameMeansEveryInstanceAndEachFileArrivesUnderItsInstance) {
  const JobSpec job = MustParse(kFanIn);
  const CardSpec& all = Stack(job, "report").cards[0];
  EXPECT_EQ(all.after, (std::vector<CardRef>{{0, 0}, {1, 0}, {2, 0}, {3, 0}}));
  ASSERT_EQ(all.inputs.size(), 4u);
  const char* dests[] = {"build-debian-1/out.txt", "build-debian-2/out.txt",
                         "build-alpine-1/out.txt", "build-alpine-2/out.txt"};
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(all.inputs[i].from, (CardRef{i, 0}));
    EXPECT_EQ(all.inputs[i].path, "out.txt");
    EXPECT_EQ(all.inputs[i].dest, dests[i]);
  }
  const CardSpec& one = Stack(job, "report").cards[1];
  EXPECT_EQ(one.after, (std::vector<CardRef>{{3, 0}}));
  ASSERT_EQ(one.inputs.size(), 1u);
  EXPECT_EQ(one.inputs[0].from, (CardRef{0, 0}));
  EXPECT_EQ(one.inputs[0].dest, "out.txt");
  // The combine card depends on every generated stack, as on any other.
  const JobSpec with_combine = MustParse(std::string(kFanIn) + "combine: {run: ls results}\n");
  EXPECT_EQ(with_combine.stacks.back().cards[0].after.size(), 5u);
  EXPECT_EQ(with_combine.stacks.back().cards[0].inputs.size(), 4u);
}

TEST(MatrixTest, AReferenceThatMatchesNothingIsAnErrorAtItsLine) {
  std::string spec(kFanIn);
  spec.replace(spec.find("after: [build.compile]"), 22, "after: [build.link]   ");
  EXPECT_EQ(ErrorOf(spec),
            "m.yaml:12:17: after 'build.link' refers to unknown card 'link' in matrix stack "
            "'build'");
  spec = kFanIn;
  spec.replace(spec.find("build-alpine-2.compile"), 22, "build-alpine-9.compile");
  EXPECT_EQ(ErrorOf(spec),
            "m.yaml:16:17: after 'build-alpine-9.compile' of card 'report.one' refers to unknown "
            "stack 'build-alpine-9'");
}

TEST(MatrixTest, AGeneratedIdEqualToAnotherStacksIsADuplicateStackId) {
  EXPECT_EQ(ErrorOf(R"(name: m
stacks:
  b-x:
    cards: [{id: c, run: echo}]
  b:
    matrix: {v: [x]}
    cards: [{id: c, run: echo}]
)"),
            "m.yaml:5:3: duplicate stack id 'b-x' (first at 3:3)");
}

TEST(MatrixTest, AMatrixBombIsRefusedAtItsLineBeforeAnythingIsMade) {
  std::string hundred = "[";
  for (int i = 0; i < 100; ++i) hundred += (i ? "," : "") + std::to_string(i);
  hundred += "]";
  const std::string bomb = "name: m\nstacks:\n  s:\n    matrix: {a: " + hundred +
                           ", b: " + hundred + ", c: " + hundred + ", d: " + hundred +
                           "}\n    cards: [{id: c, run: x}, {id: d, run: y}]\n";
  EXPECT_EQ(ErrorOf(bomb),
            "m.yaml:4:5: the matrix of stack 's' makes 100000000 stacks of 2 cards (before "
            "exclude) = 200000000 cards, more than the limit of 1048576 cards in a job");
  SpecLimits small;
  small.max_cards = 8;
  EXPECT_EQ(ErrorOf("name: m\nstacks:\n  p:\n    cards: [{id: c, run: x}, {id: d, run: y}]\n"
                    "  s:\n    matrix: {a: [1, 2, 3], b: [1, 2], include: [{a: 9}]}\n"
                    "    cards: [{id: c, run: x}]\n",
                    small),
            "m.yaml:6:5: the matrix of stack 's' makes 7 stacks of 1 card = 7 cards, more than the "
            "6 cards that the job's other stacks leave of the limit of 8 cards in a job");
  std::string many_keys = "name: m\nstacks:\n  s:\n    matrix: {";
  for (int i = 0; i < 33; ++i) many_keys += (i ? ", k" : "k") + std::to_string(i) + ": [x]";
  many_keys += "}\n    cards: [{id: c, run: x}]\n";
  EXPECT_NE(ErrorOf(many_keys).find("has 33 keys (with those of 'include'), more than 32"),
            std::string::npos);
}

TEST(MatrixTest, MalformedMatricesAreErrorsAtTheirLines) {
  EXPECT_EQ(ErrorOf("name: m\nstacks:\n  s:\n    matrix: [a]\n    cards: [{id: c, run: x}]\n"),
            "m.yaml:4:13: the matrix of stack 's' must be a map");
  EXPECT_EQ(ErrorOf("name: m\nstacks:\n  s:\n    matrix: {os: debian}\n    cards: [{id: c, run: "
                    "x}]\n"),
            "m.yaml:4:18: matrix key 'os' of the matrix of stack 's' must be a non-empty list of "
            "values");
  EXPECT_EQ(ErrorOf("name: m\nstacks:\n  s:\n    matrix: {os: [[a]]}\n    cards: [{id: c, run: "
                    "x}]\n"),
            "m.yaml:4:19: each value of matrix key 'os' must be a string");
}

TEST(MatrixTest, JsonSpecGivesTheSameJobAsYaml) {
  const JobSpec yaml = MustParse(kFanIn);
  const JobSpec json = MustParse(R"({"name": "m", "stacks": {
  "build": {"matrix": {"os": ["debian", "alpine"], "level": [1, 2]},
            "cards": [{"id": "compile", "run": "echo ${{ matrix.os }} > out.txt",
                       "outputs": ["out.txt"]}]},
  "report": {"cards": [
    {"id": "all", "after": ["build.compile"], "inputs": ["build.compile:out.txt"],
     "run": "cat */out.txt"},
    {"id": "one", "after": ["build-alpine-2.compile"],
     "inputs": ["build-debian-1.compile:out.txt"], "run": "cat out.txt"}]}}})",
                                 "m.json");
  ExpectSameJob(yaml, json);
}

TEST(MatrixTest, ExpandedTextParsesToTheSameJobInYamlAndJson) {
  const std::string spec = std::string(kFanIn) +
                           "  odd:\n    matrix: {q: ['a b', 'null', '-x', 'c: d', '#', '']}\n"
                           "    cards: [{id: c, run: 'echo \"${{ matrix.q }}\" $${{ x }} $X',"
                           "}]\n    labels: {\"${{\": \"$$${{\"}\n"
                           "combine: {run: 'echo $${{ y }}'}\n";
  const JobSpec job = MustParse(spec);
  for (SpecFormat format : {SpecFormat::kYaml, SpecFormat::kJson}) {
    auto text = ExpandJobSpec(spec, "m.yaml", format);
    ASSERT_TRUE(text.ok()) << text.message();
    EXPECT_EQ(text->find("matrix"), std::string::npos) << *text;
    ExpectSameJob(job, MustParse(*text, format == SpecFormat::kJson ? "x.json" : "x.yaml"));
  }
  EXPECT_EQ(Stack(job, "odd-null").cards[0].shell, "echo \"null\" ${{ x }} $X");
  EXPECT_EQ(job.stacks.back().cards[0].shell, "echo ${{ y }}");
  auto yaml = ExpandJobSpec(kFanIn, "m.yaml", SpecFormat::kYaml);
  ASSERT_TRUE(yaml.ok());
  EXPECT_NE(yaml->find("  report:\n    cards:\n      - id: all\n        after:\n"
                       "          - build-debian-1.compile\n"),
            std::string::npos)
      << *yaml;
  EXPECT_NE(yaml->find("          - from: build-debian-1.compile:out.txt\n"
                       "            dest: build-debian-1/out.txt\n"),
            std::string::npos)
      << *yaml;
}

TEST(MatrixTest, ASpecWithoutMatrixOrTemplatesIsReadAsBefore) {
  auto text = ExpandJobSpec(kFanIn, "m.yaml", SpecFormat::kYaml);
  ASSERT_TRUE(text.ok());
  auto again = ExpandJobSpec(*text, "x.yaml", SpecFormat::kYaml);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *text) << "expanding an expanded spec changes nothing";
}

}  // namespace
}  // namespace hollerith
