// The core and the stack runners wired in one process (LocalRun) with a fake executor: random DAGs,
// random completion orders, random failures; every trace must verify and the results must obey the
// semantic contract. Also: tampered traces must fail verification.
#include "common/local/local_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "common/trace/chrome_trace.h"
#include "common/trace/verify.h"
#include "tests/support/fake_executor.h"
#include "tests/support/job_builder.h"

namespace hollerith {
namespace {

using testing::FakeExecutor;

struct Outcome {
  Trace trace;
  JobState state;
  std::vector<CardState> states;
};

std::filesystem::path TempDir() {
  auto dir =
      std::filesystem::temp_directory_path() / ("hollerith-test-" + std::to_string(::getpid()) +
                                                "-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs `spec` to the end, completing running cards in a random order. `fails` decides exit codes.
Outcome RunRandomly(const JobSpec& spec, std::mt19937& rng,
                    const std::function<int(const CardSpec&)>& exit_code) {
  asio::io_context io;
  FakeExecutor fake(io);
  LocalRunOptions options;
  options.workdir = TempDir();
  options.retry = RetryPolicy{Duration(1), Duration(4)};
  auto job = std::make_shared<const JobSpec>(spec);
  LocalRun run(io, job, options, &fake);
  bool done = false;
  run.Start([&] { done = true; });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.poll();
    if (done) break;
    if (!fake.CompleteRandom(rng, exit_code)) {
      io.restart();
      io.run_one_for(std::chrono::milliseconds(50));  // a retry backoff timer
    }
  }
  EXPECT_TRUE(done) << "job did not finish";
  std::filesystem::remove_all(options.workdir);
  Outcome out{run.core().trace(), run.core().state(), {}};
  for (uint32_t s = 0; s < spec.stacks.size(); ++s) {
    for (uint32_t c = 0; c < spec.stacks[s].cards.size(); ++c) {
      out.states.push_back(run.core().record({s, c}).state);
    }
  }
  return out;
}

TEST(LocalRunRandomized, EveryTraceVerifiesOverRandomDagsAndOrders) {
  std::mt19937 rng(20261123);
  for (int round = 0; round < 300; ++round) {
    JobSpec spec = testing::RandomJob(rng, 6, 24, /*combine=*/round % 2 == 0, /*max_retries=*/0);
    Outcome out = RunRandomly(spec, rng, [](const CardSpec&) { return 0; });
    ASSERT_EQ(out.state, JobState::kSucceeded) << "round " << round;
    auto report = VerifyTrace(spec, out.trace);
    ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.message();
    EXPECT_EQ(report->edges_checked > 0 || spec.card_count() == spec.stacks.size(), true);
  }
}

TEST(LocalRunRandomized, FailuresAndRetriesKeepTheContract) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    JobSpec spec = testing::RandomJob(rng, 5, 16, round % 3 == 0, /*max_retries=*/2);
    // Each card fails on each try with probability 1/4.
    std::bernoulli_distribution fail(0.25);
    Outcome out = RunRandomly(spec, rng, [&](const CardSpec&) { return fail(rng) ? 1 : 0; });
    auto report = VerifyTrace(spec, out.trace);
    ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.message();
    // Contract: a card ran to success only if all its dependencies succeeded; a card was skipped
    // only if something it depends on did not succeed.
    size_t i = 0;
    std::vector<size_t> offsets;
    for (const auto& s : spec.stacks) {
      offsets.push_back(i);
      i += s.cards.size();
    }
    auto state = [&](CardRef r) { return out.states[offsets[r.stack] + r.card]; };
    bool any_failed = false;
    for (uint32_t s = 0; s < spec.stacks.size(); ++s) {
      for (uint32_t c = 0; c < spec.stacks[s].cards.size(); ++c) {
        CardRef v{s, c};
        std::vector<CardRef> deps = CrossStackDependencies(spec, v);
        if (c > 0) deps.push_back({s, c - 1});
        bool deps_ok = true;
        for (CardRef u : deps) deps_ok &= state(u) == CardState::kSucceeded;
        EXPECT_NE(state(v), CardState::kPending) << "round " << round;
        EXPECT_NE(state(v), CardState::kRunning) << "round " << round;
        if (state(v) == CardState::kSucceeded || state(v) == CardState::kFailed) {
          EXPECT_TRUE(deps_ok) << "round " << round << " card " << spec.card_name(v);
        }
        if (state(v) == CardState::kSkipped) {
          EXPECT_FALSE(deps_ok) << "round " << round << " card " << spec.card_name(v);
        }
        any_failed |= state(v) == CardState::kFailed;
      }
    }
    EXPECT_EQ(out.state, any_failed ? JobState::kFailed : JobState::kSucceeded)
        << "round " << round;
  }
}

JobSpec TwoStackJob() {
  testing::JobBuilder b("report");
  auto a = b.Stack("A");
  auto s = b.Stack("B");
  b.Card(a, "fetch");
  auto sum = b.Card(a, "sum");
  b.Card(s, "prepare");
  b.Card(s, "double", "", {sum});
  b.Combine();
  return b.Build();
}

Trace RunTwoStack() {
  std::mt19937 rng(1);
  JobSpec spec = TwoStackJob();
  Outcome out = RunRandomly(spec, rng, [](const CardSpec&) { return 0; });
  EXPECT_EQ(out.state, JobState::kSucceeded);
  return out.trace;
}

TraceEvent* FindEvent(Trace& t, EventKind kind, const std::string& card, const JobSpec& job) {
  for (auto& e : t.mutable_events()) {
    if (e.kind == kind && job.card_name(e.card) == card) return &e;
  }
  return nullptr;
}

TEST(Verify, RealTraceVerifiesAndSurvivesChromeRoundTrip) {
  JobSpec spec = TwoStackJob();
  Trace trace = RunTwoStack();
  std::stringstream buf;
  WriteChromeTrace(spec, trace, buf);
  auto back = ReadChromeTrace(spec, buf);
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(back->events().size(), trace.events().size());
  auto report = VerifyTrace(spec, *back);
  ASSERT_TRUE(report.ok()) << report.message();
  // A.fetch->A.sum, B.prepare->B.double, A.sum->B.double, A.sum->combine, B.double->combine
  EXPECT_EQ(report->edges_checked, 5u);
}

TEST(Verify, SwappedClocksAreDetected) {
  JobSpec spec = TwoStackJob();
  Trace trace = RunTwoStack();
  TraceEvent* fin = FindEvent(trace, EventKind::kCardFinished, "A.sum", spec);
  TraceEvent* start = FindEvent(trace, EventKind::kCardStarted, "B.double", spec);
  ASSERT_TRUE(fin && start);
  std::swap(fin->vc, start->vc);
  std::swap(fin->lamport, start->lamport);
  auto report = VerifyTrace(spec, trace);
  ASSERT_FALSE(report.ok());
  // Whichever edge into B.double is checked first must be reported.
  EXPECT_NE(report.message().find("-> B.double violated"), std::string::npos) << report.message();
}

TEST(Verify, DroppedReleaseIsDetected) {
  JobSpec spec = TwoStackJob();
  Trace trace = RunTwoStack();
  auto& events = trace.mutable_events();
  std::erase_if(events, [&](const TraceEvent& e) {
    return e.kind == EventKind::kRelease && spec.card_name(e.target) == "B.double";
  });
  auto report = VerifyTrace(spec, trace);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.message().find("no release of A.sum to B.double"), std::string::npos)
      << report.message();
}

TEST(Verify, ReleaseNotMergedIntoStartIsDetected) {
  // As if B.double had started before A.sum's release reached it: its start clock lacks A's entry.
  JobSpec spec = TwoStackJob();
  Trace trace = RunTwoStack();
  TraceEvent* start = FindEvent(trace, EventKind::kCardStarted, "B.double", spec);
  ASSERT_TRUE(start);
  std::vector<VectorClock::Entry> entries;
  for (auto e : start->vc.entries()) {
    if (e.first != 0) entries.push_back(e);
  }
  start->vc = VectorClock(entries);
  auto report = VerifyTrace(spec, trace);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.message().find("VC(finish A.sum) is not < VC(start B.double)"),
            std::string::npos)
      << report.message();
}

TEST(Verify, StackOrderViolationIsDetected) {
  JobSpec spec = TwoStackJob();
  Trace trace = RunTwoStack();
  TraceEvent* fin = FindEvent(trace, EventKind::kCardFinished, "A.fetch", spec);
  ASSERT_TRUE(fin);
  fin->attempt = 9;  // A.sum now starts with no finished predecessor in its attempt
  auto report = VerifyTrace(spec, trace);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.message().find("A.fetch -> A.sum"), std::string::npos) << report.message();
}

TEST(Verify, LamportOrderViolationIsDetected) {
  JobSpec spec = TwoStackJob();
  Trace trace = RunTwoStack();
  TraceEvent* start = FindEvent(trace, EventKind::kCardStarted, "A.sum", spec);
  ASSERT_TRUE(start);
  start->lamport = 0;
  auto report = VerifyTrace(spec, trace);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.message().find("Lamport"), std::string::npos) << report.message();
}

}  // namespace
}  // namespace hollerith
