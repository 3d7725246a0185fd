// The simulator finds a planted bug: this executable's coordinator is built with
// HOLLERITH_PLANTED_BUG, which makes reconciliation keep a worker's claim of a stack without
// checking the claim's attempt (coordinator/reconcile.cc). Within the seeds CI runs
// (simulate_seeds: 10,000), some schedule must break an invariant, and shrinking must keep it
// failing.
#include <gtest/gtest.h>

#include "tests/sim/sim_world.h"

namespace hollerith::sim {
namespace {

TEST(PlantedBug, ClaimWithoutItsAttemptIsCaughtWithinTheSeedsCiRuns) {
  SimConfig config;
  std::optional<SimReport> failed;
  uint64_t seed = 1;
  for (; seed <= 10000 && !failed; ++seed) {
    config.seed = seed;
    SimReport r = Simulate(config);
    if (!r.failure.empty()) failed = std::move(r);
  }
  ASSERT_TRUE(failed) << "10,000 schedules missed the planted bug";
  config.seed = seed - 1;
  std::printf("seed %llu caught the planted bug: %s\n",
              static_cast<unsigned long long>(config.seed), failed->failure.c_str());
  SimReport shrunk = Shrink(config, *failed);
  EXPECT_FALSE(shrunk.failure.empty());
  EXPECT_FALSE(shrunk.schedule.empty());
  // The same seed fails the same way again.
  EXPECT_EQ(Simulate(config).failure, failed->failure);
}

}  // namespace
}  // namespace hollerith::sim
