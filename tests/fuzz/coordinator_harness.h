// A real Coordinator on simulated time for the fuzz targets (no gRPC): streams are outboxes whose
// writes complete at once and are counted, not kept (a fuzz run must not grow), with the last
// messages of a worker's stream kept for the seed writer.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/base/simulated_time.h"
#include "coordinator/coordinator.h"
#include "coordinator/submission.h"
#include "proto/wire.h"
#include "tests/unit/coordinator/owned_coordinator.h"

namespace hollerith::fuzz {

// The job every coordinator target starts with: two stacks, `after`, an input and a combine.
inline constexpr const char* kJobSpec = R"(name: report
stacks:
  A:
    cards:
      - id: fetch
        run: sh -c 'seq 1 1000 > numbers.txt'
        outputs: [numbers.txt]
      - id: sum
        run: awk '{s+=$1} END {print s}' numbers.txt
  B:
    cards:
      - id: double
        after: [A.sum]
        inputs: [A.fetch:numbers.txt]
        run: awk '{s+=2*$1} END {print s}' numbers.txt
        retries: 1
      - id: nap
        builtin: {sleep: 200ms}
combine:
  run: cat results/A.sum.stdout
)";

template <typename Msg>
struct CountingStream {
  std::shared_ptr<coordinator::Outbox<Msg>> outbox = std::make_shared<coordinator::Outbox<Msg>>();
  size_t written = 0;
  std::vector<Msg>* keep = nullptr;  // where to copy what is written, if anywhere
  bool finished = false;

  CountingStream() {
    outbox->Attach(
        [this](const Msg* m) {
          ++written;
          if (keep) keep->push_back(*m);
          outbox->OnWriteDone(true);
        },
        [this](const grpc::Status&) { finished = true; });
  }
  // As a reactor that is done: the coordinator may still hold the outbox, never this.
  ~CountingStream() { outbox->Detach(); }
  CountingStream(const CountingStream&) = delete;
  CountingStream& operator=(const CountingStream&) = delete;
};

// What FuzzCoordinator owns, made before its coordinator.
struct FuzzCoordinatorState {
  SimulatedTime time_;
  coordinator::MemoryJobStore store_;
};

class FuzzCoordinator : private FuzzCoordinatorState, public coordinator::OwnedCoordinator {
 public:
  FuzzCoordinator() : coordinator::OwnedCoordinator(time_, store_) { coordinator_.Start(); }

  // Moves simulated time (leases, the publish linger, retries) and runs what fell due.
  void Advance(std::chrono::milliseconds d) {
    time_.Advance(d);
    RunDue();
  }

  // What Service::SubmitJob does with a request: check and parse it, then submit on the loop.
  Status Submit(const v1::SubmitJobRequest& req, v1::SubmitJobResponse* resp) {
    auto spec = coordinator::ParseSubmission(req, SpecLimits{});
    if (!spec.ok()) return spec.status();
    Status s;
    Owned([&] { s = coordinator_.Submit(*spec, req, resp); });
    return s;
  }
  // Submits kJobSpec; aborts if that fails (the harness is broken, not the input).
  std::string SubmitExample() {
    v1::SubmitJobRequest req;
    req.set_spec(kJobSpec);
    req.set_spec_name("report.yaml");
    v1::SubmitJobResponse resp;
    if (Status s = Submit(req, &resp); !s.ok()) {
      std::fprintf(stderr, "cannot submit the example: %s\n", s.message().c_str());
      std::abort();
    }
    return resp.job_id();
  }

  struct Worker {
    CountingStream<v1::CoordinatorMessage> stream;
    std::shared_ptr<coordinator::WorkerLink> link;
  };
  // What SessionReactor does with a session's first message: validate the hello, then connect.
  std::unique_ptr<Worker> Connect(const v1::WorkerMessage& first,
                                  std::vector<v1::CoordinatorMessage>* keep = nullptr) {
    if (!wire::ValidateHello(first).ok()) return nullptr;
    auto w = std::make_unique<Worker>();
    w->stream.keep = keep;
    Owned([&] { w->link = coordinator_.WorkerHello(first.hello(), "fuzz", w->stream.outbox); });
    return w;
  }
  void Send(Worker& w, const v1::WorkerMessage& msg) {
    Owned([&] { coordinator_.WorkerMessage(w.link, msg); });
  }
  void Disconnect(Worker& w) {
    w.stream.outbox->Detach();
    Owned([&] { coordinator_.WorkerGone(w.link, "disconnected"); });
  }

  coordinator::Coordinator& coordinator() { return coordinator_; }
};

inline v1::WorkerMessage Hello(const std::string& name) {
  v1::WorkerMessage m;
  m.mutable_hello()->set_name(name);
  m.mutable_hello()->set_slots(4);
  return m;
}

}  // namespace hollerith::fuzz
