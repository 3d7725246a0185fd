// hollerith-core-bench: cards per second through the scheduler core alone (no network, no
// processes), to see the coordinator's ceiling. A fake pair of nodes drives the core exactly as the
// wiring does: place every stack, run each stack's cards in order as soon as their releases have
// arrived, report start and finish with the node's vector clock (merged with every release it
// received) and Lamport time, and carry out every action the core emits. Clocks and the trace stay
// on.
//
// Shapes (the argument is the number of cards):
//   FanOut   N one-card stacks, no dependencies (the fanout_noop workload)
//   Chain    2 stacks of N/2 cards, every card waits on the previous card of the other stack
//   FanIn    N-1 one-card stacks into one combine card (the fanin workload)
//   Grid     sqrt(N) stacks of sqrt(N) independent cards (the million workload)
#include <benchmark/benchmark.h>

#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/core/scheduler_core.h"
#include "tests/support/job_builder.h"

namespace hollerith {
namespace {

using testing::JobBuilder;

JobSpec FanOut(int64_t cards) {
  JobBuilder b("fanout");
  for (int64_t i = 0; i < cards; ++i) b.Card(b.Stack("s" + std::to_string(i)), "c0");
  return b.Build();
}

JobSpec Chain(int64_t cards) {
  JobBuilder b("chain");
  const uint32_t a = b.Stack("A"), s = b.Stack("B");
  const int64_t per_stack = cards / 2;
  CardRef prev_b{};
  for (int64_t i = 0; i < per_stack; ++i) {
    std::vector<CardRef> after;
    if (i > 0) after.push_back(prev_b);
    CardRef ai = b.Card(a, "c" + std::to_string(i), "", after);
    prev_b = b.Card(s, "c" + std::to_string(i), "", {ai});
  }
  return b.Build();
}

JobSpec FanIn(int64_t cards) {
  JobBuilder b("fanin");
  for (int64_t i = 0; i + 1 < cards; ++i) b.Card(b.Stack("s" + std::to_string(i)), "c0");
  b.Combine();
  return b.Build();
}

JobSpec Grid(int64_t cards) {
  const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(cards))));
  JobBuilder b("grid");
  for (int64_t s = 0; s < side; ++s) {
    const uint32_t stack = b.Stack("s" + std::to_string(s));
    for (int64_t c = 0; c < side; ++c) b.Card(stack, "c" + std::to_string(c));
  }
  return b.Build();
}

// Two fake nodes ("w1", "w2"; stack i goes to node i % 2) that run whatever the core lets them.
class FakeNodes {
 public:
  FakeNodes(std::shared_ptr<const JobSpec> job)
      : job_(std::move(job)), deps_(*job_), stacks_(job_->stacks.size()) {
    for (uint32_t s = 0; s < job_->stacks.size(); ++s) {
      stacks_[s].pending.resize(job_->stacks[s].cards.size());
      for (uint32_t c = 0; c < job_->stacks[s].cards.size(); ++c) {
        stacks_[s].pending[c] = deps_.dependency_count({s, c});
      }
    }
  }

  // Runs the job to the end; returns the number of cards run.
  size_t Run(SchedulerCore& core) {
    core.Start();
    Apply(core, core.TakeActions());
    size_t ran = 0;
    while (!ready_.empty()) {
      const uint32_t s = ready_.front();
      ready_.pop_front();
      StackRun& st = stacks_[s];
      const CardRef card{s, st.next};
      Node& node = nodes_[s % 2];
      if (!st.received.empty()) {
        st.received.insert(st.received.end(), st.vc.entries().begin(), st.vc.entries().end());
        st.vc = VectorClock(std::exchange(st.received, {}));
      }
      st.vc.Tick(s);
      CardStartedMsg started{
          card, st.attempt, 1, node.name, st.vc, node.clock.Tick(), SystemTime().WallMicros()};
      core.CardStarted(started);
      st.vc.Tick(s);
      CardFinishedMsg finished;
      finished.card = card;
      finished.attempt = st.attempt;
      finished.try_no = 1;
      finished.node = node.name;
      finished.vc = st.vc;
      finished.lamport = node.clock.Tick();
      finished.wall_us = SystemTime().WallMicros();
      finished.succeeded = true;
      finished.exit_code = 0;
      core.CardFinished(finished);
      ++ran;
      ++st.next;
      st.running = false;
      Apply(core, core.TakeActions());
      MaybeReady(s);
    }
    return ran;
  }

 private:
  struct StackRun {
    bool placed = false;
    bool running = false;  // queued or running
    uint32_t attempt = 0;
    uint32_t next = 0;
    std::vector<uint32_t> pending;  // releases still to arrive, per card
    VectorClock vc;                 // what the node knows: its own cards + releases received
    std::vector<VectorClock::Entry> received;  // release clocks not merged into vc yet
  };
  struct Node {
    std::string name;
    LamportClock clock;
  };

  void Apply(SchedulerCore& core, std::vector<CoreAction> actions) {
    for (auto& action : actions) {
      if (auto* place = std::get_if<PlaceStackAction>(&action)) {
        core.StackPlaced(place->stack, place->attempt, nodes_[place->stack % 2].name);
        Apply(core, core.TakeActions());
      } else if (auto* assign = std::get_if<AssignStackMsg>(&action)) {
        StackRun& st = stacks_[assign->stack];
        nodes_[assign->stack % 2].clock.Receive(assign->lamport);
        st.placed = true;
        st.attempt = assign->attempt;
        MaybeReady(assign->stack);
      } else if (auto* release = std::get_if<ReleaseMsg>(&action)) {
        StackRun& st = stacks_[release->to.stack];
        nodes_[release->to.stack % 2].clock.Receive(release->lamport);
        // Collected, merged once when the card starts: a combine card receives one release per
        // stack, and merging each into a growing clock would make the fake node quadratic.
        st.received.insert(st.received.end(), release->vc.entries().begin(),
                           release->vc.entries().end());
        --st.pending[release->to.card];
        MaybeReady(release->to.stack);
      }
    }
  }

  void MaybeReady(uint32_t s) {
    StackRun& st = stacks_[s];
    if (!st.placed || st.running || st.next >= st.pending.size() || st.pending[st.next] != 0)
      return;
    st.running = true;
    ready_.push_back(s);
  }

  std::shared_ptr<const JobSpec> job_;
  DependentsIndex deps_;
  std::vector<StackRun> stacks_;
  Node nodes_[2] = {{"w1", {}}, {"w2", {}}};
  std::deque<uint32_t> ready_;
};

void RunShape(benchmark::State& state, JobSpec (*make)(int64_t)) {
  size_t cards = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto job = std::make_shared<const JobSpec>(make(state.range(0)));
    LamportClock clock;
    auto core = std::make_unique<SchedulerCore>(job, clock, SystemTime(), "coordinator");
    FakeNodes nodes(job);
    state.ResumeTiming();
    const size_t ran = nodes.Run(*core);
    state.PauseTiming();
    if (core->state() != JobState::kSucceeded || ran != job->card_count()) {
      state.SkipWithError("the job did not succeed");
    }
    cards += ran;
    core.reset();  // freeing a million records is not the scheduler's work: untimed
    state.ResumeTiming();
  }
  state.counters["cards/s"] =
      benchmark::Counter(static_cast<double>(cards), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<int64_t>(cards));
}

void BM_FanOut(benchmark::State& state) { RunShape(state, FanOut); }
void BM_Chain(benchmark::State& state) { RunShape(state, Chain); }
void BM_FanIn(benchmark::State& state) { RunShape(state, FanIn); }
void BM_Grid(benchmark::State& state) { RunShape(state, Grid); }

// 10,000 is the smoke size; 1,000,000 is the size for every shape.
void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(BM_FanOut)->Apply(Sizes);
BENCHMARK(BM_Chain)->Apply(Sizes);
BENCHMARK(BM_FanIn)->Apply(Sizes);
BENCHMARK(BM_Grid)->Apply(Sizes);

}  // namespace
}  // namespace hollerith

BENCHMARK_MAIN();
