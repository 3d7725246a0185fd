#include "common/core/trace.h"

#include <gtest/gtest.h>

#include <string>

#include "common/core/scheduler_core.h"

namespace hollerith {
namespace {

TEST(Trace, NodeIndexGivesEachNameOneIndexInOrderOfFirstUse) {
  Trace trace;
  EXPECT_EQ(trace.NodeIndex("w2"), 0u);
  EXPECT_EQ(trace.NodeIndex("w1"), 1u);
  EXPECT_EQ(trace.NodeIndex("w2"), 0u);
  EXPECT_EQ(trace.NodeIndex(""), 2u);
  ASSERT_EQ(trace.nodes().size(), 3u);
  EXPECT_EQ(trace.nodes()[1], "w1");
}

// A job that ran across more workers than a 16-bit index holds (its workers came and went) keeps
// every node apart.
TEST(Trace, NodeIndexHoldsMoreThanSixtyFiveThousandNodes) {
  Trace trace;
  constexpr uint32_t kNodes = 70'000;
  for (uint32_t i = 0; i < kNodes; ++i) {
    ASSERT_EQ(trace.NodeIndex("load-" + std::to_string(i)), i);
  }
  EXPECT_EQ(trace.NodeIndex("load-69999"), 69'999u);
  EXPECT_EQ(trace.NodeIndex("load-0"), 0u);
  TraceEvent e;
  e.node = trace.NodeIndex("load-66000");
  EXPECT_EQ(trace.nodes()[e.node], "load-66000");
  CardRecord record;
  record.node = trace.NodeIndex("load-65536");
  EXPECT_EQ(trace.nodes()[record.node], "load-65536");
}

}  // namespace
}  // namespace hollerith
