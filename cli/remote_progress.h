// Progress of a job running on a coordinator, for cli/progress: built from a JobStatus (GetJob) and
// kept current by the JobEvents of WatchJob, each of which carries its stack's status after it.
#pragma once

#include "cli/progress.h"
#include "hollerith.pb.h"

namespace hollerith::cli {

JobProgress ProgressFromStatus(const v1::JobStatus& status);

class RemoteProgress {
 public:
  explicit RemoteProgress(const v1::JobStatus& status) : progress_(ProgressFromStatus(status)) {}
  void Apply(const v1::JobEvent& event);
  const JobProgress& progress() const { return progress_; }

 private:
  void Recount();
  JobProgress progress_;
};

}  // namespace hollerith::cli
