// The orders `hollerith explore` runs a job in: each a topological order of happens-before, of
// the shape its rule says, and the same for the same seed.
#include "common/local/card_order.h"

#include <gtest/gtest.h>

#include <random>

#include "common/spec/fanout.h"
#include "common/spec/parser.h"
#include "tests/support/job_builder.h"

namespace hollerith {
namespace {

std::vector<std::string> Names(const JobSpec& job, const std::vector<CardRef>& sequence) {
  std::vector<std::string> names;
  for (CardRef r : sequence) names.push_back(job.card_name(r));
  return names;
}

OrderPlan Plan(OrderKind kind, std::string delayed = "") {
  return {kind, std::move(delayed), 0, ""};
}

TEST(CardOrder, ShapesOfTheFixedOrders) {
  const JobSpec job = testing::TwoStackReportJob();
  using V = std::vector<std::string>;
  EXPECT_EQ(Names(job, CardSequence(job, Plan(OrderKind::kSerial))),
            (V{"A.fetch", "A.sum", "B.prepare", "B.double", "combine"}));
  // B first wherever it may: B.prepare, then B.double has to wait for A.sum.
  EXPECT_EQ(Names(job, CardSequence(job, Plan(OrderKind::kStacksReversed))),
            (V{"B.prepare", "A.fetch", "A.sum", "B.double", "combine"}));
  EXPECT_EQ(Names(job, CardSequence(job, Plan(OrderKind::kStackDelayed, "A"))),
            (V{"B.prepare", "A.fetch", "A.sum", "B.double", "combine"}));
  EXPECT_EQ(Names(job, CardSequence(job, Plan(OrderKind::kStackDelayed, "B"))),
            (V{"A.fetch", "A.sum", "B.prepare", "B.double", "combine"}));
  EXPECT_TRUE(CardSequence(job, Plan(OrderKind::kParallel)).empty());
}

TEST(CardOrder, PlansStartWithTheFixedOrdersThenDelayedStacksThenRandom) {
  const JobSpec job = testing::TwoStackReportJob();
  const auto plans = ExplorePlans(job, 8, 1);
  ASSERT_EQ(plans.size(), 8u);
  EXPECT_EQ(plans[0].kind, OrderKind::kParallel);
  EXPECT_EQ(plans[1].kind, OrderKind::kSerial);
  EXPECT_EQ(plans[2].kind, OrderKind::kStacksReversed);
  // Two stacks besides combine: each delayed once (combine never is), then random orders.
  std::vector<std::string> delayed;
  for (size_t i = 3; i < 5; ++i) {
    ASSERT_EQ(plans[i].kind, OrderKind::kStackDelayed) << plans[i].label;
    delayed.push_back(plans[i].delayed_stack);
  }
  std::sort(delayed.begin(), delayed.end());
  EXPECT_EQ(delayed, (std::vector<std::string>{"A", "B"}));
  for (size_t i = 5; i < 8; ++i) EXPECT_EQ(plans[i].kind, OrderKind::kRandom);
  EXPECT_EQ(ExplorePlans(job, 2, 1).size(), 2u);
}

TEST(CardOrder, EveryOrderOfRandomJobsIsTopological) {
  std::mt19937 rng(29);
  for (int round = 0; round < 200; ++round) {
    const JobSpec job = testing::RandomJob(rng, 6, 24, /*combine=*/round % 2 == 0, 0);
    for (const OrderPlan& plan : ExplorePlans(job, 12, round)) {
      if (plan.kind == OrderKind::kParallel) continue;
      const auto sequence = CardSequence(job, plan);
      ASSERT_TRUE(IsTopologicalOrder(job, sequence)) << "round " << round << ", " << plan.label;
    }
  }
}

TEST(CardOrder, SameSeedSameOrdersOtherSeedsOtherOrders) {
  testing::JobBuilder b("wide");
  for (int s = 0; s < 10; ++s) {
    const uint32_t stack = b.Stack("S" + std::to_string(s));
    b.Card(stack, "one", "true");
    b.Card(stack, "two", "true");
  }
  const JobSpec job = b.Build();
  auto randoms = [&](uint64_t seed) {
    std::vector<std::vector<CardRef>> out;
    for (const OrderPlan& plan : ExplorePlans(job, 10, seed)) {
      if (plan.kind == OrderKind::kRandom || plan.kind == OrderKind::kStackDelayed) {
        out.push_back(CardSequence(job, plan));
      }
    }
    return out;
  };
  EXPECT_EQ(randoms(7), randoms(7));
  EXPECT_NE(randoms(7), randoms(8));
  // Two random orders of one exploration differ from each other too.
  const auto plans = ExplorePlans(job, 10, 7);
  EXPECT_NE(CardSequence(job, plans[8]), CardSequence(job, plans[9]));
}

TEST(CardOrder, TheCheckRefusesWhatIsNoTopologicalOrder) {
  const JobSpec job = testing::TwoStackReportJob();
  auto serial = CardSequence(job, Plan(OrderKind::kSerial));
  ASSERT_TRUE(IsTopologicalOrder(job, serial));
  auto swapped = serial;
  std::swap(swapped[0], swapped[1]);  // A.sum before A.fetch
  EXPECT_FALSE(IsTopologicalOrder(job, swapped));
  auto early = serial;
  std::swap(early[1], early[3]);  // B.double before A.sum
  EXPECT_FALSE(IsTopologicalOrder(job, early));
  auto missing = serial;
  missing.pop_back();
  EXPECT_FALSE(IsTopologicalOrder(job, missing));
  auto twice = serial;
  twice.back() = twice.front();
  EXPECT_FALSE(IsTopologicalOrder(job, twice));
}

TEST(CardOrder, ARunTimeMatrixIsOrderedBeforeAndAfterItsList) {
  auto spec = ParseJobSpec(R"(
name: discover
stacks:
  discover:
    cards:
      - id: list
        run: echo
        outputs: [samples.json]
  measure:
    matrix: {from: discover.list:samples.json}
    cards:
      - id: stats
        run: echo ${{ matrix.sample }} > stats.txt
        outputs: [stats.txt]
  report:
    cards:
      - id: table
        inputs: [measure.stats:stats.txt]
        run: echo
)",
                           "discover.yaml");
  ASSERT_TRUE(spec.ok()) << spec.message();
  const JobSpec& job = *spec;
  // Before the list: the template's cards are none of the sequence; what waits for them comes
  // after the card that writes the list.
  const auto before = Names(job, CardSequence(job, Plan(OrderKind::kStacksReversed)));
  EXPECT_EQ(before, (std::vector<std::string>{"discover.list", "report.table"}));
  auto expanded = ExpandFanOut(job, 1, R"([{"sample": "a"}, {"sample": "b"}])");
  ASSERT_TRUE(expanded.ok()) << expanded.message();
  for (OrderKind kind : {OrderKind::kSerial, OrderKind::kStacksReversed, OrderKind::kRandom}) {
    const auto after = CardSequence(**expanded, Plan(kind));
    EXPECT_TRUE(IsTopologicalOrder(**expanded, after));
    ASSERT_EQ(after.size(), 4u);
    EXPECT_EQ((*expanded)->card_name(after.back()), "report.table");
  }
}

}  // namespace
}  // namespace hollerith
