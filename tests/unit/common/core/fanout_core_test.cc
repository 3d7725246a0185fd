// The scheduler core with a run-time matrix: the stacks that wait for its instances are placed
// only once its list has made them, a failed source or a bad list fails them instead, and a core
// rebuilt from the same inputs asks again for a list it never got.
#include <gtest/gtest.h>

#include "core_actions.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/simulated_time.h"
#include "common/core/scheduler_core.h"
#include "common/spec/fanout.h"
#include "common/spec/parser.h"

namespace hollerith {
namespace {

// split.list writes the list; process is the template; report.table fans in; lone is independent.
constexpr std::string_view kSpec = R"(name: f
stacks:
  split:
    cards:
      - {id: list, run: l, outputs: [items.json]}
  process:
    matrix: {from: split.list:items.json}
    cards: [{id: run, run: "w ${{ matrix.item }}", outputs: [out.txt]}]
  report:
    cards:
      - {id: first, run: f}
      - {id: table, run: t, inputs: [process.run:out.txt]}
  lone:
    cards: [{id: x, run: x}]
combine:
  run: c
)";

class FanOutCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = ParseJobSpec(kSpec, "f.yaml");
    ASSERT_TRUE(parsed.ok()) << parsed.message();
    job_ = std::make_shared<const JobSpec>(std::move(parsed).value());
    core_ = std::make_unique<SchedulerCore>(job_, clock_, time_, "coordinator");
    core_->Start();
  }
  // Places what the core asked for; returns the stacks placed.
  std::vector<uint32_t> PlaceAsked() {
    std::vector<uint32_t> placed;
    for (const auto& p : Only<PlaceStackAction>(pending_)) {
      EXPECT_TRUE(core_->StackPlaced(p.stack, p.attempt, "n"));
      placed.push_back(p.stack);
    }
    pending_.clear();
    return placed;
  }
  void Take() {
    auto more = core_->TakeActions();
    pending_.insert(pending_.end(), more.begin(), more.end());
  }
  void Run(CardRef r, bool ok = true, OutputDigests outputs = {}) {
    vcs_[r.stack].Tick(r.stack);
    ASSERT_TRUE(core_->CardStarted({r, 1, 1, "n", vcs_[r.stack], ++lamport_, 0}));
    vcs_[r.stack].Tick(r.stack);
    CardFinishedMsg m;
    m.card = r;
    m.attempt = 1;
    m.try_no = 1;
    m.node = "n";
    m.vc = vcs_[r.stack];
    m.lamport = ++lamport_;
    m.succeeded = ok;
    m.exit_code = ok ? 0 : 2;
    m.outputs = std::move(outputs);
    ASSERT_TRUE(core_->CardFinished(m));
    Take();
  }
  void List(const std::string& list) {
    auto asked = Only<FanOutAction>(pending_);
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_EQ(asked[0].stack, 1u);
    EXPECT_EQ(asked[0].path, "items.json");
    EXPECT_EQ(asked[0].digest, "d1");
    ASSERT_TRUE(core_->FanOutListed(1, ExpandFanOut(core_->job(), 1, list), list));
    Take();
  }

  LamportClock clock_;
  SimulatedTime time_;
  std::shared_ptr<const JobSpec> job_;
  std::unique_ptr<SchedulerCore> core_;
  std::vector<CoreAction> pending_;
  std::map<uint32_t, VectorClock> vcs_;
  uint64_t lamport_ = 100;
};

TEST_F(FanOutCoreTest, StacksWaitingForInstancesArePlacedWhenTheListMadeThem) {
  Take();
  EXPECT_EQ(PlaceAsked(), (std::vector<uint32_t>{0, 3})) << "not the template, not report";
  EXPECT_EQ(core_->WaitsForFanOuts(2), (std::vector<uint32_t>{1})) << "report waits for process";
  EXPECT_TRUE(core_->WaitsForFanOuts(3).empty());
  Run({0, 0}, true, {{"items.json", "d1"}});
  List(R"(["a", "b"])");
  EXPECT_TRUE(core_->WaitsForFanOuts(2).empty());
  ASSERT_EQ(core_->job().stacks.size(), 7u);
  EXPECT_EQ(PlaceAsked(), (std::vector<uint32_t>{2, 5, 6})) << "report, then the instances";
  Take();
  Run({3, 0});
  Run({5, 0});
  Run({6, 0});
  Run({2, 0});
  Run({2, 1});
  EXPECT_EQ(PlaceAsked(), (std::vector<uint32_t>{4})) << "the combine, last";
  Take();
  Run({4, 0});
  EXPECT_EQ(core_->state(), JobState::kSucceeded) << core_->reason();
  size_t fan_out_events = 0;
  for (const TraceEvent& e : core_->trace().events()) {
    if (e.kind != EventKind::kFanOut) continue;
    ++fan_out_events;
    EXPECT_EQ(core_->trace().detail(e), R"(["a", "b"])");
    EXPECT_EQ(e.exit_code, 0);
  }
  EXPECT_EQ(fan_out_events, 1u);
}

TEST_F(FanOutCoreTest, ABadListFailsTheStacksWaitingForItAndOthersGoOn) {
  Take();
  PlaceAsked();
  Run({0, 0}, true, {{"items.json", "d1"}});
  List("[1, [2]]");
  EXPECT_EQ(core_->record({2, 1}).state, CardState::kSkipped);
  EXPECT_NE(core_->record({2, 1}).out().error.find("item 2 of the list is a list"),
            std::string::npos)
      << core_->record({2, 1}).out().error;
  EXPECT_EQ(core_->record({4, 0}).state, CardState::kSkipped) << "the combine";
  EXPECT_EQ(PlaceAsked(), (std::vector<uint32_t>{2})) << "report.first still runs";
  Take();
  Run({2, 0});
  EXPECT_EQ(core_->state(), JobState::kRunning) << "lone is still running";
  Run({3, 0});
  EXPECT_EQ(core_->state(), JobState::kFailed);
  EXPECT_NE(core_->reason().find("run-time matrix of stack 'process'"), std::string::npos)
      << core_->reason();
}

TEST_F(FanOutCoreTest, AFailedSourceMakesNoInstancesAndSkipsWhatWaitsForThem) {
  Take();
  PlaceAsked();
  Run({0, 0}, false);
  EXPECT_TRUE(Only<FanOutAction>(pending_).empty());
  EXPECT_EQ(core_->record({2, 1}).state, CardState::kSkipped);
  EXPECT_EQ(PlaceAsked(), (std::vector<uint32_t>{2}));
  Take();
  Run({2, 0});
  Run({3, 0});
  EXPECT_EQ(core_->state(), JobState::kFailed);
  EXPECT_EQ(core_->job().stacks.size(), 5u);
}

TEST_F(FanOutCoreTest, AnEmptyListReleasesTheFanInAtOnce) {
  Take();
  PlaceAsked();
  Run({0, 0}, true, {{"items.json", "d1"}});
  List("[]");
  EXPECT_EQ(PlaceAsked(), (std::vector<uint32_t>{2}));
  Take();
  Run({3, 0});
  Run({2, 0});
  Run({2, 1});
  EXPECT_EQ(PlaceAsked(), (std::vector<uint32_t>{4}));
  Take();
  Run({4, 0});
  EXPECT_EQ(core_->state(), JobState::kSucceeded) << core_->reason();
}

TEST_F(FanOutCoreTest, TheJobDoesNotEndWhileAListIsOutstanding) {
  Take();
  PlaceAsked();
  Run({3, 0});
  Run({0, 0}, true, {{"items.json", "d1"}});
  EXPECT_EQ(core_->state(), JobState::kRunning);
  // A rebuilt core (a coordinator restart that lost the list's input) asks for it again.
  pending_.clear();
  core_->AskForPendingLists();
  Take();
  List(R"(["a"])");
  EXPECT_FALSE(core_->FanOutListed(1, ExpandFanOut(*job_, 1, "[]"), "[]")) << "only once";
}

}  // namespace
}  // namespace hollerith
