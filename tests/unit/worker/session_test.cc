// The worker daemon against a scripted in-process coordinator: hello/welcome, running an assigned
// stack and reporting its events with correct clocks, batching, a rejected token, reconnecting
// after a lost stream, and draining.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "common/base/version.h"
#include "tests/unit/worker/coordinator_messages.h"
#include "tests/unit/worker/fake_coordinator.h"
#include "tests/unit/worker/harness.h"

namespace hollerith::testing {
namespace {

using Logs = std::deque<FakeCoordinator::SessionLog>;

constexpr const char* kSessionToken = "s3cret-token";

// Every event of one session, flattened.
struct Events {
  std::vector<v1::CardStarted> started;
  std::vector<v1::CardFinished> finished;
  std::vector<v1::StackEnded> ended;
  size_t messages = 0;  // after the hello
  bool heartbeat = false;
};

Events Collect(const FakeCoordinator::SessionLog& log) {
  Events e;
  for (size_t i = 1; i < log.received.size(); ++i) {
    const auto& m = log.received[i];
    ++e.messages;
    e.heartbeat |= m.has_heartbeat();
    e.started.insert(e.started.end(), m.started().begin(), m.started().end());
    e.finished.insert(e.finished.end(), m.finished().begin(), m.finished().end());
    e.ended.insert(e.ended.end(), m.ended().begin(), m.ended().end());
  }
  return e;
}

bool HasEnded(const Logs& logs, size_t session) { return CountEnded(logs, session) > 0; }
bool HasStarted(const Logs& logs, size_t session) { return CountStarted(logs, session) > 0; }

std::vector<std::pair<uint32_t, uint64_t>> Vc(const v1::VectorClock& vc) {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  for (int i = 0; i < vc.stacks_size() && i < vc.counters_size(); ++i) {
    out.emplace_back(vc.stacks(i), vc.counters(i));
  }
  return out;
}

TEST(WorkerSession, HelloWelcomeThenRunsAStackAndReportsEventsWithClocks) {
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(7, 50, 100);
    *reply.add_assignments() = MakeAssignment("job-1", 3, 1, Noops(2), 101);
    fake.Send(session, std::move(reply));
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasEnded(l, 0); }));
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return !l.empty() && Collect(l[0]).heartbeat; }));

  const auto log = fake.sessions()[0];
  const auto& hello = log.received[0];
  ASSERT_TRUE(hello.has_hello());
  EXPECT_EQ(hello.hello().name(), "w1");
  ASSERT_EQ(hello.hello().labels_size(), 1);
  EXPECT_EQ(hello.hello().labels(0).key(), "zone");
  EXPECT_EQ(hello.hello().labels(0).value(), "eu");
  EXPECT_EQ(hello.hello().slots(), 2u);
  EXPECT_EQ(hello.hello().capacity().cpu_milli(), 2000u) << "--slots 2 is cpu=2";
  EXPECT_GT(hello.hello().capacity().memory_bytes(), 0u) << "the machine's memory";
  EXPECT_EQ(hello.hello().version(), kVersionString);
  EXPECT_EQ(hello.epoch(), 0u);
  EXPECT_GE(hello.lamport(), 1u);

  for (size_t i = 1; i < log.received.size(); ++i) {
    const auto& m = log.received[i];
    EXPECT_FALSE(m.has_hello());
    EXPECT_EQ(m.epoch(), 7u) << "message " << i;
    for (const auto& s : m.started()) EXPECT_GE(m.lamport(), s.lamport());
    for (const auto& f : m.finished()) EXPECT_GE(m.lamport(), f.lamport());
  }

  Events e = Collect(log);
  ASSERT_EQ(e.started.size(), 2u);
  ASSERT_EQ(e.finished.size(), 2u);
  ASSERT_EQ(e.ended.size(), 1u);
  std::sort(e.started.begin(), e.started.end(),
            [](const auto& a, const auto& b) { return a.card().card() < b.card().card(); });
  std::sort(e.finished.begin(), e.finished.end(),
            [](const auto& a, const auto& b) { return a.card().card() < b.card().card(); });
  for (uint32_t c = 0; c < 2; ++c) {
    EXPECT_EQ(e.started[c].job_id(), "job-1");
    EXPECT_EQ(e.started[c].card().stack(), 3u);
    EXPECT_EQ(e.started[c].card().card(), c);
    EXPECT_EQ(e.started[c].attempt(), 1u);
    EXPECT_EQ(e.started[c].try_no(), 1u);
    EXPECT_TRUE(e.finished[c].succeeded());
    EXPECT_EQ(e.finished[c].exit_code(), 0);
    EXPECT_EQ(e.finished[c].attempt(), 1u);
  }
  // Lamport: after the assignment (101), and start < finish < next start < next finish.
  EXPECT_GT(e.started[0].lamport(), 101u);
  EXPECT_GT(e.finished[0].lamport(), e.started[0].lamport());
  EXPECT_GT(e.started[1].lamport(), e.finished[0].lamport());
  EXPECT_GT(e.finished[1].lamport(), e.started[1].lamport());
  // Vector clocks: one entry (this stack), ticked on every start and finish.
  using Vcs = std::vector<std::pair<uint32_t, uint64_t>>;
  EXPECT_EQ(Vc(e.started[0].vc()), (Vcs{{3, 1}}));
  EXPECT_EQ(Vc(e.finished[0].vc()), (Vcs{{3, 2}}));
  EXPECT_EQ(Vc(e.started[1].vc()), (Vcs{{3, 3}}));
  EXPECT_EQ(Vc(e.finished[1].vc()), (Vcs{{3, 4}}));
  EXPECT_EQ(e.ended[0].job_id(), "job-1");
  EXPECT_EQ(e.ended[0].stack(), 3u);
  EXPECT_EQ(e.ended[0].attempt(), 1u);
}

TEST(WorkerSession, WrongTokenStopsTheWorkerWithExitCode3) {
  FakeCoordinator fake(kSessionToken);
  WorkerHarness worker(TestWorkerOptions(fake.address(), "not-the-token"));
  worker.Start();
  auto code = worker.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(fake.rejected(), 1);  // no retry loop
  EXPECT_TRUE(fake.sessions().empty());
}

TEST(WorkerSession, UnrunnableStackIsReportedAsFailedNotDropped) {
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(1, 1000, 10);
    v1::CardDef empty;
    empty.set_id("nothing");  // no shell, argv or builtin
    *reply.add_assignments() = MakeAssignment("job-x", 0, 1, {empty}, 11);
    fake.Send(session, std::move(reply));
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasEnded(l, 0); }));
  Events e = Collect(fake.sessions()[0]);
  ASSERT_EQ(e.finished.size(), 1u);
  EXPECT_FALSE(e.finished[0].succeeded());
  EXPECT_NE(e.finished[0].error().find("nothing to run"), std::string::npos)
      << e.finished[0].error();
  EXPECT_TRUE(e.started.empty());
}

// Job and stack ids name directories under the work dir: one that is a path is never used as one.
// A bad stack id fails the stack with the reason; a bad job id cannot be reported for, so the
// assignment is ignored; the good assignment after them runs.
TEST(WorkerSession, IdsThatArePathsAreRefusedAndNothingEscapesTheWorkDir) {
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(1, 1000, 10);
    *reply.add_assignments() = MakeAssignment("../../escaped-job", 0, 1, {Noop("a")}, 11);
    v1::Assignment bad_stack = MakeAssignment("job-x", 1, 1, {Noop("a")}, 12);
    bad_stack.mutable_spec()->set_id("../../escaped-stack");
    *reply.add_assignments() = bad_stack;
    *reply.add_assignments() = MakeAssignment("job-x", 2, 1, {Noop("a")}, 13);
    fake.Send(session, std::move(reply));
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return CountEnded(l, 0) >= 2; }));
  Events e = Collect(fake.sessions()[0]);
  std::map<uint32_t, const v1::CardFinished*> finished;
  for (const auto& f : e.finished) finished[f.card().stack()] = &f;
  ASSERT_EQ(finished.size(), 2u) << "stacks 1 (refused) and 2 (ran); the bad job id is ignored";
  EXPECT_FALSE(finished[1]->succeeded());
  EXPECT_NE(finished[1]->error().find("bad stack id"), std::string::npos) << finished[1]->error();
  EXPECT_TRUE(finished[2]->succeeded());
  for (const auto& f : e.finished) EXPECT_EQ(f.job_id(), "job-x");
  // Where WORK_DIR/jobs/JOB/STACK.ATTEMPT would have led.
  const std::filesystem::path dir = worker.work_dir();
  EXPECT_FALSE(std::filesystem::exists(dir.parent_path() / "escaped-job"));
  EXPECT_FALSE(std::filesystem::exists(dir / "escaped-stack.1"));
}

TEST(WorkerSession, ReconnectsAfterALostStreamWithAFreshHelloAndCancelsLocalStacks) {
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(session + 1, 1000, 10 * (session + 1));
    if (session == 0) {
      // A long card, lost with the stream.
      *reply.add_assignments() = MakeAssignment("job-r", 0, 1, {Sleep("long", 60'000)}, 11);
    } else {
      // Re-placed here with attempt + 1.
      *reply.add_assignments() = MakeAssignment("job-r", 0, 2, Noops(1), 21);
    }
    fake.Send(session, std::move(reply));
  });
  auto options = TestWorkerOptions(fake.address(), kSessionToken);
  options.outage_grace = std::chrono::milliseconds(0);  // no outage grace: cancel at once
  WorkerHarness worker(std::move(options));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasStarted(l, 0); }));
  fake.EndSession(0, grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator restarting"));

  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasEnded(l, 1); }));
  const auto logs = fake.sessions();
  ASSERT_GE(logs.size(), 2u);
  ASSERT_TRUE(logs[1].received[0].has_hello());
  EXPECT_EQ(logs[1].received[0].epoch(), 0u);
  Events e = Collect(logs[1]);
  for (const auto& m :
       std::vector<v1::WorkerMessage>(logs[1].received.begin() + 1, logs[1].received.end())) {
    EXPECT_EQ(m.epoch(), 2u);
  }
  // Nothing of the lost attempt is reported on the new session.
  for (const auto& s : e.started) EXPECT_EQ(s.attempt(), 2u);
  for (const auto& f : e.finished) EXPECT_EQ(f.attempt(), 2u);
  ASSERT_EQ(e.ended.size(), 1u);
  EXPECT_EQ(e.ended[0].attempt(), 2u);
  ASSERT_EQ(e.finished.size(), 1u);
  EXPECT_TRUE(e.finished[0].succeeded());
  // Old session: the cancelled long card never reported a finish.
  EXPECT_TRUE(Collect(logs[0]).finished.empty());
}

// Every finish of (job, stack, attempt) a session carried, in its hello or after it.
std::vector<v1::CardFinished> FinishesOf(const FakeCoordinator::SessionLog& log, uint32_t attempt) {
  std::vector<v1::CardFinished> out;
  for (const auto& m : log.received) {
    for (const auto& f : m.has_hello() ? m.hello().finished() : m.finished()) {
      if (f.attempt() == attempt) out.push_back(f);
    }
  }
  return out;
}

// A lost stream with the default outage grace: the running stack is kept, the next hello claims
// it (with the start the coordinator may have missed), and it finishes under its attempt.
TEST(WorkerSession, KeepsItsStacksThroughAnOutageAndClaimsThemInTheNextHello) {
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(session + 1, 1000, 10 * (session + 1));
    if (session == 0) {
      *reply.add_assignments() =
          MakeAssignment("job-k", 0, 1, {Sleep("long", 1500), Noop("next")}, 11);
    }
    fake.Send(session, std::move(reply));  // session 1: a welcome, no drops: the claim stands
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasStarted(l, 0); }));
  fake.EndSession(0, grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator restarting"));

  ASSERT_TRUE(fake.WaitFor([](const Logs& l) {
    if (l.size() < 2) return false;
    for (const auto& m : l[1].received) {
      if (m.ended_size() > 0) return true;
      for (const auto& h : m.hello().held()) {
        if (h.ended()) return true;
      }
    }
    return false;
  }));
  const auto logs = fake.sessions();
  const v1::Hello& hello = logs[1].received[0].hello();
  ASSERT_EQ(hello.held_size(), 1);
  EXPECT_EQ(hello.held(0).job_id(), "job-k");
  EXPECT_EQ(hello.held(0).attempt(), 1u);
  EXPECT_EQ(hello.held(0).epoch(), 1u);
  ASSERT_GE(hello.started_size(), 1) << "the start sent just before the stream broke";
  EXPECT_EQ(hello.started(0).card().card(), 0u);
  // Both cards finished once, under attempt 1, on the new session (or in its hello).
  const auto finished = FinishesOf(logs[1], 1);
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_EQ(finished[0].card().card(), 0u);
  EXPECT_EQ(finished[1].card().card(), 1u);
  EXPECT_TRUE(finished[0].succeeded());
  EXPECT_TRUE(FinishesOf(logs[0], 1).empty());
}

// The coordinator drops the claim (a stale attempt): the worker cancels the stack and reports
// nothing more of it.
TEST(WorkerSession, CancelsAClaimedStackTheCoordinatorDrops) {
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(session + 1, 1000, 10 * (session + 1));
    if (session == 0) {
      *reply.add_assignments() = MakeAssignment("job-d", 0, 1, {Sleep("long", 60'000)}, 11);
    } else {
      auto* drop = reply.add_drops();
      drop->set_job_id("job-d");
      drop->set_stack(0);
      drop->set_attempt(1);
      drop->set_reason("a stale attempt: the stack was re-placed with attempt 2");
      *reply.add_assignments() = MakeAssignment("job-d", 1, 1, Noops(1), 21);
    }
    fake.Send(session, std::move(reply));
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasStarted(l, 0); }));
  fake.EndSession(0, grpc::Status(grpc::StatusCode::UNAVAILABLE, "coordinator restarting"));
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasEnded(l, 1); }));
  // The dropped stack's card is killed: only stack 1 is left, then nothing.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (worker.OnLoop([&] { return worker.worker().active_stacks(); }).value_or(1) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(worker.OnLoop([&] { return worker.worker().active_stacks(); }), size_t{0});
  const auto logs = fake.sessions();
  ASSERT_EQ(logs[1].received[0].hello().held_size(), 1);
  Events e = Collect(logs[1]);
  for (const auto& f : e.finished) EXPECT_EQ(f.card().stack(), 1u) << "nothing of stack 0";
  ASSERT_EQ(e.ended.size(), 1u);
  EXPECT_EQ(e.ended[0].stack(), 1u);
}

TEST(WorkerSession, DrainLetsRunningStacksFinishThenClosesTheStream) {
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(4, 1000, 10);
    *reply.add_assignments() = MakeAssignment("job-d", 0, 1, {Sleep("nap", 300)}, 11);
    fake.Send(session, std::move(reply));
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasStarted(l, 0); }));
  worker.Post([&] { worker.worker().Drain("test"); });
  auto code = worker.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  const auto logs = fake.sessions();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_TRUE(logs[0].half_closed);
  Events e = Collect(logs[0]);
  ASSERT_EQ(e.finished.size(), 1u);
  EXPECT_TRUE(e.finished[0].succeeded());
  ASSERT_EQ(e.ended.size(), 1u);
  EXPECT_TRUE(e.heartbeat);  // the final heartbeat sent when the drain began
}

TEST(WorkerSession, DrainDeclinesNewStacks) {
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(4, 1000, 10);
    *reply.add_assignments() = MakeAssignment("job-d", 0, 1, {Sleep("nap", 300)}, 11);
    reply.set_drain(true);  // assignments in the same message still apply, then the drain
    fake.Send(session, std::move(reply));
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return HasStarted(l, 0); }));
  v1::CoordinatorMessage late;
  late.set_lamport(50);
  *late.add_assignments() = MakeAssignment("job-d", 1, 1, Noops(1), 50);
  fake.Send(0, late);
  auto code = worker.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  Events e = Collect(fake.sessions()[0]);
  ASSERT_EQ(e.ended.size(), 1u);
  EXPECT_EQ(e.ended[0].stack(), 0u);
  for (const auto& s : e.started) EXPECT_EQ(s.card().stack(), 0u);
}

TEST(WorkerSession, AppliesMessagesInStreamOrderAndStampsStartsWithReleases) {
  // Each stack's only card waits for card 0 of stack kStacks (hosted elsewhere). The assignment
  // and its release arrive in separate, back-to-back messages: applied out of order, the release
  // would find no stack and the card would wait forever.
  constexpr uint32_t kStacks = 2000;
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    fake.Send(session, Welcome(1, 60'000, 10));
    for (uint32_t s = 0; s < kStacks; ++s) {
      v1::CardDef waits = Noop("waits");
      waits.add_after()->set_stack(kStacks);
      v1::CoordinatorMessage assign;
      assign.set_lamport(20 + 2 * s);
      *assign.add_assignments() = MakeAssignment("job-o", s, 1, {waits}, 20 + 2 * s);
      fake.Send(session, std::move(assign));
      v1::CoordinatorMessage release;
      release.set_lamport(21 + 2 * s);
      auto* r = release.add_releases();
      r->set_job_id("job-o");
      r->mutable_from()->set_stack(kStacks);
      r->mutable_to()->set_stack(s);
      r->set_attempt(1);
      r->mutable_vc()->add_stacks(kStacks);
      r->mutable_vc()->add_counters(2);
      r->set_lamport(21 + 2 * s);
      fake.Send(session, std::move(release));
    }
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return CountEnded(l, 0) == kStacks; }))
      << "stacks ended: " << CountEnded(fake.sessions(), 0);
  Events e = Collect(fake.sessions()[0]);
  ASSERT_EQ(e.started.size(), kStacks);
  using Vcs = std::vector<std::pair<uint32_t, uint64_t>>;
  for (const auto& s : e.started) {
    // The start knows the release's clock, and comes after the release in Lamport time.
    EXPECT_EQ(Vc(s.vc()), (Vcs{{s.card().stack(), 1}, {kStacks, 2}}));
    EXPECT_GT(s.lamport(), 21 + 2 * s.card().stack());
  }
}

TEST(WorkerSession, APackedReleaseReleasesEachOfItsCardsWithTheirMergedClock) {
  // A card waits for card 0 of stacks 1, 2 and 3 (hosted elsewhere). First a release packing 1
  // and 2 (2 twice: a card packed again counts once), then one from 3: only then may it start.
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    fake.Send(session, Welcome(1, 60'000, 10));
    v1::CardDef waits = Noop("waits");
    for (uint32_t s : {1u, 2u, 3u}) waits.add_after()->set_stack(s);
    v1::CoordinatorMessage msg;
    msg.set_lamport(20);
    *msg.add_assignments() = MakeAssignment("job-p", 0, 1, {waits}, 20);
    auto release = [&](uint32_t from, std::vector<uint32_t> more, uint64_t lamport) {
      auto* r = msg.add_releases();
      r->set_job_id("job-p");
      r->mutable_from()->set_stack(from);
      r->set_attempt(1);
      r->set_lamport(lamport);
      more.insert(more.begin(), from);
      for (uint32_t s : more) {
        r->mutable_vc()->add_stacks(s);
        r->mutable_vc()->add_counters(2 * s);
      }
      for (size_t i = 1; i < more.size(); ++i) {
        r->add_also_from_stacks(more[i]);
        r->add_also_from_cards(0);
      }
    };
    release(1, {2, 2}, 21);
    fake.Send(session, v1::CoordinatorMessage(msg));
    // The card must not start on the packed release alone: stack 3 has not released it.
    msg = v1::CoordinatorMessage();
    msg.set_lamport(30);
    release(3, {}, 30);
    fake.Send(session, std::move(msg));
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(fake.WaitFor([](const Logs& l) { return CountEnded(l, 0) == 1; }));
  Events e = Collect(fake.sessions()[0]);
  ASSERT_EQ(e.started.size(), 1u);
  using Vcs = std::vector<std::pair<uint32_t, uint64_t>>;
  EXPECT_EQ(Vc(e.started[0].vc()), (Vcs{{0, 1}, {1, 2}, {2, 4}, {3, 6}}));
  EXPECT_GT(e.started[0].lamport(), 30u) << "after the last release, not only the packed one";
}

TEST(WorkerSession, BatchesEventsIntoFewMessagesUnderLoad) {
  constexpr int kCards = 5000;
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(1, 60'000, 10);
    for (uint32_t s = 0; s < 10; ++s) {
      *reply.add_assignments() = MakeAssignment("job-b", s, 1, Noops(kCards / 10), 11);
    }
    fake.Send(session, std::move(reply));
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  const auto start = std::chrono::steady_clock::now();
  worker.Start();
  ASSERT_TRUE(
      fake.WaitFor([](const Logs& l) { return CountEnded(l, 0) == 10; }, std::chrono::seconds(60)));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  Events e = Collect(fake.sessions()[0]);
  EXPECT_EQ(e.started.size(), static_cast<size_t>(kCards));
  EXPECT_EQ(e.finished.size(), static_cast<size_t>(kCards));
  EXPECT_LT(e.messages, static_cast<size_t>(kCards) / 4) << "events are not batched";
  std::printf("%d cards in %lld ms, %zu messages\n", kCards,
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()),
              e.messages);
}

}  // namespace
}  // namespace hollerith::testing

namespace hollerith::testing {
namespace {

// Under load a card's start rides along with the next message, but never waits for its card to
// finish: both starts arrive while both cards (10 s sleeps) are still running.
TEST(WorkerSession, StartsUnderLoadArriveWhileTheCardsRun) {
  FakeCoordinator fake(kSessionToken);
  fake.set_on_message([&](size_t session, const v1::WorkerMessage& m) {
    if (!m.has_hello()) return;
    v1::CoordinatorMessage reply = Welcome(1, 60'000, 10);
    *reply.add_assignments() = MakeAssignment("job-s", 0, 1, {Sleep("a", 10'000)}, 11);
    *reply.add_assignments() = MakeAssignment("job-s", 1, 1, {Sleep("b", 10'000)}, 11);
    fake.Send(session, std::move(reply));
  });
  WorkerHarness worker(TestWorkerOptions(fake.address(), kSessionToken));
  worker.Start();
  ASSERT_TRUE(
      fake.WaitFor([](const Logs& l) { return CountStarted(l, 0) == 2; }, std::chrono::seconds(5)))
      << "a start waited for its card to finish";
  Events e = Collect(fake.sessions()[0]);
  EXPECT_TRUE(e.finished.empty());
}

}  // namespace
}  // namespace hollerith::testing
