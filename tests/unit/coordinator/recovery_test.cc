// A coordinator restarted on its SQLite store: finished jobs keep results and traces, running ones
// go on (with the next attempt when no worker claims their stacks), idempotency keys still find
// their job, Lamport time never goes back. The "crash" drops the first coordinator without a flush:
// only what was committed survives.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/unit/coordinator/restart_fixture.h"

namespace hollerith::coordinator {
namespace {

using RecoveryTest = RestartFixture;

TEST_F(RecoveryTest, AFinishedJobKeepsItsResultTraceAndKeyAndLamportTimeGoesOn) {
  std::unique_ptr<GroupCommitStore> store;
  auto first = First(store);
  auto x = first->Connect("x");
  const auto submitted = first->SubmitRequest(kTwoStacks, "key-1");
  for (const auto& a : x->assignments()) {
    for (uint32_t c = 0; c < (a.stack() == 0 ? 1u : 2u); ++c) first->RunCard(*x, a, c);
  }
  const v1::JobStatus before = first->JobStatusOf(submitted.job_id());
  ASSERT_EQ(before.state(), "succeeded");
  const std::string trace_before = TraceOf(*first, submitted.job_id());
  uint64_t lamport_before = 0;
  first->Owned([&] { lamport_before = first->coordinator_.clock().now(); });
  first.reset();  // the job's end was committed at once: no flush needed

  auto second = Restart(store);
  const v1::JobStatus after = second->JobStatusOf(submitted.job_id());
  EXPECT_EQ(after.state(), "succeeded");
  EXPECT_EQ(after.result_json(), before.result_json());
  EXPECT_EQ(TraceOf(*second, submitted.job_id()), trace_before);
  uint64_t lamport_after = 0;
  second->Owned([&] { lamport_after = second->coordinator_.clock().now(); });
  EXPECT_GE(lamport_after, lamport_before);
  // The same key still returns the same job; a new job gets a new id.
  const auto again = second->SubmitRequest(kTwoStacks, "key-1");
  EXPECT_TRUE(again.existing());
  EXPECT_EQ(again.job_id(), submitted.job_id());
  const auto fresh = second->SubmitRequest(kTwoStacks, "key-2");
  EXPECT_FALSE(fresh.existing());
  EXPECT_NE(fresh.job_id(), submitted.job_id());
}

TEST_F(RecoveryTest, ARunningJobGoesOnWithTheNextAttemptAndKeepsWhatWasReleased) {
  std::unique_ptr<GroupCommitStore> store;
  auto first = First(store);
  auto x = first->Connect("x");
  const std::string job = first->Submit(kTwoStacks);
  ASSERT_EQ(x->assignments().size(), 2u);
  v1::Assignment a_stack = x->assignments()[0], b_stack = x->assignments()[1];
  if (a_stack.stack() != 0) std::swap(a_stack, b_stack);
  first->RunCard(*x, a_stack, 0);                    // A.sum done, released to B
  first->RunCard(*x, b_stack, 0);                    // B.double done
  time_.Advance(Coordinator::kCommitLinger);         // the group commit
  first->RunCard(*x, b_stack, 1, /*finish=*/false);  // B.last started: not committed, then crash
  first.reset();

  auto second = Restart(store);
  v1::JobStatus st = second->JobStatusOf(job);
  EXPECT_EQ(st.state(), "running");
  EXPECT_EQ(st.cards_done(), 2u) << "A.sum and B.double were committed";
  auto y = second->Connect("y");
  EXPECT_TRUE(y->assignments().empty()) << "B waits for x to claim it";
  // Only B is unfinished: nobody claims it within the claim window, so it is re-placed, from its
  // first card, with attempt 2.
  second->AdvanceAlive(second->coordinator_.claim_window(), {y.get()});
  ASSERT_EQ(y->assignments().size(), 1u);
  const v1::Assignment again = y->assignments()[0];
  EXPECT_EQ(again.stack(), b_stack.stack());
  EXPECT_EQ(again.attempt(), 2u);
  // A.sum's release reaches the new attempt; its recorded result stays.
  ASSERT_EQ(y->releases().size(), 1u);
  EXPECT_EQ(y->releases()[0].attempt(), 2u);
  second->RunCard(*y, again, 0);
  second->RunCard(*y, again, 1);
  st = second->JobStatusOf(job);
  EXPECT_EQ(st.state(), "succeeded");
  EXPECT_EQ(st.cards_done(), 3u);
}

TEST_F(RecoveryTest, ACorruptStoreIsAnErrorNotAnEmptyStore) {
  dir_.Write("jobs.db", std::string(8192, 'x'));
  auto store = OpenSqliteStore(dir_.path() + "/jobs.db", SyncMode::kNormal);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(store.message().find("jobs.db"), std::string::npos) << store.message();
}

}  // namespace
}  // namespace hollerith::coordinator
