// The scheduler core driven directly, event by event, as a fake node would.
#include "common/core/scheduler_core.h"
#include "common/base/simulated_time.h"

#include <gtest/gtest.h>

#include "core_actions.h"

#include "tests/support/job_builder.h"

namespace hollerith {
namespace {

using testing::JobBuilder;

class CoreTest : public ::testing::Test {
 protected:
  void Init(JobSpec spec) {
    job_ = std::make_shared<const JobSpec>(std::move(spec));
    core_ = std::make_unique<SchedulerCore>(job_, clock_, time_, "coordinator",
                                            RetryPolicy{Duration(100), Duration(1000)});
    core_->Start();
    for (const auto& p : Only<PlaceStackAction>(core_->TakeActions())) {
      core_->StackPlaced(p.stack, p.attempt, "n" + std::to_string(p.stack));
    }
  }
  CardStartedMsg Started(CardRef r, uint32_t try_no = 1, uint32_t attempt = 1) {
    vcs_[r.stack].Tick(r.stack);
    return {r, attempt, try_no, "n", vcs_[r.stack], ++node_lamport_, 0};
  }
  CardFinishedMsg Finished(CardRef r, bool ok, uint32_t try_no = 1, uint32_t attempt = 1) {
    vcs_[r.stack].Tick(r.stack);
    CardFinishedMsg m;
    m.card = r;
    m.attempt = attempt;
    m.try_no = try_no;
    m.node = "n";
    m.vc = vcs_[r.stack];
    m.lamport = ++node_lamport_;
    m.succeeded = ok;
    m.exit_code = ok ? 0 : 3;
    return m;
  }
  void Run(CardRef r, bool ok = true) {
    ASSERT_TRUE(core_->CardStarted(Started(r)));
    ASSERT_TRUE(core_->CardFinished(Finished(r, ok)));
  }

  LamportClock clock_;
  SimulatedTime time_;
  std::shared_ptr<const JobSpec> job_;
  std::unique_ptr<SchedulerCore> core_;
  std::map<uint32_t, VectorClock> vcs_;
  uint64_t node_lamport_ = 100;
};

TEST_F(CoreTest, PlacesEveryUserStackAndAssigns) {
  JobBuilder b("j");
  auto a = b.Stack("A");
  auto s = b.Stack("B");
  b.Card(a, "x");
  b.Card(s, "y");
  job_ = std::make_shared<const JobSpec>(b.Build());
  core_ = std::make_unique<SchedulerCore>(job_, clock_, time_, "coordinator");
  core_->Start();
  auto places = Only<PlaceStackAction>(core_->TakeActions());
  ASSERT_EQ(places.size(), 2u);
  EXPECT_TRUE(core_->StackPlaced(0, 1, "x"));
  auto assigns = Only<AssignStackMsg>(core_->TakeActions());
  ASSERT_EQ(assigns.size(), 1u);
  EXPECT_EQ(assigns[0].node, "x");
  EXPECT_FALSE(core_->StackPlaced(1, 7, "y")) << "a stale attempt must be refused";
}

TEST_F(CoreTest, ReleasesDependentOnFinishWithFinishClock) {
  JobBuilder b("j");
  auto a = b.Stack("A");
  auto s = b.Stack("B");
  auto sum = b.Card(a, "sum");
  auto dbl = b.Card(s, "double", "", {sum});
  Init(b.Build());
  core_->TakeActions();
  ASSERT_TRUE(core_->CardStarted(Started(sum)));
  EXPECT_TRUE(Only<ReleaseMsg>(core_->TakeActions()).empty()) << "no release before finish";
  auto fin = Finished(sum, true);
  ASSERT_TRUE(core_->CardFinished(fin));
  auto releases = Only<ReleaseMsg>(core_->TakeActions());
  ASSERT_EQ(releases.size(), 1u);
  EXPECT_EQ(releases[0].from, sum);
  EXPECT_EQ(releases[0].to, dbl);
  EXPECT_EQ(releases[0].vc, fin.vc);
  EXPECT_GT(releases[0].lamport, fin.lamport) << "the core merged the node's Lamport time";
}

TEST_F(CoreTest, RetriesWithExponentialBackoffThenFails) {
  JobBuilder b("j");
  auto a = b.Stack("A");
  auto c = b.Card(a, "flaky", "", {}, /*retries=*/2);
  Init(b.Build());
  core_->TakeActions();
  std::vector<int64_t> delays;
  for (uint32_t t = 1; t <= 3; ++t) {
    ASSERT_TRUE(core_->CardStarted(Started(c, t)));
    ASSERT_TRUE(core_->CardFinished(Finished(c, false, t)));
    for (const auto& r : Only<RetryMsg>(core_->TakeActions())) {
      EXPECT_EQ(r.next_try, t + 1);
      delays.push_back(r.delay.count());
    }
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{100, 200}));
  EXPECT_EQ(core_->state(), JobState::kFailed);
  EXPECT_EQ(core_->record(c).tries, 3u);
  EXPECT_NE(core_->reason().find("A.flaky failed"), std::string::npos) << core_->reason();
}

TEST_F(CoreTest, FailureSkipsDependentsButIndependentStacksContinue) {
  JobBuilder b("j");
  auto a = b.Stack("A");
  auto s = b.Stack("B");
  auto c = b.Stack("C");
  auto sum = b.Card(a, "sum");
  auto prep = b.Card(s, "prepare");
  auto dbl = b.Card(s, "double", "", {sum});
  auto tail = b.Card(s, "tail");
  auto indep = b.Card(c, "alone");
  b.Combine();
  Init(b.Build());
  core_->TakeActions();
  Run(prep);
  Run(sum, /*ok=*/false);
  auto actions = core_->TakeActions();
  auto skips = Only<SkipMsg>(actions);
  ASSERT_EQ(skips.size(), 1u);
  EXPECT_EQ(skips[0].stack, s);
  EXPECT_EQ(skips[0].from_card, dbl.card);
  EXPECT_EQ(core_->record(dbl).state, CardState::kSkipped);
  EXPECT_EQ(core_->record(tail).state, CardState::kSkipped);
  EXPECT_EQ(core_->record({3, 0}).state, CardState::kSkipped) << "combine never runs";
  EXPECT_EQ(core_->record(prep).state, CardState::kSucceeded);
  EXPECT_EQ(core_->state(), JobState::kRunning) << "stack C is still going";
  Run(indep);
  EXPECT_EQ(core_->state(), JobState::kFailed);
  EXPECT_TRUE(Only<JobFinishedAction>(core_->TakeActions()).size() == 1);
}

TEST_F(CoreTest, CombineIsPlacedOnlyAfterEveryStackWithAllResults) {
  JobBuilder b("j");
  auto a = b.Stack("A");
  auto s = b.Stack("B");
  auto x = b.Card(a, "x");
  auto y = b.Card(s, "y");
  b.Combine();
  Init(b.Build());
  core_->TakeActions();
  Run(x);
  EXPECT_TRUE(Only<PlaceStackAction>(core_->TakeActions()).empty());
  Run(y);
  auto places = Only<PlaceStackAction>(core_->TakeActions());
  ASSERT_EQ(places.size(), 1u);
  EXPECT_EQ(places[0].stack, 2u);
  core_->StackPlaced(2, 1, "n2");
  auto actions = core_->TakeActions();
  auto assigns = Only<AssignStackMsg>(actions);
  ASSERT_EQ(assigns.size(), 1u);
  ASSERT_EQ(assigns[0].results.size(), 2u);
  EXPECT_EQ(assigns[0].results[0].card_name, "A.x");
  EXPECT_EQ(Only<ReleaseMsg>(actions).size(), 2u) << "releases for combine come with placement";
}

TEST_F(CoreTest, LostStackIsReplacedWithNewAttemptAndStaleReportsDropped) {
  JobBuilder b("j");
  auto a = b.Stack("A");
  auto s = b.Stack("B");
  auto x = b.Card(a, "x");
  auto x2 = b.Card(a, "x2");
  auto y = b.Card(s, "y", "", {x});
  Init(b.Build());
  core_->TakeActions();
  Run(x);
  auto first_release = Only<ReleaseMsg>(core_->TakeActions());
  ASSERT_EQ(first_release.size(), 1u);
  ASSERT_TRUE(core_->CardStarted(Started(x2)));
  core_->StackLost(a, "lease expired");
  auto places = Only<PlaceStackAction>(core_->TakeActions());
  ASSERT_EQ(places.size(), 1u);
  EXPECT_EQ(places[0].attempt, 2u);
  EXPECT_FALSE(core_->CardFinished(Finished(x2, true, 1, /*attempt=*/1))) << "stale attempt";
  core_->StackPlaced(a, 2, "other");
  // Attempt 2's clock goes on from what attempt 1's events reached (x2 started at A:3), so its
  // events never repeat a clock of attempt 1's.
  auto replaced = Only<AssignStackMsg>(core_->TakeActions());
  ASSERT_EQ(replaced.size(), 1u);
  VectorClock reached;
  for (int i = 0; i < 3; ++i) reached.Tick(a);
  EXPECT_EQ(replaced[0].vc, reached);
  // Attempt 2 re-runs x: its recorded result stays and it is not released again.
  ASSERT_TRUE(core_->CardStarted(Started(x, 1, 2)));
  ASSERT_TRUE(core_->CardFinished(Finished(x, true, 1, 2)));
  EXPECT_TRUE(Only<ReleaseMsg>(core_->TakeActions()).empty());
  EXPECT_EQ(core_->record(x).finish_vc, first_release[0].vc);
  ASSERT_TRUE(core_->CardStarted(Started(x2, 1, 2)));
  ASSERT_TRUE(core_->CardFinished(Finished(x2, true, 1, 2)));
  Run(y);
  EXPECT_EQ(core_->state(), JobState::kSucceeded);
}

TEST_F(CoreTest, ACardRunningEachTimeItsNodeIsLostIsQuarantinedAfterThreeLosses) {
  JobBuilder b("j");
  auto a = b.Stack("A");
  auto s = b.Stack("B");
  auto ok = b.Card(a, "ok");
  auto boom = b.Card(a, "boom");
  auto later = b.Card(a, "later");
  auto other = b.Card(s, "other");
  auto waits = b.Card(s, "waits", "", {later});
  Init(b.Build());
  core_->TakeActions();
  Run(other);
  // Attempt `attempt` of A runs `ok`, starts `boom`, and loses its node with `cause`.
  auto run_until_lost = [&](uint32_t attempt, SchedulerCore::LossCause cause) {
    if (attempt > 1) {
      ASSERT_TRUE(core_->StackPlaced(a, attempt, "n" + std::to_string(attempt)));
      core_->TakeActions();
    }
    ASSERT_TRUE(core_->CardStarted(Started(ok, 1, attempt)));
    ASSERT_TRUE(core_->CardFinished(Finished(ok, true, 1, attempt)));
    ASSERT_TRUE(core_->CardStarted(Started(boom, 1, attempt)));
    core_->StackLost(a, "lost in attempt " + std::to_string(attempt), cause);
  };
  using Cause = SchedulerCore::LossCause;
  run_until_lost(1, Cause::kCoordinatorRestart);  // nobody's fault: does not count
  EXPECT_EQ(Only<PlaceStackAction>(core_->TakeActions()).size(), 1u);
  run_until_lost(2, Cause::kNodeLost);
  EXPECT_EQ(Only<PlaceStackAction>(core_->TakeActions()).size(), 1u);
  run_until_lost(3, Cause::kNodeLost);
  EXPECT_EQ(Only<PlaceStackAction>(core_->TakeActions()).size(), 1u);
  run_until_lost(4, Cause::kNodeLost);  // the third loss while boom ran
  auto actions = core_->TakeActions();
  EXPECT_TRUE(Only<PlaceStackAction>(actions).empty()) << "not walked through every worker";
  ASSERT_EQ(Only<JobFinishedAction>(actions).size(), 1u);
  EXPECT_EQ(core_->state(), JobState::kFailed);
  EXPECT_NE(core_->reason().find("card A.boom quarantined"), std::string::npos) << core_->reason();
  EXPECT_EQ(core_->record(boom).state, CardState::kFailed);
  EXPECT_EQ(core_->record(later).state, CardState::kSkipped);
  EXPECT_EQ(core_->record(waits).state, CardState::kSkipped);
  EXPECT_EQ(core_->record(ok).state, CardState::kSucceeded);
}

TEST_F(CoreTest, CancelSkipsEverythingAndFinishes) {
  JobBuilder b("j");
  auto a = b.Stack("A");
  b.Card(a, "x");
  b.Card(a, "y");
  Init(b.Build());
  core_->TakeActions();
  core_->Cancel("cancelled by user");
  auto actions = core_->TakeActions();
  EXPECT_EQ(Only<SkipMsg>(actions).size(), 1u);
  ASSERT_EQ(Only<JobFinishedAction>(actions).size(), 1u);
  EXPECT_EQ(core_->state(), JobState::kCancelled);
}

TEST_F(CoreTest, StampsTraceEventsWithTheInjectedWallTime) {
  JobBuilder b("j");
  b.Card(b.Stack("A"), "x");
  Init(b.Build());
  const int64_t placed_at = time_.WallMicros();
  time_.Advance(std::chrono::milliseconds(250));
  Run({0, 0});
  const auto& events = core_->trace().events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().wall_us, placed_at);
  EXPECT_EQ(events.back().wall_us, placed_at + 250'000);
}

}  // namespace
}  // namespace hollerith
