// The stack runner and the node's resources: each card holds its stack's request while it runs,
// is told its gpus, keeps them from card to card, has the stack's memory as its limit, and a stack
// the node can never hold fails its first card at once, saying why.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/artifacts/access.h"
#include "common/runner/resource_pool.h"
#include "common/runner/stack_host.h"
#include "common/runner/stack_runner.h"
#include "tests/support/temp_dir.h"

namespace hollerith {
namespace {

// Records each launch; the test ends the running cards when it likes.
class RecordingExecutor : public CardExecutor {
 public:
  explicit RecordingExecutor(asio::io_context& io) : io_(io) {}
  uint64_t Run(const CardSpec& card, const CardLaunch& launch, Done done) override {
    launches.push_back({card.id, launch});
    running_[++next_] = std::move(done);
    return next_;
  }
  void Cancel(uint64_t handle) override { Finish(handle); }
  void Finish(uint64_t handle) {
    auto it = running_.find(handle);
    if (it == running_.end()) return;
    CardResult r;
    r.exit_code = 0;
    asio::post(io_, [done = std::move(it->second), r] { done(r); });
    running_.erase(it);
  }
  void FinishAll() {
    while (!running_.empty()) Finish(running_.begin()->first);
  }
  std::string Env(size_t launch, const std::string& name) const {
    for (const auto& [k, v] : launches[launch].second.extra_env) {
      if (k == name) return v;
    }
    return "<unset>";
  }

  std::vector<std::pair<std::string, CardLaunch>> launches;

 private:
  asio::io_context& io_;
  uint64_t next_ = 0;
  std::map<uint64_t, Done> running_;
};

Resources R(const std::string& list) {
  auto r = ParseResourceList(list);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? *r : Resources{};
}

std::shared_ptr<StackSpec> Stack(const std::string& resources, int cards) {
  auto stack = std::make_shared<StackSpec>();
  stack->id = "S";
  stack->resources = R(resources);
  for (int i = 0; i < cards; ++i) {
    CardSpec card;
    card.id = "c" + std::to_string(i);
    card.shell = "true";
    stack->cards.push_back(std::move(card));
  }
  return stack;
}

class StackRunnerResourcesTest : public ::testing::Test {
 protected:
  // A node of `capacity` running `stack` as stack `index`.
  std::shared_ptr<StackRunner> Runner(ResourcePool& pool, std::shared_ptr<const StackSpec> stack,
                                      uint32_t index) {
    AssignStackMsg assign;
    assign.stack = index;
    assign.attempt = 1;
    assign.node = "w";
    assign.tenant = "team";
    assign.tenant_weight = 1;
    return std::make_shared<StackRunner>(
        StackRunnerEnv{io_, "w", clock_, executor_, artifacts_, pool, workspaces_}, "j", stack,
        assign, (std::filesystem::path(dir_.path()) / "jobs" / std::to_string(index)).string(),
        callbacks_);
  }
  void Settle() {
    io_.run();
    io_.restart();
  }

  asio::io_context io_;
  testing::TempDir dir_;
  LamportClock clock_;
  RecordingExecutor executor_{io_};
  ArtifactStore store_{std::filesystem::path(dir_.path()) / "store"};
  LocalArtifactAccess artifacts_{io_, store_};
  WorkspacePool workspaces_{std::filesystem::path(dir_.path()) / "spare"};
  std::vector<CardFinishedMsg> finished_;
  int ended_ = 0;
  const StackRunner::Callbacks callbacks_{
      .finished = [this](const StackRunner&, const CardFinishedMsg& m) { finished_.push_back(m); },
      .ended = [this](const StackRunner&) { ++ended_; }};
};

TEST_F(StackRunnerResourcesTest, ACardHoldsTheRequestAndKeepsItsGpus) {
  ResourcePool pool(io_, R("cpu=4,memory=8GiB,gpu=2"));
  auto other = Runner(pool, Stack("cpu=1,gpu=1", 1), 0);
  auto two_cards = Runner(pool, Stack("cpu=1,memory=1GiB,gpu=1", 2), 1);
  other->Start();  // takes device 0
  two_cards->Start();
  Settle();
  ASSERT_EQ(executor_.launches.size(), 2u);
  EXPECT_EQ(pool.in_use(), R("cpu=2,memory=1GiB,gpu=2"));
  EXPECT_EQ(executor_.Env(0, "HOLLERITH_GPUS"), "0");
  EXPECT_EQ(executor_.Env(1, "HOLLERITH_GPUS"), "1");
  EXPECT_EQ(executor_.Env(1, "CUDA_VISIBLE_DEVICES"), "1");
  EXPECT_EQ(executor_.launches[0].second.memory_request, 0u);
  EXPECT_EQ(executor_.launches[1].second.memory_request, uint64_t{1} << 30);
  // Both cards end, freeing both devices; the next card of the two-card stack gets its device 1
  // back, where the lowest free one would be 0.
  executor_.FinishAll();
  Settle();
  ASSERT_EQ(executor_.launches.size(), 3u);
  EXPECT_EQ(executor_.launches[2].first, "c1");
  EXPECT_EQ(executor_.Env(2, "HOLLERITH_GPUS"), "1");
  executor_.FinishAll();
  Settle();
  EXPECT_TRUE(pool.in_use().empty());
  EXPECT_EQ(ended_, 2);
  for (const auto& f : finished_) EXPECT_TRUE(f.succeeded) << f.error;
}

TEST_F(StackRunnerResourcesTest, CardsWaitWhileTheRequestDoesNotFit) {
  ResourcePool pool(io_, R("cpu=2,memory=4GiB"));
  auto big = Runner(pool, Stack("cpu=2", 1), 0);
  auto other = Runner(pool, Stack("memory=1GiB,cpu=0.5", 1), 1);
  big->Start();
  other->Start();
  Settle();
  ASSERT_EQ(executor_.launches.size(), 1u);
  EXPECT_EQ(pool.waiting(), 1u);
  EXPECT_EQ(executor_.Env(0, "HOLLERITH_GPUS"), "<unset>") << "a node without gpus says nothing";
  executor_.FinishAll();
  Settle();
  ASSERT_EQ(executor_.launches.size(), 2u);
  executor_.FinishAll();
  Settle();
  EXPECT_EQ(ended_, 2);
}

TEST_F(StackRunnerResourcesTest, AStackTheNodeCanNeverHoldFailsItsFirstCardAtOnce) {
  ResourcePool pool(io_, R("cpu=2,memory=1GiB"));
  auto stack = Stack("cpu=1,gpu=1", 2);
  // Its first card waits for another stack's card: the refusal does not wait for that release.
  stack->cards[0].after.push_back({5, 0});
  auto runner = Runner(pool, stack, 0);
  runner->Start();
  Settle();
  EXPECT_TRUE(executor_.launches.empty());
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_EQ(finished_[0].card.card, 0u);
  EXPECT_FALSE(finished_[0].succeeded);
  EXPECT_EQ(finished_[0].error,
            "this worker cannot hold the stack's resources (needs cpu=1,gpu=1, has "
            "cpu=2,memory=1GiB)");
  EXPECT_EQ(ended_, 1);
  EXPECT_EQ(pool.waiting(), 0u) << "never queued";
}

TEST_F(StackRunnerResourcesTest, BuiltinsHoldNothing) {
  ResourcePool pool(io_, R("cpu=1"));
  auto stack = Stack("cpu=4", 0);  // more than the node has, but no card runs a process
  CardSpec noop;
  noop.id = "n";
  noop.builtin = BuiltinKind::kNoop;
  stack->cards.push_back(noop);
  auto runner = Runner(pool, stack, 0);
  runner->Start();
  Settle();
  EXPECT_TRUE(pool.in_use().empty());
  executor_.FinishAll();
  Settle();
  ASSERT_EQ(finished_.size(), 1u);
  EXPECT_TRUE(finished_[0].succeeded) << finished_[0].error;
}

}  // namespace
}  // namespace hollerith

namespace hollerith {
namespace {

// After a coordinator restart a stack can come back with the attempt number its cancelled run
// had, while that run's workspace is still being removed in the background: the new run gets a
// workspace of its own, so the removal cannot take its files.
TEST_F(StackRunnerResourcesTest, ARunAfterACancelledOneOfTheSameAttemptHasItsOwnWorkspace) {
  ResourcePool pool(io_, R("cpu=2"));
  std::vector<std::filesystem::path> ended_workspaces;
  StackHost::Upward up;
  up.started = [](const std::string&, const CardStartedMsg&) {};
  up.finished = [](const std::string&, const CardFinishedMsg&) {};
  up.ended = [&](const std::string&, uint32_t, uint32_t, const std::filesystem::path& ws) {
    ended_workspaces.push_back(ws);
  };
  StackHost host(StackRunnerEnv{io_, "w", clock_, executor_, artifacts_, pool, workspaces_},
                 std::filesystem::path(dir_.path()) / "jobs", up);
  AssignStackMsg assign;
  assign.stack = 0;
  assign.attempt = 1;
  assign.node = "w";
  host.Assign("job-1", Stack("cpu=1", 1), assign);
  Settle();
  ASSERT_EQ(executor_.launches.size(), 1u);
  host.CancelStack("job-1", 0, 1);
  Settle();
  ASSERT_EQ(ended_workspaces.size(), 1u);
  host.Assign("job-1", Stack("cpu=1", 1), assign);  // the same attempt again
  Settle();
  ASSERT_EQ(executor_.launches.size(), 2u);
  const std::filesystem::path first = executor_.launches[0].second.workspace;
  const std::filesystem::path second = executor_.launches[1].second.workspace;
  EXPECT_EQ(first.filename(), "S.1");
  EXPECT_EQ(second.filename(), "S.1-1");
  EXPECT_EQ(ended_workspaces[0], first);
  executor_.FinishAll();
  Settle();
}

}  // namespace
}  // namespace hollerith
