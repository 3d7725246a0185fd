// The worker's timers on SimulatedTime: the welcome timeout and the reconnect backoff, the
// heartbeat interval, and a drain that outlives drain_timeout. The coordinator is the scripted
// fake on loopback (real gRPC); only the worker's clock is simulated. Time moves on the worker's
// loop (WorkerHarness::OnLoop), and every wait is on an event with a deadline.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "common/base/simulated_time.h"
#include "common/runner/card_runner.h"
#include "tests/unit/worker/coordinator_messages.h"
#include "tests/unit/worker/fake_coordinator.h"
#include "tests/unit/worker/harness.h"

namespace hollerith::testing {
namespace {

using namespace std::chrono_literals;
using Logs = std::deque<FakeCoordinator::SessionLog>;
using worker::Worker;
using worker::WorkerState;

constexpr const char* kTimeToken = "simulated-time-token";

size_t CountHeartbeats(const Logs& logs, size_t session) {
  size_t n = 0;
  if (logs.size() > session) {
    for (const auto& m : logs[session].received) n += m.has_heartbeat() ? 1 : 0;
  }
  return n;
}

bool HasHello(const Logs& logs, size_t session) {
  return logs.size() > session && !logs[session].received.empty() &&
         logs[session].received[0].has_hello();
}

// Cards that never run a process: they run until cancelled, and then end (`die_on_cancel`) or
// ignore it, as a card stuck in uninterruptible sleep would. Loop thread only (or after the loop
// has stopped for good).
class HeldExecutor : public CardExecutor {
 public:
  explicit HeldExecutor(bool die_on_cancel) : die_on_cancel_(die_on_cancel) {}
  void Bind(asio::io_context& io) { io_ = &io; }

  uint64_t Run(const CardSpec&, const CardLaunch&, Done done) override {
    running_[++next_] = std::move(done);
    ++started_;
    return next_;
  }
  void Cancel(uint64_t handle) override {
    ++cancels_;
    auto it = running_.find(handle);
    if (!die_on_cancel_ || it == running_.end()) return;
    CardResult r;
    r.exit_code = -1;
    r.error = "cancelled";
    asio::post(*io_, [done = std::move(it->second), r] { done(r); });
    running_.erase(it);
  }
  // Ends running card `handle` (1, 2, ... in the order they started) as a process would.
  void Finish(uint64_t handle, int exit_code) {
    auto it = running_.find(handle);
    if (it == running_.end()) return;
    CardResult r;
    r.exit_code = exit_code;
    asio::post(*io_, [done = std::move(it->second), r] { done(r); });
    running_.erase(it);
  }
  int started() const { return started_; }
  int cancels() const { return cancels_; }

 private:
  bool die_on_cancel_;
  asio::io_context* io_ = nullptr;
  uint64_t next_ = 0;
  int started_ = 0;
  int cancels_ = 0;
  std::map<uint64_t, Done> running_;
};

TEST(WorkerSimulatedTime, NoWelcomeWithinTheTimeoutBacksOffAndReconnectsWithDoublingDelays) {
  FakeCoordinator fake(kTimeToken);  // reads the hello, never answers it
  SimulatedTime time;
  WorkerHarness worker(TestWorkerOptions(fake.address(), kTimeToken), &time);
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasHello(l, 0); }));
  ASSERT_TRUE(worker.WaitForState(WorkerState::kConnecting));

  auto advance = [&](std::chrono::nanoseconds d) {
    return worker.OnLoop([&time, d] { return time.Advance(d); });
  };
  auto state = [&] { return worker.OnLoop([&] { return worker.worker().state(); }); };

  // Just short of the welcome timeout nothing happens; at it, the stream is given up.
  EXPECT_EQ(advance(Worker::kWelcomeTimeout - 1ms), 0u);
  EXPECT_EQ(state(), WorkerState::kConnecting);
  EXPECT_EQ(advance(1ms), 1u);
  ASSERT_TRUE(worker.WaitForState(WorkerState::kBackingOff));
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return l.size() == 1 && l[0].done; }));

  // The first reconnect comes after kMinBackoff/2 .. kMinBackoff, with a fresh hello.
  EXPECT_EQ(advance(Worker::kMinBackoff / 2 - 1ms), 0u);
  EXPECT_EQ(state(), WorkerState::kBackingOff);
  EXPECT_EQ(advance(Worker::kMinBackoff / 2 + 1ms), 1u);
  ASSERT_TRUE(worker.WaitForState(WorkerState::kConnecting, 2));
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasHello(l, 1); }));
  EXPECT_EQ(fake.sessions()[1].received[0].epoch(), 0u);

  // Unanswered again: the next delay has doubled (kMinBackoff .. 2 * kMinBackoff).
  EXPECT_EQ(advance(Worker::kWelcomeTimeout), 1u);
  ASSERT_TRUE(worker.WaitForState(WorkerState::kBackingOff, 2));
  EXPECT_EQ(advance(Worker::kMinBackoff - 1ms), 0u);
  EXPECT_EQ(advance(Worker::kMinBackoff + 1ms), 1u);
  ASSERT_TRUE(worker.WaitForState(WorkerState::kConnecting, 3));
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasHello(l, 2); }));
  EXPECT_EQ(fake.sessions().size(), 3u);
}

TEST(WorkerSimulatedTime, HeartbeatsLeaveEveryHeartbeatIntervalAndOnlyThen) {
  FakeCoordinator fake(kTimeToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (m.has_hello()) fake.Send(session, Welcome(3, 200, 10));
  });
  SimulatedTime time;
  WorkerHarness worker(TestWorkerOptions(fake.address(), kTimeToken), &time);
  worker.Start();
  ASSERT_TRUE(worker.WaitForState(WorkerState::kConnected));
  auto advance = [&](std::chrono::nanoseconds d) {
    return worker.OnLoop([&time, d] { return time.Advance(d); });
  };
  // Welcomed: the welcome timer is off; only the heartbeat is armed.
  EXPECT_EQ(worker.OnLoop([&] { return time.armed(); }), 1u);

  for (size_t beat = 1; beat <= 4; ++beat) {
    EXPECT_EQ(advance(199ms), 0u) << "beat " << beat;
    EXPECT_EQ(advance(1ms), 1u) << "beat " << beat;
    ASSERT_TRUE(fake.WaitFor([beat](const Logs& l) { return CountHeartbeats(l, 0) == beat; }))
        << "heartbeat " << beat << " did not arrive";
  }
  const auto log = fake.sessions()[0];
  uint64_t last_lamport = 0;
  for (size_t i = 1; i < log.received.size(); ++i) {
    const auto& m = log.received[i];
    ASSERT_TRUE(m.has_heartbeat()) << "message " << i;
    EXPECT_EQ(m.heartbeat().running_cards(), 0u);
    EXPECT_EQ(m.epoch(), 3u);
    EXPECT_GT(m.lamport(), last_lamport);
    last_lamport = m.lamport();
  }
  EXPECT_EQ(log.received.size(), 5u);  // the hello and four heartbeats
}

// After an outage the hello replays only what the coordinator may have missed: events sent
// within kResendWindow of the lost stream. A stack that ended before that is not claimed again.
TEST(WorkerSimulatedTime, AHelloAfterAnOutageLeavesOutWhatWasSentLongBefore) {
  FakeCoordinator fake(kTimeToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(session + 1, 60'000, 10 * (session + 1));
    if (session == 0) *reply.add_assignments() = MakeAssignment("job-o", 0, 1, Noops(2), 11);
    fake.Send(session, std::move(reply));
  });
  SimulatedTime time;
  WorkerHarness worker(TestWorkerOptions(fake.address(), kTimeToken), &time);
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return CountEnded(l, 0) == 1; }));
  EXPECT_EQ(worker.OnLoop([&time] { return time.Advance(Worker::kResendWindow + 1ms); }), 0u);
  fake.EndSession(0, grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator restarting"));
  ASSERT_TRUE(worker.WaitForState(WorkerState::kBackingOff));
  EXPECT_TRUE(worker.OnLoop([&] { return worker.worker().holding(); }).value_or(false));
  EXPECT_EQ(worker.OnLoop([&time] { return time.Advance(Worker::kMinBackoff); }), 1u);
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasHello(l, 1); }));
  const v1::Hello hello = fake.sessions()[1].received[0].hello();
  EXPECT_EQ(hello.held_size(), 0) << "job-o ended " << Worker::kResendWindow.count()
                                  << " ms before the outage: recorded";
  EXPECT_EQ(hello.started_size(), 0);
  EXPECT_EQ(hello.finished_size(), 0);
}

// A card that starts while a reconnect attempt waits for its welcome, with another card running
// (so its start lingers in the batch for company): the attempt fails, and the start must still
// reach the coordinator in the next hello. Lost, the coordinator would record the card's finish
// without its start, and the trace could not show that it started after its dependencies.
TEST(WorkerSimulatedTime, AStartMadeWhileAReconnectFailsIsInTheNextHello) {
  FakeCoordinator fake(kTimeToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (m.has_hello() && session != 1) {  // session 1: the coordinator is not back yet
      v1::CoordinatorMessage reply = Welcome(session + 1, 60'000, 10 * (session + 1));
      if (session == 0) {
        v1::CardDef a = Shell("a", "true");
        a.set_retries(1);
        *reply.add_assignments() = MakeAssignment("job-r", 0, 1, {a}, 11);
        *reply.add_assignments() = MakeAssignment("job-r", 1, 1, {Shell("b", "true")}, 12);
      }
      fake.Send(session, std::move(reply));
    }
    for (const auto& f : m.finished()) {  // a0's first try failed: try again in a second
      if (session != 0 || f.succeeded()) continue;
      v1::CoordinatorMessage retry;
      retry.set_lamport(f.lamport() + 1);
      auto* r = retry.add_retries();
      r->set_job_id(f.job_id());
      *r->mutable_card() = f.card();
      r->set_attempt(f.attempt());
      r->set_next_try(2);
      r->set_delay_ms(1000);
      fake.Send(session, std::move(retry));
    }
  });
  SimulatedTime time;
  HeldExecutor executor(/*die_on_cancel=*/true);
  WorkerHarness worker(TestWorkerOptions(fake.address(), kTimeToken), &time, &executor);
  auto advance = [&](std::chrono::nanoseconds d) {
    return worker.OnLoop([&time, d] { return time.Advance(d); });
  };
  auto until = [&](const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!worker.OnLoop(done).value_or(false)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  };
  executor.Bind(worker.io());
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return CountStarted(l, 0) == 2; }));
  worker.Post([&] { executor.Finish(1, 1); });  // a0 fails
  // The retry is armed: the heartbeat's timer and its own.
  ASSERT_TRUE(until([&] { return time.armed() == 2; }));
  fake.EndSession(0, grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator restarting"));
  ASSERT_TRUE(worker.WaitForState(WorkerState::kBackingOff));
  EXPECT_EQ(advance(Worker::kMinBackoff), 1u);  // the reconnect; the retry is 1 s away
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasHello(l, 1); }));
  EXPECT_EQ(fake.sessions()[1].received[0].hello().started_size(), 2) << "a0 and b0, try 1";

  // The retry's start, while b0 runs: it waits in the batch for the linger (simulated: it stays).
  EXPECT_EQ(advance(1000ms), 1u);
  ASSERT_TRUE(until([&] { return executor.started() == 3; }));
  fake.EndSession(1, grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused"));
  ASSERT_TRUE(worker.WaitForState(WorkerState::kBackingOff, 2));
  advance(Worker::kMaxBackoff);
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasHello(l, 2); }));
  const v1::Hello hello = fake.sessions()[2].received[0].hello();
  bool retried = false;
  for (const auto& s : hello.started()) {
    retried |= s.card().stack() == 0 && s.card().card() == 0 && s.try_no() == 2;
  }
  EXPECT_TRUE(retried) << "the start of a0's second try is not in the hello";
}

// A drain whose stack is still running at drain_timeout cancels it; with cards that end when
// cancelled the drain then closes the stream at once, with cards that do not, after kCancelGrace.
// Either way the worker exits 0, having reported nothing of the cancelled stack.
void DrainOutlivesItsTimeout(bool cards_die_on_cancel) {
  FakeCoordinator fake(kTimeToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(5, 60'000, 10);
    *reply.add_assignments() = MakeAssignment("job-t", 0, 1, {Shell("forever", "sleep 1000")}, 11);
    fake.Send(session, std::move(reply));
  });
  SimulatedTime time;
  HeldExecutor executor(cards_die_on_cancel);
  worker::WorkerOptions options = TestWorkerOptions(fake.address(), kTimeToken);
  const auto drain_timeout = options.drain_timeout;
  WorkerHarness worker(std::move(options), &time, &executor);
  auto advance = [&](std::chrono::nanoseconds d) {
    return worker.OnLoop([&time, d] { return time.Advance(d); });
  };
  auto cancels = [&] { return worker.OnLoop([&] { return executor.cancels(); }); };
  executor.Bind(worker.io());  // before the loop runs
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return CountStarted(l, 0) == 1; }));
  worker.Post([&] { worker.worker().Drain("test"); });
  ASSERT_TRUE(worker.WaitForState(WorkerState::kDraining));

  EXPECT_EQ(advance(drain_timeout - 1ms), 0u);
  EXPECT_EQ(cancels(), 0);
  EXPECT_EQ(advance(1ms), 1u);  // the drain timeout: the stack is cancelled
  if (!cards_die_on_cancel) {
    EXPECT_EQ(cancels(), 1);
    EXPECT_EQ(worker.OnLoop([&] { return worker.worker().state(); }), WorkerState::kDraining);
    EXPECT_EQ(advance(Worker::kCancelGrace - 1ms), 0u);
    EXPECT_EQ(advance(1ms), 1u);  // the cancel grace: close the stream anyway
  }
  auto code = worker.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(executor.started(), 1);  // the loop has stopped: safe to read
  // A card that ignored the first cancel is cancelled again when the stream ends.
  EXPECT_EQ(executor.cancels(), cards_die_on_cancel ? 1 : 2);
  EXPECT_EQ(worker.states(),
            (std::vector<WorkerState>{WorkerState::kConnecting, WorkerState::kConnected,
                                      WorkerState::kDraining, WorkerState::kDrainClosing,
                                      WorkerState::kStopping, WorkerState::kStopped}));
  const auto logs = fake.sessions();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_TRUE(logs[0].half_closed);
  for (const auto& m : logs[0].received) {
    EXPECT_EQ(m.finished_size(), 0);
    EXPECT_EQ(m.ended_size(), 0);
  }
}

TEST(WorkerSimulatedTime, DrainTimeoutCancelsTheRunningStackThenClosesTheStream) {
  DrainOutlivesItsTimeout(/*cards_die_on_cancel=*/true);
}

TEST(WorkerSimulatedTime, DrainTimeoutClosesTheStreamAfterTheCancelGraceIfCardsDoNotDie) {
  DrainOutlivesItsTimeout(/*cards_die_on_cancel=*/false);
}

}  // namespace
}  // namespace hollerith::testing
