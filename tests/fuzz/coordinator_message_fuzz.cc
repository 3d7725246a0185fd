// libFuzzer target: what a worker does with the messages its coordinator sends: each
// CoordinatorMessage decoded (wire.h: the stack's spec validated, ids, paths) and applied to the
// worker's StackHost as Worker::OnSessionMessage applies it (assignments, releases, retries,
// skips, cancelled jobs), with cards run by a scripted executor (no processes) in a temporary
// work dir. Oracle beyond the sanitizers: nothing is ever created outside the work dir.
// Frames (frames.h): 1: a CoordinatorMessage, 2: the oldest running card ends (exit code: the
// frame's first byte), 3: the io loop runs what is due.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>

#include "common/artifacts/access.h"
#include "common/runner/resource_pool.h"
#include "common/runner/stack_host.h"
#include "proto/wire.h"
#include "tests/fuzz/frames.h"
#include "tests/fuzz/fuzz_root.h"
#include "tests/support/fake_executor.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hollerith;
  const fs::path root = fuzz::Root() / "run";
  {
    asio::io_context io;
    LamportClock clock;
    testing::FakeExecutor executor(io);
    ArtifactStore store(root / "store");
    LocalArtifactAccess artifacts(io, store);
    Resources capacity;
    capacity.cpu_milli = 4 * kMilliCpu;
    capacity.memory_bytes = uint64_t{16} << 30;
    capacity.SetNamed("gpu", 2);
    ResourcePool slots(io, capacity);
    WorkspacePool workspaces(root / "spare");
    std::set<std::string> jobs;
    StackHost::Upward up;
    up.started = [](const std::string&, const CardStartedMsg&) {};
    up.finished = [](const std::string&, const CardFinishedMsg&) {};
    up.ended = [&](const std::string&, uint32_t, uint32_t, const fs::path& workspace) {
      if (!workspace.empty()) workspaces.Retire(workspace);
    };
    StackHost host(StackRunnerEnv{io, "w1", clock, executor, artifacts, slots, workspaces},
                   root / "jobs", up);
    for (const fuzz::Frame& f : fuzz::ReadFrames(data, size)) {
      if (f.kind == 1) {
        v1::CoordinatorMessage msg;
        if (!msg.ParseFromString(f.bytes)) continue;
        clock.Receive(msg.lamport());
        for (const auto& a : msg.assignments()) {
          if (!wire::ValidJobId(a.job_id())) continue;
          auto spec = wire::FromProto(a.spec(), a.stack());
          if (!spec.ok()) continue;
          jobs.insert(a.job_id());
          host.Assign(a.job_id(), std::make_shared<const StackSpec>(std::move(*spec)),
                      wire::FromProto(a));
        }
        for (const auto& r : msg.releases()) host.Release(r.job_id(), wire::FromProto(r));
        for (const auto& r : msg.retries()) host.Retry(r.job_id(), wire::FromProto(r));
        for (const auto& s : msg.skips()) host.Skip(s.job_id(), wire::FromProto(s));
        for (const auto& job : msg.cancel_jobs()) host.CancelJob(job);
      } else if (f.kind == 2 && !executor.running().empty()) {
        const int code = f.bytes.empty() ? 0 : static_cast<int8_t>(f.bytes[0]);
        executor.Complete(executor.running().begin()->first, code, "", "out");
      }
      io.restart();
      io.poll();
    }
    for (const std::string& job : jobs) host.CancelJob(job);
    io.restart();
    io.poll();
  }
  for (const auto& e : fs::directory_iterator(fuzz::Root())) {
    if (e.path() != root) {
      std::fprintf(stderr, "created outside the work dir: %s\n", e.path().c_str());
      std::abort();
    }
  }
  std::error_code none;  // an input that starts nothing leaves no work dir at all
  for (const auto& e : fs::directory_iterator(root, none)) {
    const auto name = e.path().filename();
    if (name != "store" && name != "spare" && name != "jobs") {
      std::fprintf(stderr, "created outside the work dir: %s\n", e.path().c_str());
      std::abort();
    }
  }
  fs::remove_all(root);
  return 0;
}
