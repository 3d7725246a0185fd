#include "cli/display/job_follow.h"

#include <chrono>
#include <future>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "cli/display/remote_progress.h"

namespace hollerith::cli {
namespace {

// The final status's stacks, with the elapsed times and skip count learnt from the events.
JobProgress FinalProgress(const v1::JobStatus& status, const JobProgress& live) {
  JobProgress last = ProgressFromStatus(status);
  last.skipped = live.skipped;
  // By name, apart for the combine (a user stack may be called "combine" too).
  std::unordered_map<std::string_view, double> elapsed;
  double combine_elapsed = -1;
  for (const auto& seen : live.stacks) {
    (seen.is_combine ? combine_elapsed : elapsed[seen.name]) = seen.elapsed_s;
  }
  for (auto& stack : last.stacks) {
    if (stack.is_combine) {
      stack.elapsed_s = combine_elapsed;
    } else if (auto it = elapsed.find(stack.name); it != elapsed.end()) {
      stack.elapsed_s = it->second;
    }
  }
  return last;
}

}  // namespace

Result<v1::JobStatus> FollowJob(Client& client, const std::string& job,
                                const FollowOptions& options) {
  auto initial = client.GetJob(job);
  if (!initial.ok() || IsFinishedJobState(initial->state())) return initial;
  // Follow the id: the name could be given to a new job meanwhile.
  const std::string id = initial->job_id().empty() ? job : initial->job_id();

  std::mutex mu;  // guards progress and printer: events arrive on the watch thread
  RemoteProgress progress(*initial);
  ProgressPrinter printer(stderr);
  std::promise<Status> done;
  auto watch = client.Watch(
      id, 0,
      [&](const v1::JobEvent& event) {
        if (!options.progress) return;
        std::lock_guard lock(mu);
        progress.Apply(event);
        if (printer.Due(progress.stack_count())) {
          printer.Update(progress.Snapshot(WallMicrosNow()));
        }
      },
      [&done](const Status& s) { done.set_value(s); });
  auto finished = done.get_future();
  while (finished.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (options.interrupted && options.interrupted()) {
      watch->Cancel();
      watch->Join();
      return Status::Error("interrupted");
    }
    if (options.progress) {
      // Redraw between events too: elapsed times advance, and a throttled update is not lost.
      // A snapshot costs O(stacks): take it only when the printer would draw it.
      std::lock_guard lock(mu);
      if (printer.Due(progress.stack_count())) printer.Update(progress.Snapshot(WallMicrosNow()));
    }
  }
  watch->Join();
  if (Status s = finished.get(); !s.ok()) return s;
  auto final_status = client.GetJob(id);
  if (final_status.ok() && options.progress) {
    std::lock_guard lock(mu);
    printer.Update(FinalProgress(*final_status, progress.Snapshot(WallMicrosNow())),
                   /*final=*/true);
  }
  return final_status;
}

int ExitCodeForJob(const v1::JobStatus& job) { return job.state() == "succeeded" ? 0 : 1; }

}  // namespace hollerith::cli
