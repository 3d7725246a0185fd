// The order gate in a real LocalRun over a fake executor: cards run one at a time in the
// sequence given, cards that end without running are passed over, retries keep their turn, and
// a sequence the dependencies cannot follow ends (the guard) instead of hanging.
#include "common/local/order_gate.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/local/card_order.h"
#include "common/local/local_run.h"
#include "tests/support/fake_executor.h"
#include "tests/support/job_builder.h"
#include "tests/support/temp_dir.h"

namespace hollerith {
namespace {

using testing::FakeExecutor;

struct GatedOutcome {
  bool done = false;
  size_t most_at_once = 0;
  std::vector<std::string> started;
  std::vector<std::string> deviations;
  std::map<std::string, CardState> states;
};

// Runs `spec` through a gate following `sequence`, completing each running card as soon as the
// loop is idle; `exit_code` decides each try's exit (by card id and how many times it ran).
GatedOutcome RunGated(const JobSpec& spec, const std::vector<std::string>& sequence,
                      const std::function<int(const std::string&, int)>& exit_code,
                      std::chrono::milliseconds stall_limit = std::chrono::seconds(20)) {
  testing::TempDir dir;
  asio::io_context io;
  FakeExecutor fake(io);
  OrderGate gate(
      io, fake,
      [sequence](const JobSpec& job) {
        std::vector<CardRef> refs;
        for (const std::string& name : sequence) {
          for (uint32_t s = 0; s < job.stacks.size(); ++s) {
            for (uint32_t c = 0; c < job.stacks[s].cards.size(); ++c) {
              if (job.card_name({s, c}) == name) refs.push_back({s, c});
            }
          }
        }
        return refs;
      },
      OrderGate::Options{stall_limit});
  LocalRunOptions options;
  options.workdir = dir.path();
  options.jobs = 64;  // room for every stack to wait at the gate
  options.retry = RetryPolicy{Duration(1), Duration(4)};
  options.on_event = [&gate](const SchedulerCore& core) { gate.OnEvent(core); };
  auto job = std::make_shared<const JobSpec>(spec);
  LocalRun run(io, job, options, &gate);
  GatedOutcome out;
  run.Start([&] { out.done = true; });
  std::map<std::string, int> tries;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!out.done && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.poll();
    out.most_at_once = std::max(out.most_at_once, fake.running().size());
    if (fake.running().empty()) {
      io.restart();
      io.run_one_for(std::chrono::milliseconds(50));  // a retry's backoff, the gate's guard
      continue;
    }
    const auto& [handle, running] = *fake.running().begin();
    const std::string id = running.card->id;
    fake.Complete(handle, exit_code(id, ++tries[id]));
  }
  const JobSpec& ran = run.core().job();
  for (CardRef r : gate.started()) out.started.push_back(ran.card_name(r));
  out.deviations = gate.deviations();
  for (uint32_t s = 0; s < ran.stacks.size(); ++s) {
    for (uint32_t c = 0; c < ran.stacks[s].cards.size(); ++c) {
      out.states[ran.card_name({s, c})] = run.core().record({s, c}).state;
    }
  }
  return out;
}

int Succeed(const std::string&, int) { return 0; }

TEST(OrderGate, RunsOneCardAtATimeInTheSequence) {
  const JobSpec job = testing::TwoStackReportJob();
  for (OrderKind kind : {OrderKind::kSerial, OrderKind::kStacksReversed, OrderKind::kRandom}) {
    std::vector<std::string> names;
    for (CardRef r : CardSequence(job, {kind, "", 42, ""})) names.push_back(job.card_name(r));
    const GatedOutcome out = RunGated(job, names, Succeed);
    ASSERT_TRUE(out.done);
    EXPECT_EQ(out.started, names);
    EXPECT_EQ(out.most_at_once, 1u);
    EXPECT_TRUE(out.deviations.empty());
  }
}

TEST(OrderGate, PassesOverCardsSkippedAfterAFailure) {
  const JobSpec job = testing::TwoStackReportJob();
  const std::vector<std::string> sequence = {"A.fetch", "A.sum", "B.prepare", "B.double",
                                             "combine"};
  const GatedOutcome out =
      RunGated(job, sequence, [](const std::string& id, int) { return id == "sum" ? 1 : 0; });
  ASSERT_TRUE(out.done) << "the gate waited for a card that never runs";
  EXPECT_EQ(out.started, (std::vector<std::string>{"A.fetch", "A.sum", "B.prepare"}));
  EXPECT_EQ(out.states.at("B.double"), CardState::kSkipped);
  EXPECT_EQ(out.states.at("combine"), CardState::kSkipped);
  EXPECT_TRUE(out.deviations.empty());
}

TEST(OrderGate, ARetriedCardKeepsItsTurnUntilItsLastTry) {
  const JobSpec job = testing::TwoStackReportJob(/*double_retries=*/2);
  // B.double fails twice, then succeeds: combine starts only after its third try.
  const std::vector<std::string> sequence = {"A.fetch", "A.sum", "B.prepare", "B.double",
                                             "combine"};
  const GatedOutcome out =
      RunGated(job, sequence, [](const std::string& id, int n) { return id == "double" && n < 3; });
  ASSERT_TRUE(out.done);
  EXPECT_EQ(out.started, (std::vector<std::string>{"A.fetch", "A.sum", "B.prepare", "B.double",
                                                   "B.double", "B.double", "combine"}));
  EXPECT_EQ(out.states.at("combine"), CardState::kSucceeded);
}

TEST(OrderGate, ASequenceTheDependenciesCannotFollowEndsAndSaysWhere) {
  const JobSpec job = testing::TwoStackReportJob();
  // B.double cannot start before A.sum; its turn never comes while A.sum waits for it.
  const std::vector<std::string> impossible = {"B.prepare", "B.double", "A.fetch", "A.sum",
                                               "combine"};
  const GatedOutcome out =
      RunGated(job, impossible, Succeed, /*stall_limit=*/std::chrono::milliseconds(100));
  ASSERT_TRUE(out.done) << "the guard did not go on";
  EXPECT_EQ(out.most_at_once, 1u);
  ASSERT_FALSE(out.deviations.empty());
  EXPECT_NE(out.deviations[0].find("B.double"), std::string::npos) << out.deviations[0];
  EXPECT_EQ(out.states.at("combine"), CardState::kSucceeded);
}

}  // namespace
}  // namespace hollerith
