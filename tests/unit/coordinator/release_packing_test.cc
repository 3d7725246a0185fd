// PackReleases: which releases of a burst fold into one message, and what the message says.
#include "coordinator/release_packing.h"

#include <gtest/gtest.h>

#include <vector>

namespace hollerith::coordinator {
namespace {

ReleaseMsg Release(uint32_t from_stack, CardRef to, uint64_t lamport, uint32_t attempt = 1) {
  ReleaseMsg r;
  r.from = {from_stack, 0};
  r.to = to;
  r.attempt = attempt;
  r.vc = VectorClock({{from_stack, 2}});
  r.lamport = lamport;
  return r;
}

TEST(PackReleases, FoldsTheReleasesToOneCardThatFollowEachOther) {
  const CardRef combine{9, 0};
  std::vector<CoreAction> actions{Release(2, combine, 10), Release(0, combine, 12),
                                  Release(1, combine, 11), Release(3, {8, 0}, 13),
                                  Release(4, combine, 14)};
  EXPECT_EQ(PackReleases(actions, 0), 3u) << "up to the release to another card";
  const auto& packed = std::get<ReleaseMsg>(actions[0]);
  EXPECT_EQ(packed.from, (CardRef{2, 0}));
  EXPECT_EQ(packed.also_from, (std::vector<CardRef>{{0, 0}, {1, 0}}));
  EXPECT_EQ(packed.vc, VectorClock({{0, 2}, {1, 2}, {2, 2}}));
  EXPECT_EQ(packed.lamport, 12u) << "the latest of the three";
  EXPECT_EQ(PackReleases(actions, 3), 4u) << "alone: nothing follows it to its card";
  EXPECT_TRUE(std::get<ReleaseMsg>(actions[3]).also_from.empty());
}

TEST(PackReleases, KeepsReleasesWithOutputsOrOfAnotherAttemptApart) {
  const CardRef to{5, 1};
  ReleaseMsg with_outputs = Release(1, to, 11);
  with_outputs.outputs = {{"out.txt", "d1"}};
  std::vector<CoreAction> actions{Release(0, to, 10), with_outputs, Release(2, to, 12),
                                  Release(3, to, 13, /*attempt=*/2)};
  EXPECT_EQ(PackReleases(actions, 0), 1u) << "the next carries outputs";
  EXPECT_EQ(PackReleases(actions, 1), 2u) << "a release with outputs is never packed";
  EXPECT_EQ(PackReleases(actions, 2), 3u) << "the next is for another attempt";
}

TEST(PackReleases, APackHoldsAtMostItsLimitOfCards) {
  const CardRef to{0, 0};
  std::vector<CoreAction> actions;
  for (uint32_t s = 1; s <= kMaxPackedReleases + 5; ++s) actions.push_back(Release(s, to, s));
  EXPECT_EQ(PackReleases(actions, 0), kMaxPackedReleases);
  EXPECT_EQ(std::get<ReleaseMsg>(actions[0]).also_from.size(), kMaxPackedReleases - 1);
  EXPECT_EQ(std::get<ReleaseMsg>(actions[0]).vc.entries().size(), kMaxPackedReleases);
  EXPECT_EQ(PackReleases(actions, kMaxPackedReleases), actions.size());
}

}  // namespace
}  // namespace hollerith::coordinator
