#include "common/trace/verify.h"

#include <gtest/gtest.h>

#include "tests/support/job_builder.h"

namespace hollerith {
namespace {

// B.y waits on A.x. A's stack is re-placed after A.x was released and runs again from its first
// card: the re-run's finish carries the same clock (its counters start again) but comes later.
class VerifyAfterReplacement : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::JobBuilder b("j");
    const uint32_t a = b.Stack("A"), s = b.Stack("B");
    x_ = b.Card(a, "x");
    y_ = b.Card(s, "y", "", {x_});
    job_ = b.Build();
  }
  void Add(EventKind kind, CardRef card, uint32_t attempt, uint64_t lamport, VectorClock vc,
           CardRef target = {}) {
    TraceEvent e;
    e.kind = kind;
    e.card = card;
    e.target = target;
    e.attempt = attempt;
    e.lamport = lamport;
    e.vc = std::move(vc);
    e.node = trace_.NodeIndex("n");
    trace_.Add(std::move(e));
  }
  void OriginalRun() {
    Add(EventKind::kCardStarted, x_, 1, 1, VectorClock({{0, 1}}));
    Add(EventKind::kCardFinished, x_, 1, 2, VectorClock({{0, 2}}));
    Add(EventKind::kRelease, x_, 1, 3, VectorClock({{0, 2}}), y_);
  }

  JobSpec job_;
  Trace trace_;
  CardRef x_, y_;
};

TEST_F(VerifyAfterReplacement, AReRunWithTheSameClockDoesNotHideTheFinishThatWasReleased) {
  OriginalRun();
  Add(EventKind::kCardStarted, y_, 1, 4, VectorClock({{0, 2}, {1, 1}}));
  Add(EventKind::kCardStarted, x_, 2, 5, VectorClock({{0, 1}}));  // A re-placed, runs again
  Add(EventKind::kCardFinished, x_, 2, 6, VectorClock({{0, 2}}));
  Add(EventKind::kCardFinished, y_, 1, 7, VectorClock({{0, 2}, {1, 2}}));
  auto report = VerifyTrace(job_, trace_);
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_EQ(report->edges_checked, 1u);
}

TEST_F(VerifyAfterReplacement, AStartOfANewAttemptIsCheckedAgainstTheReleaseOfThatAttempt) {
  OriginalRun();
  Add(EventKind::kRelease, x_, 2, 8, VectorClock({{0, 2}}), y_);  // B re-placed: released again
  Add(EventKind::kCardStarted, y_, 2, 7, VectorClock({{0, 2}, {1, 1}}));  // before its release
  auto report = VerifyTrace(job_, trace_);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.message().find("finish < release < start"), std::string::npos)
      << report.message();
}

TEST_F(VerifyAfterReplacement, AStartWithoutTheReleasedClockFails) {
  OriginalRun();
  Add(EventKind::kCardStarted, y_, 1, 4, VectorClock({{1, 1}}));  // never merged A's clock
  auto report = VerifyTrace(job_, trace_);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.message().find("VC(finish A.x) is not < VC(start B.y)"), std::string::npos)
      << report.message();
}

}  // namespace
}  // namespace hollerith
