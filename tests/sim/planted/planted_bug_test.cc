// The simulator finds a planted bug: this executable's coordinator is built with
// HOLLERITH_PLANTED_BUG, which makes reconciliation keep a claimed card start that a worker made
// after a release the crashed coordinator had sent and lost (Coordinator::ReleasedAfter says
// no): the record's release is made anew later, and the ordering proof no longer holds. It is
// the bug the simulator first found for real (seed 6151, when only the releases since the last
// restart were searched). Within the seeds CI runs (simulate_seeds: 10,000) some schedule must
// fail verify, and shrinking must keep it failing.
#include <gtest/gtest.h>

#include "tests/sim/sim_world.h"

namespace hollerith::sim {
namespace {

TEST(PlantedBug, AStartAfterALostReleaseIsCaughtWithinTheSeedsCiRuns) {
  SimConfig config;
  std::optional<SimReport> failed;
  uint64_t seed = 1;
  for (; seed <= 10000 && !failed; ++seed) {
    config.seed = seed;
    SimReport r = Simulate(config);
    if (!r.failure.empty()) failed = std::move(r);
  }
  ASSERT_TRUE(failed) << "10,000 schedules missed the planted bug";
  EXPECT_NE(failed->failure.find("fails verify"), std::string::npos) << failed->failure;
  config.seed = seed - 1;
  std::printf("seed %llu caught the planted bug: %s\n",
              static_cast<unsigned long long>(config.seed), failed->failure.c_str());
  SimReport shrunk = Shrink(config, *failed);
  EXPECT_NE(shrunk.failure.find("fails verify"), std::string::npos) << shrunk.failure;
  ASSERT_FALSE(shrunk.schedule.empty());
  std::printf("shrunk schedule:\n");
  for (const std::string& line : shrunk.schedule) std::printf("  %s\n", line.c_str());
  // The same seed fails the same way again.
  EXPECT_EQ(Simulate(config).failure, failed->failure);
}

}  // namespace
}  // namespace hollerith::sim
