// libFuzzer target: what the coordinator does with the messages a worker sends on its session,
// against a real Coordinator holding a running job whose stacks are placed on the worker: the
// hello's validation, fencing (epoch, holder, attempt), the card events fed to the job's core,
// leases, and then every view of the job (status, list, trace). Frames (frames.h):
//   1: a WorkerMessage on the current session (epoch 0 is replaced by the session's, so that
//      most messages pass the fence), 2: a new session whose first message this is (validated as
//      a hello), 3: time passes (10 ms per byte), 4: the current session disconnects.
#include <cstddef>
#include <cstdint>
#include <sstream>

#include "common/trace/chrome_trace.h"
#include "tests/fuzz/coordinator_harness.h"
#include "tests/fuzz/frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hollerith;
  fuzz::FuzzCoordinator c;
  const std::string job = c.SubmitExample();
  auto session = c.Connect(fuzz::Hello("w1"));
  for (const fuzz::Frame& f : fuzz::ReadFrames(data, size)) {
    v1::WorkerMessage msg;
    switch (f.kind) {
      case 1:
        if (!session || !msg.ParseFromString(f.bytes)) break;
        if (msg.epoch() == 0) msg.set_epoch(session->link->epoch);
        c.Send(*session, msg);
        break;
      case 2:
        if (!msg.ParseFromString(f.bytes)) break;
        if (auto next = c.Connect(msg)) session = std::move(next);
        break;
      case 3:
        c.Advance(std::chrono::milliseconds(10 * std::min<size_t>(f.bytes.size(), 1000)));
        break;
      case 4:
        if (session) c.Disconnect(*session);
        session.reset();
        break;
      default:
        break;
    }
  }
  c.Owned([&] {
    v1::JobStatus status;
    (void)c.coordinator().GetJob(job, &status);
    v1::ListJobsResponse jobs;
    c.coordinator().ListJobs(&jobs);
    v1::ListWorkersResponse workers;
    c.coordinator().ListWorkers(&workers);
    std::string trace;
    (void)c.coordinator().RenderTrace(job, &trace);
  });
  return 0;
}
