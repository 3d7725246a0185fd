// libFuzzer target: what the coordinator does with the requests of clients (hollerith submit,
// status, watch, logs, cancel, delete, workers, trace), decoded from their protos and applied to a
// real Coordinator as the service applies them, with a worker connected that runs nothing (so
// jobs stay running and watchers and followers wait). Frames (frames.h), by field number:
//   1 SubmitJobRequest  2 JobRef: GetJob  3 JobRef: CancelJob  4 JobRef: DeleteJob
//   5 ListJobsRequest   6 ListWorkersRequest  7 WatchJobRequest  8 ReadLogRequest
//   9 JobRef: GetTrace  10: time passes (10 ms per byte)
#include <cstddef>
#include <cstdint>
#include <list>

#include "tests/fuzz/coordinator_harness.h"
#include "tests/fuzz/frames.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hollerith;
  fuzz::FuzzCoordinator c;
  (void)c.SubmitExample();
  auto worker = c.Connect(fuzz::Hello("w1"));
  auto& co = c.coordinator();
  std::list<fuzz::CountingStream<v1::JobEventBatch>> watchers;
  std::list<fuzz::CountingStream<v1::LogChunk>> readers;
  for (const fuzz::Frame& f : fuzz::ReadFrames(data, size, 32)) {
    v1::JobRef ref;
    switch (f.kind) {
      case 1: {
        v1::SubmitJobRequest req;
        v1::SubmitJobResponse resp;
        if (req.ParseFromString(f.bytes)) (void)c.Submit(req, &resp);
        break;
      }
      case 2:
      case 3:
      case 4:
      case 9:
        if (!ref.ParseFromString(f.bytes)) break;
        c.Owned([&] {
          co.clock().Receive(ref.lamport());
          v1::JobStatus status;
          v1::CancelJobResponse cancelled;
          v1::DeleteJobResponse deleted;
          std::string trace;
          Status s = f.kind == 2   ? co.GetJob(ref.job(), &status)
                     : f.kind == 3 ? co.Cancel(ref.job(), &cancelled)
                     : f.kind == 4 ? co.Delete(ref.job(), &deleted)
                                   : co.RenderTrace(ref.job(), &trace);
          (void)s;
        });
        break;
      case 5: {
        v1::ListJobsRequest req;
        v1::ListJobsResponse resp;
        if (!req.ParseFromString(f.bytes)) break;
        c.Owned([&] {
          co.clock().Receive(req.lamport());
          co.ListJobs(&resp);
        });
        break;
      }
      case 6: {
        v1::ListWorkersRequest req;
        v1::ListWorkersResponse resp;
        if (!req.ParseFromString(f.bytes)) break;
        c.Owned([&] {
          co.clock().Receive(req.lamport());
          co.ListWorkers(&resp);
        });
        break;
      }
      case 7: {
        v1::WatchJobRequest req;
        if (!req.ParseFromString(f.bytes)) break;
        auto& w = watchers.emplace_back();
        c.Owned([&] {
          co.clock().Receive(req.lamport());
          if (Status s = co.Watch(req.job(), req.from_lamport(), w.outbox); !s.ok()) {
            w.outbox->Close(s);
          }
        });
        break;
      }
      case 8: {
        v1::ReadLogRequest req;
        if (!req.ParseFromString(f.bytes)) break;
        auto& r = readers.emplace_back();
        c.Owned([&] {
          if (Status s = co.ReadLog(req, r.outbox); !s.ok()) r.outbox->Close(s);
        });
        break;
      }
      case 10:
        c.Advance(std::chrono::milliseconds(10 * std::min<size_t>(f.bytes.size(), 1000)));
        break;
      default:
        break;
    }
  }
  return 0;
}
