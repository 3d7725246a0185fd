// The simulator itself: one seed gives one schedule, and the real coordinator and workers keep
// every invariant over a few hundred seeds (CTest's simulate_seeds runs 10,000).
#include <gtest/gtest.h>

#include "tests/sim/sim_world.h"

namespace hollerith::sim {
namespace {

TEST(Simulator, TheSameSeedGivesTheSameSchedule) {
  SimConfig config;
  config.seed = 42;
  config.record = true;
  SimReport a = Simulate(config);
  SimReport b = Simulate(config);
  ASSERT_GT(a.schedule.size(), 100u);
  EXPECT_EQ(a.schedule, b.schedule);
  EXPECT_EQ(a.faults, b.faults);
  config.seed = 43;
  EXPECT_NE(Simulate(config).schedule, a.schedule);
}

TEST(Simulator, SchedulesWithFaultsKeepEveryInvariant) {
  SimConfig config;
  size_t faults = 0, cards = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    config.seed = seed;
    SimReport r = Simulate(config);
    ASSERT_EQ(r.failure, "") << "seed " << seed << " (hollerith-sim --seed " << seed << " --print)";
    faults += r.faults.size();
    cards += r.cards_run;
  }
  // The schedules did strike and did run cards.
  EXPECT_GT(faults, 500u);
  EXPECT_GT(cards, 2000u);
}

TEST(Simulator, LeavingFaultsOutKeepsTheOthersDraws) {
  SimConfig config;
  config.seed = 7;
  SimReport all = Simulate(config);
  ASSERT_GE(all.faults.size(), 2u);
  config.skip_faults = {0};
  SimReport fewer = Simulate(config);
  ASSERT_GE(fewer.faults.size(), 1u);
  EXPECT_EQ(fewer.faults[0], all.faults[0]);  // drawn, though not injected
}

}  // namespace
}  // namespace hollerith::sim
