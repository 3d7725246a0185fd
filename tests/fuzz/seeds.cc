// Writes the seed corpora of the proto-based fuzz targets from a real job's traffic: the example
// job submitted to a real Coordinator, a worker that runs every card, and what went each way.
// Usage: fuzz_seeds tests/fuzz/corpus   (run by hand when the protos change; seeds are committed)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/artifacts/store.h"
#include "tests/fuzz/coordinator_harness.h"
#include "tests/fuzz/frames.h"

namespace fs = std::filesystem;
using namespace hollerith;

namespace {

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

template <typename Msg>
void Add(std::string* out, uint32_t kind, const Msg& msg) {
  fuzz::AppendFrame(out, kind, msg.SerializeAsString());
}

// Keeps `msg` as a frame with epoch 0 (the target puts the session's in) and sends it.
void Send(fuzz::FuzzCoordinator& c, fuzz::FuzzCoordinator::Worker& w, v1::WorkerMessage msg,
          std::string* frames) {
  Add(frames, 1, msg);
  msg.set_epoch(w.link->epoch);
  c.Send(w, msg);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR\n");
    return 2;
  }
  const fs::path corpus = argv[1];
  fuzz::FuzzCoordinator c;
  const std::string job = c.SubmitExample();
  std::vector<v1::CoordinatorMessage> down;
  auto w = c.Connect(fuzz::Hello("w1"), &down);
  std::string up_frames, down_frames;
  uint64_t lamport = 100;
  // Run every assigned stack's cards in order, as many rounds as new assignments arrive.
  for (size_t seen = 0, round = 0; round < 10; ++round) {
    std::vector<v1::Assignment> todo;
    for (; seen < down.size(); ++seen) {
      Add(&down_frames, 1, down[seen]);
      for (const auto& a : down[seen].assignments()) todo.push_back(a);
    }
    if (todo.empty()) break;
    for (const auto& a : todo) {
      VectorClock vc;
      for (int card = 0; card < a.spec().cards_size(); ++card) {
        vc.Tick(a.stack());
        v1::WorkerMessage started;
        started.set_lamport(++lamport);
        CardStartedMsg s{
            {a.stack(), static_cast<uint32_t>(card)}, a.attempt(), 1, "w1", vc, lamport, 0};
        wire::ToProto(a.job_id(), s, started.add_started());
        vc.Tick(a.stack());
        CardFinishedMsg f;
        f.card = s.card;
        f.attempt = a.attempt();
        f.try_no = 1;
        f.vc = vc;
        f.lamport = ++lamport;
        f.succeeded = true;
        f.stdout_text = "42\n";
        v1::WorkerMessage finished;
        finished.set_lamport(lamport);
        wire::ToProto(a.job_id(), f, finished.add_finished());
        for (const auto* m : {&started, &finished}) Send(c, *w, *m, &up_frames);
        fuzz::AppendFrame(&down_frames, 2, std::string(1, '\0'));
      }
      v1::WorkerMessage ended;
      ended.set_lamport(++lamport);
      ended.add_ended()->set_job_id(a.job_id());
      ended.mutable_ended(0)->set_stack(a.stack());
      ended.mutable_ended(0)->set_attempt(a.attempt());
      Send(c, *w, ended, &up_frames);
    }
  }
  v1::WorkerMessage heartbeat;
  heartbeat.mutable_heartbeat();
  Add(&up_frames, 1, heartbeat);
  fuzz::AppendFrame(&up_frames, 3, std::string(50, 'x'));  // past the lease
  Add(&up_frames, 2, fuzz::Hello("w2"));
  fuzz::AppendFrame(&up_frames, 4, "");
  Write(corpus / "worker_message", "job-run", up_frames);
  Write(corpus / "coordinator_message", "job-run", down_frames);

  std::string client;
  v1::SubmitJobRequest submit;
  submit.set_spec(fuzz::kJobSpec);
  submit.set_spec_name("report.yaml");
  submit.set_idempotency_key("key-1");
  Add(&client, 1, submit);
  v1::JobRef ref;
  ref.set_job(job);
  for (uint32_t kind : {2u, 9u}) Add(&client, kind, ref);
  v1::WatchJobRequest watch;
  watch.set_job(job);
  Add(&client, 7, watch);
  v1::ReadLogRequest log;
  log.set_job(job);
  log.set_card("A.sum");
  log.set_follow(true);
  Add(&client, 8, log);
  Add(&client, 5, v1::ListJobsRequest());
  Add(&client, 6, v1::ListWorkersRequest());
  fuzz::AppendFrame(&client, 10, std::string(10, 'x'));
  ref.set_job("report-2");
  for (uint32_t kind : {3u, 4u}) Add(&client, kind, ref);
  Write(corpus / "client_request", "requests", client);

  const std::string abc_digest = Sha256Hex("abc");
  std::string good, lie, changed;
  fuzz::AppendFrame(&good, 1, "ab");
  fuzz::AppendFrame(&good, 3, "c");
  fuzz::AppendFrame(&lie, 2, abc_digest);
  fuzz::AppendFrame(&lie, 3, "abd");
  fuzz::AppendFrame(&changed, 1, "a");
  fuzz::AppendFrame(&changed, 2, Sha256Hex("b"));
  Write(corpus / "artifact_upload", "good", good);
  Write(corpus / "artifact_upload", "lying-digest", lie);
  Write(corpus / "artifact_upload", "changed-digest", changed);
  std::printf("seeds written under %s\n", corpus.c_str());
  return 0;
}
