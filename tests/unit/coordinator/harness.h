// Test doubles for the coordinator's unit tests: streams that record what the coordinator writes,
// fake workers, and a harness that drives a real Coordinator on simulated time, without gRPC.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/simulated_time.h"
#include "common/spec/parser.h"
#include "coordinator/coordinator.h"
#include "proto/wire.h"
#include "tests/unit/coordinator/owned_coordinator.h"

namespace hollerith::coordinator {

using namespace std::chrono_literals;

// Two stacks, a dependency between them: the restart tests' job (recovery, reconcile).
constexpr const char* kTwoStacks = R"(name: two
stacks:
  A:
    cards:
      - id: sum
        builtin: noop
  B:
    cards:
      - id: double
        after: [A.sum]
        builtin: noop
      - id: last
        builtin: noop
)";

// A stream whose writes complete at once; records what was written and how it ended.
template <typename Msg>
struct RecordedStream {
  std::shared_ptr<Outbox<Msg>> outbox = std::make_shared<Outbox<Msg>>();
  std::vector<Msg> written;
  std::optional<grpc::Status> finished;

  RecordedStream() {
    outbox->Attach(
        [this](const Msg* m) {
          written.push_back(*m);
          outbox->OnWriteDone(true);
        },
        [this](const grpc::Status& s) { finished = s; });
  }
};

struct FakeWorker {
  RecordedStream<v1::CoordinatorMessage> stream;
  std::shared_ptr<WorkerLink> link;
  uint64_t lamport = 1000;

  std::vector<v1::Assignment> assignments() const {
    std::vector<v1::Assignment> out;
    for (const auto& m : stream.written) {
      for (const auto& a : m.assignments()) out.push_back(a);
    }
    return out;
  }
  std::vector<v1::Release> releases() const {
    std::vector<v1::Release> out;
    for (const auto& m : stream.written) {
      for (const auto& r : m.releases()) out.push_back(r);
    }
    return out;
  }
  std::vector<v1::Drop> drops() const {
    std::vector<v1::Drop> out;
    for (const auto& m : stream.written) {
      for (const auto& d : m.drops()) out.push_back(d);
    }
    return out;
  }
};

// What a Harness of a test fixture runs on: no durable store, simulated time (a base class of
// the fixture, so that they exist before the Harness).
struct MemoryStoreAndTime {
  MemoryJobStore memory_store_;
  SimulatedTime simulated_time_;
};

// A coordinator on simulated time, with workers and clients that are recorded outboxes.
class Harness : public OwnedCoordinator {
 public:
  Harness(JobStore& store, SimulatedTime& time, CoordinatorConfig config = Config())
      : OwnedCoordinator(time, store, config), time_(time) {}

  // `hello` may carry claims (held stacks and their events), as after a lost stream.
  std::unique_ptr<FakeWorker> Connect(const std::string& name, v1::Hello hello = v1::Hello()) {
    auto w = std::make_unique<FakeWorker>();
    hello.set_name(name);
    hello.set_slots(4);
    Owned([&] { w->link = coordinator_.WorkerHello(hello, "test:" + name, w->stream.outbox); });
    return w;
  }

  void Send(FakeWorker& w, v1::WorkerMessage msg) {
    msg.set_epoch(w.link->epoch);
    msg.set_lamport(++w.lamport);
    Owned([&] { coordinator_.WorkerMessage(w.link, msg); });
  }
  void Heartbeat(FakeWorker& w) {
    v1::WorkerMessage msg;
    msg.mutable_heartbeat();
    Send(w, msg);
  }
  // Moves simulated time on by `d`, in heartbeat steps, with `alive` heartbeating all along (so
  // they keep their leases).
  void AdvanceAlive(std::chrono::milliseconds d, const std::vector<FakeWorker*>& alive) {
    const auto step = Config().heartbeat;
    for (std::chrono::milliseconds done{0}; done < d; done += step) {
      for (FakeWorker* w : alive) Heartbeat(*w);
      time_.Advance(std::min(step, d - done));
    }
  }
  // The start and the successful finish of card `card` of the stack `a` assigned, as a worker
  // reports them at Lamport time `lamport`.
  static v1::CardStarted Started(const v1::Assignment& a, uint32_t card, uint64_t lamport) {
    VectorClock vc;
    for (uint32_t i = 0; i < 2 * card + 1; ++i) vc.Tick(a.stack());
    CardStartedMsg s{{a.stack(), card}, a.attempt(), 1, "", vc, lamport, 0};
    v1::CardStarted out;
    wire::ToProto(a.job_id(), s, &out);
    return out;
  }
  static v1::CardFinished Finished(const v1::Assignment& a, uint32_t card, uint64_t lamport) {
    CardFinishedMsg f;
    for (uint32_t i = 0; i < 2 * card + 2; ++i) f.vc.Tick(a.stack());
    f.card = {a.stack(), card};
    f.attempt = a.attempt();
    f.try_no = 1;
    f.lamport = lamport;
    f.succeeded = true;
    f.exit_code = 0;
    f.stdout_text = "out of " + std::to_string(card);
    v1::CardFinished out;
    wire::ToProto(a.job_id(), f, &out);
    return out;
  }
  // Reports card `card` of the assigned stack `a` as started, then (if `finish`) succeeded.
  void RunCard(FakeWorker& w, const v1::Assignment& a, uint32_t card, bool finish = true) {
    v1::WorkerMessage started;
    *started.add_started() = Started(a, card, w.lamport + 1);
    Send(w, started);
    if (!finish) return;
    v1::WorkerMessage finished;
    *finished.add_finished() = Finished(a, card, w.lamport + 1);
    Send(w, finished);
  }

  std::string Submit(const std::string& yaml) { return SubmitRequest(yaml, "").job_id(); }
  // Submits with an idempotency key (empty: none); the whole response.
  v1::SubmitJobResponse SubmitRequest(const std::string& yaml, const std::string& key) {
    auto parsed = ParseJobSpec(yaml, "test.yaml", SpecLimits{});
    EXPECT_TRUE(parsed.ok()) << parsed.message();
    auto spec = std::make_shared<const JobSpec>(std::move(parsed).value());
    v1::SubmitJobRequest req;
    req.set_spec(yaml);
    req.set_spec_name("test.yaml");
    req.set_idempotency_key(key);
    v1::SubmitJobResponse resp;
    Owned([&] { EXPECT_TRUE(coordinator_.Submit(spec, req, &resp).ok()); });
    return resp;
  }

  v1::JobStatus JobStatusOf(const std::string& id) {
    v1::JobStatus st;
    Owned([&] { EXPECT_TRUE(coordinator_.GetJob(id, &st).ok()); });
    return st;
  }
  std::vector<std::string> WorkerNames() {
    v1::ListWorkersResponse resp;
    Owned([&] { coordinator_.ListWorkers(&resp); });
    std::vector<std::string> names;
    for (const auto& w : resp.workers()) names.push_back(w.name());
    return names;
  }

  SimulatedTime& time_;
};

}  // namespace hollerith::coordinator
