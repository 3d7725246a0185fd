// Run-time matrix stacks (`matrix: {from: STACK.CARD:PATH}`): what the parser makes of them and
// checks, and ExpandFanOut's stacks, ids, substitutions, rewritten fan-ins and errors.
#include "common/spec/fanout.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/spec/parser.h"
#include "same_job.h"

namespace hollerith {
namespace {

constexpr std::string_view kSpec = R"(name: f
stacks:
  split:
    cards:
      - {id: list, run: make-list, outputs: [items.json]}
  process:
    matrix: {from: split.list:items.json}
    labels: {disk: "${{ matrix.disk }}"}
    cards:
      - id: run
        run: "work ${{ matrix.item }} $$${{ literal }} ${HOME}"
        env: {ITEM: "${{ matrix.item }}"}
        outputs: [out.txt, "${{ matrix.item }}.log"]
  report:
    cards:
      - {id: first, run: echo first}
      - id: table
        inputs: [process.run:out.txt, {from: "process.run:out.txt", dest: copy.txt}]
        after: [split.list]
        run: cat */out.txt
combine:
  run: ls results
)";

std::string ErrorOf(std::string_view text) {
  auto r = ParseJobSpec(text, "f.yaml");
  EXPECT_FALSE(r.ok()) << "parsed, but should not have:\n" << text;
  return r.ok() ? "" : r.message();
}

std::shared_ptr<const JobSpec> Expand(const JobSpec& job, std::string_view list,
                                      const SpecLimits& limits = {}) {
  auto made = ExpandFanOut(job, 1, list, limits);
  EXPECT_TRUE(made.ok()) << made.message();
  return made.ok() ? *made : std::make_shared<const JobSpec>(job);
}

std::string ExpandError(const JobSpec& job, std::string_view list, const SpecLimits& limits = {}) {
  auto made = ExpandFanOut(job, 1, list, limits);
  EXPECT_FALSE(made.ok()) << "expanded, but should not have: " << list;
  return made.ok() ? "" : made.message();
}

TEST(FanOutTest, ARunTimeMatrixStackIsATemplateKeptAsWritten) {
  const JobSpec job = MustParse(kSpec);
  ASSERT_EQ(job.stacks.size(), 4u);
  const StackSpec& process = job.stacks[1];
  ASSERT_TRUE(process.is_template());
  EXPECT_TRUE(job.has_fanout);
  EXPECT_EQ(process.fanout->source, (CardRef{0, 0}));
  EXPECT_EQ(process.fanout->path, "items.json");
  EXPECT_EQ(process.fanout->mark.line, 7);
  EXPECT_FALSE(process.fanout->expanded);
  // Run-time values and escapes stay for the expansion; the shell's ${HOME} is the shell's.
  EXPECT_EQ(process.cards[0].shell, "work ${{ matrix.item }} $$${{ literal }} ${HOME}");
  EXPECT_EQ(process.labels[0].second, "${{ matrix.disk }}");
  // A fan-in names the template's card until the list exists.
  EXPECT_EQ(job.stacks[2].cards[1].inputs[0].from, (CardRef{1, 0}));
  // Cards that run: the template's is not one of them.
  EXPECT_EQ(job.card_count(), 4u);
  EXPECT_EQ(job.DisplayOrder(), (std::vector<uint32_t>{0, 2, 3}));
}

TEST(FanOutTest, EachItemMakesAStackWithItsValuesSubstituted) {
  const JobSpec job = MustParse(kSpec);
  auto made = Expand(job, R"([{"item": "a", "disk": "x"}, {"item": "b/c", "disk": "y"}])");
  const JobSpec& e = *made;
  ASSERT_EQ(e.stacks.size(), 6u);
  EXPECT_EQ(e.written_stacks, 4u);
  EXPECT_TRUE(e.has_combine());
  EXPECT_EQ(e.combine_stack(), 3u);
  const StackSpec& a = e.stacks[4];
  EXPECT_EQ(a.id, "process-a-x");
  EXPECT_EQ(e.stacks[5].id, "process-b_c-y") << "characters outside ids become _";
  EXPECT_FALSE(a.is_template());
  EXPECT_EQ(a.instance_of, 1u);
  EXPECT_EQ(a.labels[0].second, "x");
  EXPECT_EQ(a.cards[0].shell, "work a $${{ literal }} ${HOME}");
  EXPECT_EQ(a.cards[0].env(), (std::vector<std::pair<std::string, std::string>>{{"ITEM", "a"}}));
  EXPECT_EQ(a.cards[0].outputs, (std::vector<std::string>{"out.txt", "a.log"}));
  EXPECT_EQ(e.stacks[5].cards[0].outputs[1], "b/c.log");
  EXPECT_TRUE(e.stacks[1].fanout->expanded);
  EXPECT_EQ(e.stacks[1].fanout->first, 4u);
  EXPECT_EQ(e.stacks[1].fanout->count, 2u);
  EXPECT_EQ(e.DisplayOrder(), (std::vector<uint32_t>{0, 4, 5, 2, 3}));
  EXPECT_EQ(e.card_count(), 6u);
  EXPECT_FALSE(job.stacks[1].fanout->expanded) << "the job it came from is left alone";
}

TEST(FanOutTest, FanInsAndTheCombineCardNameEveryInstance) {
  const JobSpec job = MustParse(kSpec);
  auto made = Expand(job, R"([{"item": "a", "disk": "ssd"}, {"item": "b", "disk": "ssd"}])");
  const JobSpec& e = *made;
  EXPECT_EQ(e.stacks[4].id, "process-a-ssd");
  const CardSpec& table = e.stacks[2].cards[1];
  EXPECT_EQ(table.after, (std::vector<CardRef>{{0, 0}}));
  ASSERT_EQ(table.inputs.size(), 4u);
  EXPECT_EQ(table.inputs[0].from, (CardRef{4, 0}));
  EXPECT_EQ(table.inputs[0].dest, "process-a-ssd/out.txt");
  EXPECT_EQ(table.inputs[1].from, (CardRef{5, 0}));
  EXPECT_EQ(table.inputs[1].dest, "process-b-ssd/out.txt");
  EXPECT_EQ(table.inputs[2].dest, "process-a-ssd/copy.txt") << "a dest is kept under the instance";
  EXPECT_EQ(table.inputs[3].dest, "process-b-ssd/copy.txt");
  const CardSpec& combine = e.stacks[3].cards[0];
  std::vector<std::string> dests;
  for (const InputSpec& in : combine.inputs) dests.push_back(in.dest);
  EXPECT_NE(std::find(dests.begin(), dests.end(), "results/process-b-ssd.run/b.log"), dests.end());
  EXPECT_NE(std::find(dests.begin(), dests.end(), "results/process-a-ssd.run/out.txt"),
            dests.end());
  for (const InputSpec& in : combine.inputs) EXPECT_NE(in.from.stack, 1u) << in.dest;
  for (CardRef r : combine.after) EXPECT_NE(r.stack, 1u);
  EXPECT_EQ(combine.after.size(), 4u) << "split, report and the two instances";
}

TEST(FanOutTest, TheSameListMakesTheSameIdsAsAWrittenMatrix) {
  const JobSpec job = MustParse(R"(name: f
stacks:
  split: {cards: [{id: list, run: l, outputs: [i.json]}]}
  process:
    matrix: {from: split.list:i.json}
    cards: [{id: run, run: "w ${{ matrix.os }} ${{ matrix.level }}"}]
)");
  const JobSpec written = MustParse(R"(name: f
stacks:
  split: {cards: [{id: list, run: l, outputs: [i.json]}]}
  process:
    matrix: {os: [debian, alpine], level: [1]}
    cards: [{id: run, run: "w ${{ matrix.os }} ${{ matrix.level }}"}]
)");
  auto made = Expand(job, R"([{"os": "debian", "level": 1}, {"os": "alpine", "level": 1}])");
  ASSERT_EQ(made->stacks.size(), 4u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(made->stacks[2 + i].id, written.stacks[1 + i].id);
    EXPECT_EQ(made->stacks[2 + i].cards[0].shell, written.stacks[1 + i].cards[0].shell);
  }
}

TEST(FanOutTest, AnEmptyListMakesNoStacksAndTheFanInWaitsForNothing) {
  const JobSpec job = MustParse(kSpec);
  auto made = Expand(job, "[]");  // no item: nothing to substitute
  EXPECT_EQ(made->stacks.size(), 4u);
  EXPECT_TRUE(made->stacks[1].fanout->expanded);
  EXPECT_TRUE(made->stacks[2].cards[1].inputs.empty());
}

TEST(FanOutTest, ABadListIsAnErrorThatSaysWhy) {
  const JobSpec job = MustParse(kSpec);
  EXPECT_NE(ExpandError(job, "not json")
                .find("spec.yaml:7:5: run-time matrix of stack 'process': "
                      "split.list:items.json:1:1: not a JSON list"),
            std::string::npos)
      << ExpandError(job, "not json");
  EXPECT_NE(ExpandError(job, R"({"a": 1})").find("holds no JSON list"), std::string::npos);
  EXPECT_NE(ExpandError(job, R"([["b"]])").find("item 1 of the list is a list"), std::string::npos);
  EXPECT_NE(ExpandError(job, R"([{"item": {"x": 1}}])").find("not a scalar"), std::string::npos);
  EXPECT_NE(ExpandError(job, R"([null])").find("item 1 of the list is null"), std::string::npos);
  EXPECT_NE(ExpandError(job, R"([{"disk": "a"}])")
                .find("'${{ matrix.item }}': item 1 of the list has no key 'item' (keys: disk)"),
            std::string::npos)
      << ExpandError(job, R"([{"disk": "a"}])");
  EXPECT_NE(ExpandError(job, R"([{"item": "a b", "disk": "d"}, {"item": "a_b", "disk": "d"}])")
                .find("items 1 and 2 of split.list:items.json make the same stack id "
                      "'process-a_b-d'"),
            std::string::npos);
  EXPECT_NE(
      ExpandError(job, R"([{"item": "../x", "disk": "d"}])").find("the path must not contain '..'"),
      std::string::npos);
}

TEST(FanOutTest, AnItemCanChooseTheNode) {
  const JobSpec job = MustParse(R"(name: f
stacks:
  split: {cards: [{id: list, run: l, outputs: [i.json]}]}
  p:
    matrix: {from: split.list:i.json}
    node: "${{ matrix.node }}"
    cards: [{id: run, run: w}]
)");
  auto made = Expand(job, R"([{"node": "w1"}, {"node": "w2"}])");
  ASSERT_EQ(made->stacks.size(), 4u);
  EXPECT_EQ(made->stacks[2].id, "p-w1");
  EXPECT_EQ(made->stacks[3].node, "w2");
  EXPECT_NE(ExpandError(job, R"([{"node": ""}])").find("item 1 makes an empty 'node'"),
            std::string::npos);
}

TEST(FanOutTest, AnInstanceIdTheJobHasIsAnError) {
  const JobSpec job = MustParse(R"(name: f
stacks:
  split: {cards: [{id: list, run: l, outputs: [i.json]}]}
  p:
    matrix: {from: split.list:i.json}
    cards: [{id: run, run: w}]
  p-x: {cards: [{id: c, run: c}]}
)");
  EXPECT_NE(ExpandError(job, R"(["x"])").find("makes stack id 'p-x', which the job has already"),
            std::string::npos);
}

TEST(FanOutTest, AListTooLongForTheJobsCardLimitIsRefused) {
  const JobSpec job = MustParse(kSpec);
  SpecLimits limits;
  limits.max_cards = 10;
  auto list = [](char last) {
    std::string text = "[";
    for (char c = 'a'; c <= last; ++c) {
      text += std::string(c > 'a' ? "," : "") + R"({"item": ")" + c + R"(", "disk": "d"})";
    }
    return text + "]";
  };
  EXPECT_NE(ExpandError(job, list('g'), limits).find("lists 7 items; the limit is 6"),
            std::string::npos)
      << ExpandError(job, list('g'), limits);
  auto made = Expand(job, list('f'), limits);
  EXPECT_EQ(made->card_count(), 10u);
}

TEST(FanOutTest, ParserErrorsNameTheLine) {
  const std::string_view head = R"(name: f
stacks:
  split: {cards: [{id: list, run: l, outputs: [i.json]}]}
)";
  auto spec = [&](std::string_view rest) { return std::string(head) + std::string(rest); };
  EXPECT_NE(ErrorOf(spec("  p:\n    matrix: {from: nope.list:i.json}\n    cards: [{id: r, run: "
                         "r}]\n"))
                .find("f.yaml:5:20: 'matrix' of stack 'p' comes from 'nope.list:i.json', an "
                      "unknown stack"),
            std::string::npos)
      << ErrorOf(spec("  p:\n    matrix: {from: nope.list:i.json}\n    cards: [{id: r, run: "
                      "r}]\n"));
  EXPECT_NE(ErrorOf(spec("  p:\n    matrix: {from: split.list:other.json}\n    cards: [{id: r, "
                         "run: r}]\n"))
                .find("does not declare output 'other.json'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(spec("  p:\n    matrix: {from: split.list}\n    cards: [{id: r, run: r}]\n"))
                .find("expected STACK.CARD:PATH"),
            std::string::npos);
  EXPECT_NE(ErrorOf(spec("  p:\n    matrix: {from: p.r:x.json}\n    cards: [{id: r, run: r, "
                         "outputs: [x.json]}]\n"))
                .find("a card of the stack itself"),
            std::string::npos);
  EXPECT_NE(ErrorOf(spec("  p:\n    matrix: {from: split.list:i.json, os: [a]}\n    cards: [{id: "
                         "r, run: r}]\n"))
                .find("unknown key 'os'"),
            std::string::npos);
}

TEST(FanOutTest, ATemplateThatCanNeverBeMadeIsRefused) {
  // The source's stack waits (through report) for the instances that its card's list makes.
  const std::string error = ErrorOf(R"(name: f
stacks:
  split:
    cards:
      - {id: wait, run: w, after: [report.sum]}
      - {id: list, run: l, outputs: [i.json]}
  p:
    matrix: {from: split.list:i.json}
    cards: [{id: r, run: r}]
  report:
    cards: [{id: sum, run: s, after: [p.r]}]
)");
  EXPECT_NE(error.find("f.yaml:8:5: a run-time matrix can never be made"), std::string::npos)
      << error;
  EXPECT_NE(ErrorOf(R"(name: f
stacks:
  split: {cards: [{id: list, run: l, outputs: [i.json]}]}
  p:
    matrix: {from: split.list:i.json}
    cards: [{id: r, run: r, outputs: [j.json]}]
  q:
    matrix: {from: split.list:i.json}
    cards: [{id: r, run: r, after: [p.r]}]
)")
                .find("waits on 'p.r', a card of another run-time matrix stack"),
            std::string::npos);
}

}  // namespace
}  // namespace hollerith
