#include "cli/job_follow.h"

#include <chrono>
#include <future>
#include <mutex>

#include "cli/remote_progress.h"

namespace hollerith::cli {

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
        if (printer.Due(progress.progress().stacks.size())) printer.Update(progress.progress());
      },
      [&done](const Status& s) { done.set_value(s); });
  auto finished = done.get_future();
  while (finished.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (options.interrupted && options.interrupted()) {
      watch->Cancel();
      watch->Join();
      return Status::Error("interrupted");
    }
  }
  watch->Join();
  if (Status s = finished.get(); !s.ok()) return s;
  auto final_status = client.GetJob(id);
  if (final_status.ok() && options.progress) {
    std::lock_guard lock(mu);
    JobProgress last = ProgressFromStatus(*final_status);
    last.skipped = progress.progress().skipped;  // counted from events; JobStatus has no count
    printer.Update(last, /*final=*/true);
  }
  return final_status;
}

int ExitCodeForJob(const v1::JobStatus& job) { return job.state() == "succeeded" ? 0 : 1; }

}  // namespace hollerith::cli
