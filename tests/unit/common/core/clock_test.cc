#include "common/core/clock.h"

#include <gtest/gtest.h>

namespace hollerith {
namespace {

TEST(LamportClock, ReceiveTakesMaxPlusOne) {
  LamportClock c;
  EXPECT_EQ(c.Tick(), 1u);
  EXPECT_EQ(c.Receive(10), 11u);
  EXPECT_EQ(c.Receive(3), 12u);
}

TEST(VectorClock, SparseTickAndGet) {
  VectorClock vc;
  vc.Tick(7);
  vc.Tick(7);
  vc.Tick(2);
  EXPECT_EQ(vc.get(7), 2u);
  EXPECT_EQ(vc.get(2), 1u);
  EXPECT_EQ(vc.get(3), 0u);
  ASSERT_EQ(vc.entries().size(), 2u);
  EXPECT_EQ(vc.entries()[0].first, 2u);  // kept sorted
}

TEST(VectorClock, MergeTakesEntrywiseMax) {
  VectorClock a({{1, 3}, {4, 1}});
  VectorClock b({{1, 2}, {2, 5}, {4, 7}});
  a.Merge(b);
  EXPECT_EQ(a, VectorClock({{1, 3}, {2, 5}, {4, 7}}));
}

TEST(VectorClock, HappenedBeforeIsStrictPartialOrder) {
  VectorClock a({{1, 1}});
  VectorClock b({{1, 1}, {2, 1}});
  VectorClock c({{2, 2}});
  EXPECT_TRUE(a.HappenedBefore(b));
  EXPECT_FALSE(b.HappenedBefore(a));
  EXPECT_FALSE(a.HappenedBefore(a));  // irreflexive
  EXPECT_FALSE(a.HappenedBefore(c));  // concurrent
  EXPECT_FALSE(c.HappenedBefore(a));
  EXPECT_TRUE(VectorClock().HappenedBefore(a));
}

TEST(VectorClock, ConstructorDropsZerosAndMergesDuplicates) {
  VectorClock vc({{3, 0}, {1, 2}, {1, 5}});
  EXPECT_EQ(vc.entries(), (VectorClock::Entries{{1, 5}}));
}

TEST(VectorClock, MergeRaisesInPlaceAndAddsWhatIsNew) {
  VectorClock a({{1, 2}, {4, 7}});
  a.Merge(VectorClock({{4, 9}}));  // only raises a counter a has
  EXPECT_EQ(a.entries(), (VectorClock::Entries{{1, 2}, {4, 9}}));
  a.Merge(VectorClock({{1, 1}, {4, 3}}));  // adds nothing
  EXPECT_EQ(a.entries(), (VectorClock::Entries{{1, 2}, {4, 9}}));
  // Raises the first entry, then meets one a lacks: the merge starts over and keeps both.
  a.Merge(VectorClock({{1, 5}, {2, 1}, {4, 8}, {6, 2}}));
  EXPECT_EQ(a.entries(), (VectorClock::Entries{{1, 5}, {2, 1}, {4, 9}, {6, 2}}));
  VectorClock empty;
  empty.Merge(a);
  EXPECT_EQ(empty, a);
}

}  // namespace
}  // namespace hollerith
