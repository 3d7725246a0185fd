// The coordinator's logic on simulated time: leases, the publish linger, re-placement, fencing.
// No gRPC: workers and watchers are outboxes whose writes the test records, and time moves only
// when the test advances it.
#include "coordinator/coordinator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/coordinator/harness.h"

namespace hollerith::coordinator {
namespace {

class CoordinatorTest : public ::testing::Test, protected MemoryStoreAndTime, protected Harness {
 protected:
  CoordinatorTest() : Harness(memory_store_, simulated_time_) {}
};

constexpr const char* kOneStack = R"(name: one
stacks:
  A:
    cards:
      - id: a1
        builtin: noop
      - id: a2
        builtin: noop
)";

constexpr const char* kTwoStacks = R"(name: two
stacks:
  A:
    node: x
    cards:
      - id: sum
        builtin: noop
  B:
    node: y
    cards:
      - id: double
        after: [A.sum]
        builtin: noop
)";

TEST_F(CoordinatorTest, AWorkerSilentForItsLeaseIsDroppedAndOneThatHeartbeatsStays) {
  coordinator_.Start();
  auto quiet = Connect("quiet");
  auto chatty = Connect("chatty");
  ASSERT_EQ(quiet->stream.written.size(), 1u);
  EXPECT_EQ(quiet->stream.written[0].welcome().heartbeat_ms(), 100u);
  for (int i = 0; i < 3; ++i) {
    time_.Advance(100ms);
    Heartbeat(*chatty);
  }
  // 300 ms without a word is the lease, not yet past it.
  EXPECT_EQ(WorkerNames(), (std::vector<std::string>{"chatty", "quiet"}));
  EXPECT_FALSE(quiet->stream.finished.has_value());
  time_.Advance(100ms);
  Heartbeat(*chatty);
  EXPECT_EQ(WorkerNames(), (std::vector<std::string>{"chatty"}));
  ASSERT_TRUE(quiet->stream.finished.has_value());
  EXPECT_EQ(quiet->stream.finished->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(quiet->stream.finished->error_message(), "lease expired");
  EXPECT_FALSE(chatty->stream.finished.has_value());
}

// A message that arrived and waits for the state (the coordinator was busy placing, say) is a
// sign of life: the lease holds until it is applied, and runs from then on.
TEST_F(CoordinatorTest, ALeaseHoldsWhileAMessageOfTheWorkerWaitsForTheState) {
  coordinator_.Start();
  auto busy = Connect("busy");
  auto waiting = std::make_shared<std::atomic<int>>(1);
  Owned([&] { busy->link->unapplied = waiting; });
  time_.Advance(500ms);  // past the 300 ms lease, with its message still waiting
  EXPECT_EQ(WorkerNames(), (std::vector<std::string>{"busy"}));
  EXPECT_FALSE(busy->stream.finished.has_value());
  waiting->store(0);
  Heartbeat(*busy);  // the message is applied: the lease runs from now
  time_.Advance(300ms);
  EXPECT_EQ(WorkerNames(), (std::vector<std::string>{"busy"}));
  time_.Advance(100ms);
  EXPECT_EQ(WorkerNames(), std::vector<std::string>{});
  ASSERT_TRUE(busy->stream.finished.has_value());
  EXPECT_EQ(busy->stream.finished->error_message(), "lease expired");
}

TEST_F(CoordinatorTest, AStackOfAWorkerThatMissedItsLeaseIsRePlacedWithTheNextAttempt) {
  coordinator_.Start();
  auto x = Connect("x");
  const std::string job = Submit(kOneStack);
  ASSERT_EQ(x->assignments().size(), 1u);
  const v1::Assignment first = x->assignments()[0];
  EXPECT_EQ(first.attempt(), 1u);
  RunCard(*x, first, 0);  // a1 done on x; x then goes silent
  auto y = Connect("y");
  EXPECT_TRUE(y->assignments().empty());
  for (int i = 0; i < 4; ++i) {
    time_.Advance(100ms);
    Heartbeat(*y);
  }
  ASSERT_EQ(y->assignments().size(), 1u);
  const v1::Assignment second = y->assignments()[0];
  EXPECT_EQ(second.stack(), first.stack());
  EXPECT_EQ(second.attempt(), 2u);
  // From the stack's first card again (the workspace died with the node): a1 runs again.
  RunCard(*y, second, 0);
  RunCard(*y, second, 1);
  v1::JobStatus st = JobStatusOf(job);
  EXPECT_EQ(st.state(), "succeeded");
  EXPECT_EQ(st.cards_done(), 2u);
  // A late report of the old attempt is dropped: x is gone, and its epoch with it.
  RunCard(*x, first, 1);
  EXPECT_EQ(JobStatusOf(job).state(), "succeeded");
}

// GetJob without results: the stacks' statuses, no result document (what `hollerith top` and the
// web view's cluster page read); by default both.
TEST_F(CoordinatorTest, GetJobWithoutResultsHasTheStacksAndNoResultDocument) {
  coordinator_.Start();
  auto x = Connect("x");
  const std::string job = Submit(kOneStack);
  const v1::JobStatus full = JobStatusOf(job);
  ASSERT_EQ(full.stacks_size(), 1);
  EXPECT_FALSE(full.result_json().empty());
  EXPECT_EQ(full.card_order_size(), 2);
  v1::JobStatus stacks;
  Owned([&] {
    EXPECT_TRUE(
        coordinator_.GetJob(job, &stacks, /*with_graph=*/false, /*with_results=*/false).ok());
  });
  ASSERT_EQ(stacks.stacks_size(), 1);
  EXPECT_EQ(stacks.stacks(0).node(), "x");
  EXPECT_EQ(stacks.state(), full.state());
  EXPECT_EQ(stacks.cards_total(), 2u);
  EXPECT_TRUE(stacks.result_json().empty());
  EXPECT_EQ(stacks.card_order_size(), 0);
}

TEST_F(CoordinatorTest, AWorkersPlacedStacksAreListedByJobThenStack) {
  // Its books order them by stack first (cheaper lookups); the listing still groups by job.
  coordinator_.Start();
  auto x = Connect("x");
  constexpr const char* kThree = R"(name: three
stacks:
  s0: {cards: [{id: c, builtin: noop}]}
  s1: {cards: [{id: c, after: [s0.c], builtin: noop}]}
  s2: {cards: [{id: c, after: [s1.c], builtin: noop}]}
)";
  const std::string first = Submit(kThree);
  const std::string second = Submit(kThree);
  v1::ListWorkersResponse listed;
  Owned([&] { coordinator_.ListWorkers(&listed); });
  ASSERT_EQ(listed.workers_size(), 1);
  std::vector<std::string> placed;
  for (const auto& p : listed.workers(0).placed_stacks())
    placed.push_back(p.job_id() + "/" + p.stack());
  EXPECT_EQ(placed, (std::vector<std::string>{first + "/s0", first + "/s1", first + "/s2",
                                              second + "/s0", second + "/s1", second + "/s2"}));
  EXPECT_EQ(listed.workers(0).stacks(), 6u);
}

TEST_F(CoordinatorTest, WatchersGetARunningJobsEventsAfterTheLingerInOneBatchAndItsEndAtOnce) {
  coordinator_.Start();
  auto x = Connect("x");
  auto y = Connect("y");
  const std::string job = Submit(kTwoStacks);
  RecordedStream<v1::JobEventBatch> watch;
  auto events = [&] {
    std::vector<v1::JobEvent> all;
    for (const auto& b : watch.written) all.insert(all.end(), b.events().begin(), b.events().end());
    return all;
  };
  Owned([&] { ASSERT_TRUE(coordinator_.Watch(job, 0, watch.outbox).ok()); });
  const size_t history = events().size();  // the history so far, at once
  EXPECT_GE(history, 3u);                  // submitted, two placements

  ASSERT_EQ(x->assignments().size(), 1u);
  const v1::Assignment a = x->assignments()[0];
  RunCard(*x, a, 0, /*finish=*/false);
  EXPECT_EQ(events().size(), history) << "a running job's events wait for the linger";
  time_.Advance(EventPublisher::kPublishLinger - 1ms);
  EXPECT_EQ(events().size(), history);
  const size_t messages = watch.written.size();
  time_.Advance(1ms);
  ASSERT_EQ(events().size(), history + 1);
  EXPECT_EQ(watch.written.size(), messages + 1);
  EXPECT_EQ(events().back().kind(), "card_started");

  // A.sum finishes: its release goes to y, the holder of B, at once (not paced by the linger).
  RunCard(*x, a, 0);
  ASSERT_EQ(y->releases().size(), 1u);
  EXPECT_EQ(y->releases()[0].from().stack(), a.stack());

  ASSERT_EQ(y->assignments().size(), 1u);
  RunCard(*y, y->assignments()[0], 0);
  // The job ended: everything up to its end is out without advancing time, and the stream closed.
  const auto all = events();
  EXPECT_EQ(all.back().kind(), "job_finished");
  EXPECT_EQ(all.back().job_state(), "succeeded");
  size_t finished_cards = 0;
  for (const auto& e : all) finished_cards += e.kind() == "card_finished";
  EXPECT_EQ(finished_cards, 2u);
  ASSERT_TRUE(watch.finished.has_value());
  EXPECT_TRUE(watch.finished->ok());
}

TEST_F(CoordinatorTest, AStackPinnedToAnAbsentWorkerWaitsAndIsPlacedWhenItConnects) {
  coordinator_.Start();
  auto x = Connect("x");
  const std::string job = Submit(kTwoStacks);
  v1::JobStatus st = JobStatusOf(job);
  ASSERT_EQ(st.stacks_size(), 2);
  EXPECT_EQ(st.stacks(1).state(), "unplaced");
  EXPECT_FALSE(st.stacks(1).waiting().empty());
  auto y = Connect("y");
  ASSERT_EQ(y->assignments().size(), 1u);
  EXPECT_EQ(JobStatusOf(job).stacks(1).node(), "y");
}

TEST_F(CoordinatorTest, AReportFromAStaleEpochOrAWorkerNotHoldingTheStackIsDropped) {
  coordinator_.Start();
  auto x = Connect("x");
  auto y = Connect("y");
  const std::string job = Submit(kTwoStacks);
  const v1::Assignment a = x->assignments()[0];
  // y does not hold A: its report of A.sum must not count.
  RunCard(*y, a, 0);
  EXPECT_EQ(JobStatusOf(job).cards_done(), 0u);
  EXPECT_EQ(y->link->dropped_reports, 2u) << "its start and finish were dropped, and counted";
  // x reports with an old epoch: dropped as well.
  v1::WorkerMessage stale;
  CardStartedMsg s{{a.stack(), 0}, a.attempt(), 1, "x", VectorClock({{a.stack(), 1}}), 5000, 0};
  wire::ToProto(a.job_id(), s, stale.add_started());
  stale.set_epoch(x->link->epoch + 7);
  Owned([&] { coordinator_.WorkerMessage(x->link, stale); });
  EXPECT_EQ(JobStatusOf(job).stacks(0).state(), "waiting");
  EXPECT_EQ(x->link->dropped_reports, 1u);
  RunCard(*x, a, 0);
  EXPECT_EQ(JobStatusOf(job).cards_done(), 1u);
}

TEST_F(CoordinatorTest, ClientErrorsCarryCodes) {
  v1::JobStatus st;
  Status s;
  Owned([&] { s = coordinator_.GetJob("nope", &st); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  Submit(kOneStack);
  Submit(kOneStack);
  Owned([&] { s = coordinator_.GetJob("one", &st); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("ambiguous"), std::string::npos);
  auto log = std::make_shared<LogOutbox>();
  v1::ReadLogRequest req;
  req.set_job("one-1");
  req.set_card("A.nope");
  Owned([&] { s = coordinator_.ReadLog(req, log); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  req.set_card("A.a1");
  Owned([&] { s = coordinator_.ReadLog(req, log); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

TEST_F(CoordinatorTest, AFollowedLogIsServedTheMomentItsCardFinishes) {
  coordinator_.Start();
  auto x = Connect("x");
  const std::string job = Submit(kOneStack);
  RecordedStream<v1::LogChunk> log;
  v1::ReadLogRequest req;
  req.set_job(job);
  req.set_card("A.a1");
  req.set_follow(true);
  Owned([&] { ASSERT_TRUE(coordinator_.ReadLog(req, log.outbox).ok()); });
  EXPECT_TRUE(log.written.empty());
  RunCard(*x, x->assignments()[0], 0);
  ASSERT_EQ(log.written.size(), 2u);  // its output, then the end of the card with its exit code
  EXPECT_EQ(log.written[0].stream(), "stdout");
  EXPECT_EQ(log.written[0].data(), "out of 0");
  EXPECT_TRUE(log.written[1].card_ended());
  EXPECT_EQ(log.written[1].exit_code(), 0);
  EXPECT_EQ(log.written[1].state(), "succeeded");
  ASSERT_TRUE(log.finished.has_value());
  EXPECT_TRUE(log.finished->ok());
}

TEST(CoordinatorRetention, AFinishedJobIsRemovedWhenItsRetentionEndsAndDeleteRemovesItAtOnce) {
  MemoryJobStore store;
  SimulatedTime time;
  CoordinatorConfig config = Harness::Config();
  config.heartbeat = std::chrono::hours(1);  // few lease checks over the days simulated here
  config.retention = std::chrono::hours(48);
  Harness h(store, time, config);
  h.coordinator_.Start();
  auto x = h.Connect("x");
  const std::string kept = h.Submit(kOneStack);
  const std::string running = h.Submit(kOneStack);
  for (const auto& a : x->assignments()) {
    if (a.job_id() != kept) continue;
    h.RunCard(*x, a, 0);
    h.RunCard(*x, a, 1);
  }
  ASSERT_EQ(h.JobStatusOf(kept).state(), "succeeded");
  Status s;
  v1::DeleteJobResponse deleted;
  h.Owned([&] { s = h.coordinator_.Delete(running, &deleted); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << "a running job is cancelled first";
  v1::JobStatus st;
  time.Advance(std::chrono::hours(24));
  h.Owned([&] { s = h.coordinator_.GetJob(kept, &st); });
  EXPECT_TRUE(s.ok()) << "kept within its retention";
  time.Advance(std::chrono::hours(30));
  h.Owned([&] { s = h.coordinator_.GetJob(kept, &st); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << "removed after its retention";
  h.Owned([&] { s = h.coordinator_.GetJob(running, &st); });
  EXPECT_TRUE(s.ok()) << "a running job is never removed";
  v1::CancelJobResponse cancelled;
  h.Owned([&] { s = h.coordinator_.Cancel(running, &cancelled); });
  ASSERT_TRUE(s.ok());
  h.Owned([&] { s = h.coordinator_.Delete(running, &deleted); });
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(deleted.job_id(), running);
  h.Owned([&] { s = h.coordinator_.GetJob(running, &st); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST(CoordinatorOwnership, TouchingTheStateWithoutOwningItIsCaught) {
  asio::io_context loop;
  SimulatedTime time;
  MemoryJobStore store;
  Coordinator c(loop, time, CoordinatorConfig{}, store);
  v1::ListJobsResponse resp;
  EXPECT_DEATH(c.ListJobs(&resp), "not owning it");
}

TEST_F(CoordinatorTest, ACombinesReleasesLeaveAsOnePackedReleaseWithTheMergedClock) {
  coordinator_.Start();
  auto x = Connect("x");
  const std::string job = Submit(R"(name: fanin
stacks:
  s0: {cards: [{id: c, builtin: noop}]}
  s1: {cards: [{id: c, builtin: noop}]}
  s2: {cards: [{id: c, builtin: noop}]}
combine: {builtin: noop}
)");
  ASSERT_EQ(x->assignments().size(), 3u);
  for (const v1::Assignment& a : x->assignments()) RunCard(*x, a, 0);
  ASSERT_EQ(x->assignments().size(), 4u) << "the combine is placed once its stacks are done";
  const v1::Assignment combine = x->assignments()[3];
  EXPECT_EQ(combine.stack(), 3u);

  // One release from s0.c (the first), with s1.c and s2.c packed in: every card it waits for.
  const auto releases = x->releases();
  ASSERT_EQ(releases.size(), 1u);
  const v1::Release& r = releases[0];
  EXPECT_EQ(r.to().stack(), 3u);
  EXPECT_EQ(r.attempt(), combine.attempt());
  std::set<uint32_t> from{r.from().stack()};
  ASSERT_EQ(r.also_from_stacks_size(), 2);
  ASSERT_EQ(r.also_from_cards_size(), 2);
  for (int i = 0; i < 2; ++i) {
    from.insert(r.also_from_stacks(i));
    EXPECT_EQ(r.also_from_cards(i), 0u);
  }
  EXPECT_EQ(from, (std::set<uint32_t>{0, 1, 2}));
  // The clock is the three finishes' clocks merged (each ticked its stack twice), and the Lamport
  // time is not before the last of the three releases the core decided.
  EXPECT_EQ(std::vector<uint32_t>(r.vc().stacks().begin(), r.vc().stacks().end()),
            (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(std::vector<uint64_t>(r.vc().counters().begin(), r.vc().counters().end()),
            (std::vector<uint64_t>{2, 2, 2}));
  EXPECT_GT(r.lamport(), x->lamport);

  // The record keeps a release per dependency (what verify checks), and the job ends.
  RunCard(*x, combine, 0);
  EXPECT_EQ(JobStatusOf(job).state(), "succeeded");
  RecordedStream<v1::JobEventBatch> watch;
  Owned([&] { ASSERT_TRUE(coordinator_.Watch(job, 0, watch.outbox).ok()); });
  size_t traced = 0;
  for (const auto& b : watch.written) {
    for (const auto& e : b.events()) traced += e.kind() == EventKindName(EventKind::kRelease);
  }
  EXPECT_EQ(traced, 3u);
}

TEST_F(CoordinatorTest, ASlowWatcherGetsEveryEventOnceInOrderAndHoldsAtMostItsQueue) {
  coordinator_.Start();
  auto x = Connect("x");
  std::string yaml = "name: long\nstacks:\n  A:\n    cards:\n";
  for (int i = 0; i < 6500; ++i)
    yaml += "      - {id: c" + std::to_string(i) + ", builtin: noop}\n";
  const std::string job = Submit(yaml);
  ASSERT_EQ(x->assignments().size(), 1u);
  const v1::Assignment a = x->assignments()[0];
  for (uint32_t c = 0; c < 6500; ++c) RunCard(*x, a, c);
  ASSERT_EQ(JobStatusOf(job).state(), "succeeded");
  auto events_of = [](const std::vector<v1::JobEventBatch>& batches) {
    std::vector<uint64_t> lamports;
    for (const auto& b : batches) {
      for (const auto& e : b.events()) lamports.push_back(e.lamport());
    }
    return lamports;
  };
  RecordedStream<v1::JobEventBatch> fast;  // each write done at once
  Owned([&] { ASSERT_TRUE(coordinator_.Watch(job, 0, fast.outbox).ok()); });
  const std::vector<uint64_t> all = events_of(fast.written);
  ASSERT_GT(all.size(), 3 * EventPublisher::kEventsPerBatch);

  // A stream whose writes finish when the test says: the 13,000 events of history go out in
  // batches built apart from the queue (Outbox::Push), never more than its limit queued.
  auto slow = std::make_shared<JobEventOutbox>();
  std::vector<v1::JobEventBatch> written;
  bool writing = false;
  std::optional<grpc::Status> finished;
  slow->Attach(
      [&](const v1::JobEventBatch* m) {
        written.push_back(*m);
        writing = true;
      },
      [&](const grpc::Status& s) { finished = s; });
  Owned([&] { ASSERT_TRUE(coordinator_.Watch(job, 0, slow).ok()); });
  for (int round = 0; !finished && round < 100; ++round) {
    EXPECT_LE(slow->queued(), EventPublisher::kWatcherQueuedBatches);
    ASSERT_TRUE(writing) << "a stream with events left is always writing";
    writing = false;
    slow->OnWriteDone(true);
    time_.Advance(EventPublisher::kPublishLinger);
  }
  ASSERT_TRUE(finished.has_value());
  EXPECT_TRUE(finished->ok());
  EXPECT_GE(written.size(), 4u);
  EXPECT_EQ(events_of(written), all) << "every event once, in the trace's order";
}

}  // namespace
}  // namespace hollerith::coordinator
