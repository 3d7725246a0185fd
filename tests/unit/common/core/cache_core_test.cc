// The scheduler core and the result cache: a cacheable card's key is asked for (CacheQueryAction)
// as soon as the inputs of the cards up to it are published — before the stack's assignment, or
// before the release that lets the card start — and a finish from the cache is recorded as such.
#include <gtest/gtest.h>

#include "common/base/simulated_time.h"
#include "common/core/result_document.h"
#include "common/core/scheduler_core.h"
#include "core_actions.h"
#include "tests/support/job_builder.h"

namespace hollerith {
namespace {

using testing::JobBuilder;

const std::string kDigest(64, 'd');

class CacheCoreTest : public ::testing::Test {
 protected:
  // A: a0 (writes x) -> a1; B: b0 reads A.a0:x; B.b1 is not cacheable, B.b2 after it.
  JobSpec Spec() {
    JobBuilder b("j");
    const uint32_t a = b.Stack("A");
    const uint32_t s = b.Stack("B");
    a0_ = b.Card(a, "a0", "make x");
    b.card(a0_).outputs = {"x"};
    a1_ = b.Card(a, "a1", "use x");
    b0_ = b.Card(s, "b0", "read x", {a0_});
    b.card(b0_).inputs = {{a0_, "x", "x"}};
    b1_ = b.Card(s, "b1", "date");
    b2_ = b.Card(s, "b2", "echo");
    for (CardRef r : {a0_, a1_, b0_, b2_}) b.card(r).cache = true;
    return b.Build();
  }
  void Init() {
    job_ = std::make_shared<const JobSpec>(Spec());
    core_ = std::make_unique<SchedulerCore>(job_, clock_, time_, "coordinator");
    core_->Start();
    for (const auto& p : Only<PlaceStackAction>(core_->TakeActions())) {
      core_->StackPlaced(p.stack, p.attempt, "n");
    }
  }
  CardFinishedMsg Finished(CardRef r, OutputDigests outputs, std::string cached_from = "") {
    vcs_[r.stack].Tick(r.stack);
    CardFinishedMsg m;
    m.card = r;
    m.attempt = 1;
    m.try_no = 1;
    m.node = "n";
    m.vc = vcs_[r.stack];
    m.lamport = ++lamport_;
    m.succeeded = true;
    m.outputs = std::move(outputs);
    m.cached_from = std::move(cached_from);
    return m;
  }
  void Start(CardRef r) {
    vcs_[r.stack].Tick(r.stack);
    ASSERT_TRUE(core_->CardStarted({r, 1, 1, "n", vcs_[r.stack], ++lamport_, 0}));
  }

  CardRef a0_, a1_, b0_, b1_, b2_;
  LamportClock clock_;
  SimulatedTime time_;
  std::shared_ptr<const JobSpec> job_;
  std::unique_ptr<SchedulerCore> core_;
  std::map<uint32_t, VectorClock> vcs_;
  uint64_t lamport_ = 100;
};

TEST_F(CacheCoreTest, KeysKnownAtPlacementAreAskedForBeforeTheAssignment) {
  Init();
  const auto actions = core_->TakeActions();
  // A's two cards have every input: asked for, each before A's assignment. B.b0 waits for x.
  std::vector<std::string> order;
  for (const auto& a : actions) {
    if (const auto* q = std::get_if<CacheQueryAction>(&a)) {
      order.push_back("query " + job_->card_name(q->card) + (q->for_assign ? " assign" : ""));
    } else if (const auto* s = std::get_if<AssignStackMsg>(&a)) {
      order.push_back("assign " + job_->stacks[s->stack].id);
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"query A.a0 assign", "query A.a1 assign", "assign A",
                                             "assign B"}));
  ASSERT_NE(core_->cache_key(a1_), nullptr);
  // Chained: a1's key covers a0's.
  EXPECT_EQ(core_->cache_key(a1_)->digests[5],
            CardCacheKeyParts(job_->card(a1_), {}, core_->cache_key(a0_)->key).digests[5]);
  EXPECT_EQ(core_->cache_key(b0_), nullptr);
}

TEST_F(CacheCoreTest, AKeyCompletedByAnInputIsAskedForBeforeTheReleaseThatStartsItsCard) {
  Init();
  core_->TakeActions();
  Start(a0_);
  ASSERT_TRUE(core_->CardFinished(Finished(a0_, {{"x", kDigest}})));
  const auto actions = core_->TakeActions();
  size_t query = SIZE_MAX, release = SIZE_MAX;
  for (size_t i = 0; i < actions.size(); ++i) {
    if (const auto* q = std::get_if<CacheQueryAction>(&actions[i]); q && q->card == b0_) {
      query = i;
      EXPECT_FALSE(q->for_assign);
      EXPECT_EQ(q->key->key, CardCacheKeyParts(job_->card(b0_), {kDigest}, "").key);
    }
    if (const auto* r = std::get_if<ReleaseMsg>(&actions[i]); r && r->to == b0_) release = i;
  }
  ASSERT_NE(query, SIZE_MAX);
  ASSERT_NE(release, SIZE_MAX);
  EXPECT_LT(query, release);
  // b1 is not cacheable: neither it nor b2 after it (b1 may leave anything in the workspace).
  EXPECT_EQ(core_->cache_key(b1_), nullptr);
  EXPECT_EQ(core_->cache_key(b2_), nullptr);
}

TEST_F(CacheCoreTest, AFinishFromTheCacheIsTracedAndRecordedAsSuch) {
  Init();
  core_->TakeActions();
  Start(a0_);
  ASSERT_TRUE(core_->CardFinished(Finished(a0_, {{"x", kDigest}}, "j-7")));
  EXPECT_EQ(core_->record(a0_).state, CardState::kSucceeded);
  EXPECT_EQ(core_->record(a0_).out().cached_from, "j-7");
  // Its own event (the releases it makes follow it), naming the job that produced the result.
  const TraceEvent* cached = nullptr;
  for (const TraceEvent& e : core_->trace().events()) {
    if (e.card == a0_ && e.kind == EventKind::kCardCached) cached = &e;
    EXPECT_NE(e.kind == EventKind::kCardFinished && e.card == a0_, true);
  }
  ASSERT_NE(cached, nullptr);
  EXPECT_EQ(core_->trace().detail(*cached), "j-7");
  // Released as any success, with the outputs the cache restored.
  bool released = false;
  for (const auto& r : Only<ReleaseMsg>(core_->TakeActions())) {
    if (r.to == b0_) released = r.outputs == OutputDigests{{"x", kDigest}};
  }
  EXPECT_TRUE(released);
  CacheNotes notes{{a0_, "hit: job j-7"}};
  const auto card = ResultDocumentCard(*core_, a0_, &notes);
  EXPECT_EQ(card["cached_from"], "j-7");
  EXPECT_EQ(card["cache"], "hit: job j-7");
}

TEST_F(CacheCoreTest, AJobWithoutCacheableCardsAsksNothing) {
  JobBuilder b("plain");
  const uint32_t a = b.Stack("A");
  b.Card(a, "a0", "true");
  job_ = std::make_shared<const JobSpec>(b.Build());
  core_ = std::make_unique<SchedulerCore>(job_, clock_, time_, "coordinator");
  core_->Start();
  for (const auto& p : Only<PlaceStackAction>(core_->TakeActions())) {
    core_->StackPlaced(p.stack, p.attempt, "n");
  }
  EXPECT_TRUE(Only<CacheQueryAction>(core_->TakeActions()).empty());
  EXPECT_EQ(core_->cache_key({0, 0}), nullptr);
}

}  // namespace
}  // namespace hollerith
