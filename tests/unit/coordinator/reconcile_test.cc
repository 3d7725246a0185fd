// Reconciliation after a coordinator restart, on simulated time: a worker that claims the stack it
// still runs keeps it under its attempt (and is told again the releases it needs), a stack nobody
// claims within the claim window is re-placed with the next attempt, a claim for a stale attempt
// or a stack already re-placed is dropped, a claim whose events do not continue the record is
// dropped and re-placed, and a card finish that arrives twice is recorded and released once, also
// across a second crash.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/coordinator/restart_fixture.h"

namespace hollerith::coordinator {
namespace {

// How many trace events of `kind` the job's trace has (for releases: of A.sum -> B.double).
int CountEvents(const std::string& trace_json, const std::string& kind) {
  auto doc = nlohmann::json::parse(trace_json);
  int n = 0;
  for (const auto& e : doc["traceEvents"]) n += e["args"].value("kind", "") == kind;
  return n;
}

v1::HeldStack Held(const v1::Assignment& a, uint32_t attempt) {
  v1::HeldStack h;
  h.set_job_id(a.job_id());
  h.set_stack(a.stack());
  h.set_attempt(attempt);
  h.set_epoch(1);
  return h;
}

struct Placed {
  v1::Assignment a, b;  // stacks A and B as first assigned
};

Placed Split(const std::vector<v1::Assignment>& assignments) {
  Placed p;
  for (const auto& as : assignments) (as.stack() == 0 ? p.a : p.b) = as;
  return p;
}

nlohmann::json Card(Harness& h, const std::string& job, const std::string& card) {
  return nlohmann::json::parse(h.JobStatusOf(job).result_json())["cards"][card];
}

// A.sum done and released, B.double started, all committed; then the coordinator crashes.
struct Crashed {
  std::string job;
  Placed placed;
};
Crashed RunUntilBDoubleStarted(Harness& first, SimulatedTime& time) {
  auto x = first.Connect("x");
  Crashed c;
  c.job = first.Submit(kTwoStacks);
  c.placed = Split(x->assignments());
  first.RunCard(*x, c.placed.a, 0);
  first.RunCard(*x, c.placed.b, 0, /*finish=*/false);
  time.Advance(Coordinator::kCommitLinger);  // the group commit
  return c;
}

// A on x, B on y (placement spreads); A.sum started, committed; then the crash.
Crashed RunUntilASumStartedOnX(Harness& first, SimulatedTime& time) {
  auto x = first.Connect("x");
  auto y = first.Connect("y");
  Crashed c;
  c.job = first.Submit(kTwoStacks);
  c.placed.a = x->assignments().at(0);
  c.placed.b = y->assignments().at(0);
  EXPECT_EQ(c.placed.a.stack(), 0u);
  first.RunCard(*x, c.placed.a, 0, /*finish=*/false);
  time.Advance(Coordinator::kCommitLinger);
  return c;
}

class ReconcileTest : public RestartFixture {
 protected:
  // Runs `before` on a first coordinator, crashes it (only what it committed survives) and
  // starts a second one on the same store.
  std::unique_ptr<Harness> AfterACrash(Crashed (*before)(Harness&, SimulatedTime&), Crashed* c) {
    auto first = First(store_);
    *c = before(*first, time_);
    first.reset();
    return Restart(store_);
  }
  std::unique_ptr<GroupCommitStore> store_;
};

TEST_F(ReconcileTest, AClaimedStackKeepsRunningUnderItsAttemptAndGetsItsReleasesAgain) {
  Crashed c;
  auto second = AfterACrash(RunUntilBDoubleStarted, &c);
  EXPECT_EQ(second->coordinator_.unclaimed_stacks(), 1u) << "B (A is done)";
  // x comes back holding B (attempt 1); B.double finished while the coordinator was away. The
  // hello replays B.double's start (recorded already) and its finish (news).
  v1::Hello hello;
  *hello.add_held() = Held(c.placed.b, 1);
  *hello.add_started() = Harness::Started(c.placed.b, 0, 2000);
  *hello.add_finished() = Harness::Finished(c.placed.b, 0, 2001);
  auto x = second->Connect("x", hello);
  EXPECT_EQ(second->coordinator_.unclaimed_stacks(), 0u);
  EXPECT_TRUE(x->drops().empty());
  EXPECT_TRUE(x->assignments().empty()) << "B stays where it runs: no re-placement";
  // The release B.double needed is sent again (not traced again), to attempt 1.
  ASSERT_EQ(x->releases().size(), 1u);
  EXPECT_EQ(x->releases()[0].attempt(), 1u);
  EXPECT_EQ(second->JobStatusOf(c.job).cards_done(), 2u);

  // The claim window passes: nothing is re-placed; B goes on and the job ends.
  second->AdvanceAlive(second->coordinator_.claim_window() + 100ms, {x.get()});
  EXPECT_TRUE(x->assignments().empty());
  v1::Assignment b = c.placed.b;
  second->RunCard(*x, b, 1);
  EXPECT_EQ(second->JobStatusOf(c.job).state(), "succeeded");
  EXPECT_EQ(Card(*second, c.job, "B.double")["attempts"], 1) << "ran once";
  const std::string trace = TraceOf(*second, c.job);
  EXPECT_EQ(CountEvents(trace, "stack_lost"), 0);
  EXPECT_EQ(CountEvents(trace, "release"), 1);
  EXPECT_EQ(CountEvents(trace, "card_started"), 3) << "one start per card";
}

TEST_F(ReconcileTest, AStackNobodyClaimsIsReplacedAfterTheWindowAndALateClaimIsDropped) {
  Crashed c;
  auto second = AfterACrash(RunUntilBDoubleStarted, &c);
  auto y = second->Connect("y");
  second->AdvanceAlive(second->coordinator_.claim_window() - 100ms, {y.get()});
  EXPECT_TRUE(y->assignments().empty()) << "within the window B waits for x";
  second->AdvanceAlive(200ms, {y.get()});
  ASSERT_EQ(y->assignments().size(), 1u);
  const v1::Assignment again = y->assignments()[0];
  EXPECT_EQ(again.stack(), c.placed.b.stack());
  EXPECT_EQ(again.attempt(), 2u);

  // x comes back after the window, claiming B under attempt 1: told to drop it.
  v1::Hello hello;
  *hello.add_held() = Held(c.placed.b, 1);
  *hello.add_finished() = Harness::Finished(c.placed.b, 0, 2001);
  auto x = second->Connect("x", hello);
  ASSERT_EQ(x->drops().size(), 1u);
  EXPECT_EQ(x->drops()[0].attempt(), 1u);
  EXPECT_NE(x->drops()[0].reason().find("stale attempt"), std::string::npos)
      << x->drops()[0].reason();
  EXPECT_TRUE(x->assignments().empty());
  EXPECT_EQ(second->JobStatusOf(c.job).cards_done(), 1u) << "the stale finish is not recorded";

  second->RunCard(*y, again, 0);
  second->RunCard(*y, again, 1);
  EXPECT_EQ(second->JobStatusOf(c.job).state(), "succeeded");
}

TEST_F(ReconcileTest, AClaimForAStaleAttemptIsDroppedAndTheStackReplaced) {
  Crashed c;
  auto second = AfterACrash(RunUntilBDoubleStarted, &c);
  v1::Hello hello;
  *hello.add_held() = Held(c.placed.b, 7);  // not the attempt B is placed under
  auto x = second->Connect("x", hello);
  ASSERT_EQ(x->drops().size(), 1u);
  EXPECT_EQ(x->drops()[0].attempt(), 7u);
  // x does not hold attempt 1 then: B is lost with x's old run and placed again (here, on x).
  ASSERT_EQ(x->assignments().size(), 1u);
  EXPECT_EQ(x->assignments()[0].attempt(), 2u);
  EXPECT_EQ(second->coordinator_.unclaimed_stacks(), 0u);
}

TEST_F(ReconcileTest, AClaimWhoseEventsSkipWhatTheRecordLacksIsDroppedAndReplaced) {
  Crashed c;
  auto second = AfterACrash(RunUntilBDoubleStarted, &c);
  // B.last started, but the record never saw B.double finish: the claim cannot be trusted.
  v1::Hello hello;
  *hello.add_held() = Held(c.placed.b, 1);
  *hello.add_started() = Harness::Started(c.placed.b, 1, 2002);
  auto x = second->Connect("x", hello);
  ASSERT_EQ(x->drops().size(), 1u);
  EXPECT_NE(x->drops()[0].reason().find("do not continue"), std::string::npos);
  ASSERT_EQ(x->assignments().size(), 1u);
  EXPECT_EQ(x->assignments()[0].attempt(), 2u);
  EXPECT_EQ(CountEvents(TraceOf(*second, c.job), "card_started"), 2) << "B.last's start dropped";
}

// y received A.sum's release just before the crash, but the record never got A.sum's finish:
// y's claim leans on what was lost, so it is dropped and B re-placed.
TEST_F(ReconcileTest, AClaimReleasedByAFinishTheRecordLacksIsDropped) {
  Crashed c;
  auto second = AfterACrash(RunUntilASumStartedOnX, &c);
  v1::Hello hello;  // y holds B
  *hello.add_held() = Held(c.placed.b, 1);
  auto* from = hello.mutable_held(0)->add_released_from();
  from->set_stack(c.placed.a.stack());
  from->set_card(0);
  auto y2 = second->Connect("y", hello);
  ASSERT_EQ(y2->drops().size(), 1u);
  EXPECT_NE(y2->drops()[0].reason().find("not recorded as done"), std::string::npos)
      << y2->drops()[0].reason();
  ASSERT_EQ(y2->assignments().size(), 1u) << "B re-placed";
  EXPECT_EQ(y2->assignments()[0].attempt(), 2u);
  EXPECT_EQ(second->JobStatusOf(c.job).state(), "running");
}

// A.sum started (committed) on x, which also holds B; the crash then loses A.sum's finish and the
// release the old coordinator sent for it.
Crashed RunUntilASumStartedWithEarlyLamports(Harness& first, SimulatedTime& time) {
  auto x = first.Connect("x");
  Crashed c;
  c.job = first.Submit(kTwoStacks);
  c.placed = Split(x->assignments());
  v1::WorkerMessage started;
  *started.add_started() = Harness::Started(c.placed.a, 0, 1);
  first.Send(*x, started);
  time.Advance(Coordinator::kCommitLinger);
  return c;
}

// x comes back replaying A.sum's finish and B.double's start, which it made after the release the
// old coordinator sent. The record's release is made anew now, later in Lamport time than that
// start: keeping B would leave a trace whose ordering proof fails, so B's claim is dropped and B
// runs again (A's claim stands).
TEST_F(ReconcileTest, AStartBeforeTheReleaseTheRecordMadeAnewIsNotKept) {
  Crashed c;
  auto second = AfterACrash(RunUntilASumStartedWithEarlyLamports, &c);
  v1::Hello hello;
  *hello.add_held() = Held(c.placed.a, 1);
  hello.mutable_held(0)->set_ended(true);
  *hello.add_held() = Held(c.placed.b, 1);
  *hello.add_finished() = Harness::Finished(c.placed.a, 0, 2);
  *hello.add_started() = Harness::Started(c.placed.b, 0, 3);
  auto x = second->Connect("x", hello);
  ASSERT_EQ(x->drops().size(), 1u);
  EXPECT_EQ(x->drops()[0].stack(), c.placed.b.stack());
  EXPECT_NE(x->drops()[0].reason().find("do not continue"), std::string::npos);
  ASSERT_EQ(x->assignments().size(), 1u) << "B placed again";
  EXPECT_EQ(x->assignments()[0].attempt(), 2u);
  EXPECT_EQ(Card(*second, c.job, "A.sum")["state"], "succeeded");
  EXPECT_EQ(CountEvents(TraceOf(*second, c.job), "card_started"), 1) << "B.double's start dropped";
}

TEST_F(ReconcileTest, AFinishArrivingTwiceIsRecordedAndReleasedOnceAlsoAcrossASecondCrash) {
  Crashed c;
  auto second = AfterACrash(RunUntilASumStartedOnX, &c);
  const std::string job = c.job;
  const v1::Assignment a = c.placed.a, b = c.placed.b;

  // A.sum finished while the coordinator was away: x's hello carries it; y claims B.
  v1::Hello hello_x;
  *hello_x.add_held() = Held(a, 1);
  hello_x.mutable_held(0)->set_ended(true);
  *hello_x.add_started() = Harness::Started(a, 0, 1500);
  *hello_x.add_finished() = Harness::Finished(a, 0, 1501);
  v1::Hello hello_y;
  *hello_y.add_held() = Held(b, 1);
  auto y2 = second->Connect("y", hello_y);
  auto x2 = second->Connect("x", hello_x);
  EXPECT_TRUE(x2->drops().empty());
  EXPECT_TRUE(y2->drops().empty());
  ASSERT_EQ(y2->releases().size(), 1u) << "A.sum released to B once";
  // The same finish again, as a worker re-sending what it is unsure of: dropped.
  v1::WorkerMessage again;
  *again.add_finished() = Harness::Finished(a, 0, 1501);
  second->Send(*x2, again);
  EXPECT_EQ(y2->releases().size(), 1u);
  EXPECT_EQ(CountEvents(TraceOf(*second, job), "release"), 1);
  EXPECT_EQ(CountEvents(TraceOf(*second, job), "card_finished"), 1);
  time_.Advance(Coordinator::kCommitLinger);

  // A second crash in the middle of it: the finish was journaled once, and the same hellos
  // again change nothing.
  second.reset();
  auto third = Restart(store_);
  auto y3 = third->Connect("y", hello_y);
  auto x3 = third->Connect("x", hello_x);
  EXPECT_TRUE(x3->drops().empty());
  EXPECT_TRUE(y3->drops().empty());
  ASSERT_EQ(y3->releases().size(), 1u) << "re-sent to the reconnected holder, not re-decided";
  EXPECT_EQ(CountEvents(TraceOf(*third, job), "release"), 1);
  EXPECT_EQ(CountEvents(TraceOf(*third, job), "card_finished"), 1);
  third->RunCard(*y3, b, 0);
  third->RunCard(*y3, b, 1);
  EXPECT_EQ(third->JobStatusOf(job).state(), "succeeded");
  EXPECT_EQ(Card(*third, job, "A.sum")["attempts"], 1);
}

}  // namespace
}  // namespace hollerith::coordinator
