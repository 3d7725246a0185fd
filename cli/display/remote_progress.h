// Progress of a job running on a coordinator, for cli/progress: built from a JobStatus (GetJob) and
// kept current by the JobEvents of WatchJob, each of which carries its stack's status after it.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "cli/display/progress.h"
#include "hollerith.pb.h"

namespace hollerith::cli {

JobProgress ProgressFromStatus(const v1::JobStatus& status);

class RemoteProgress {
 public:
  explicit RemoteProgress(const v1::JobStatus& status);
  void Apply(const v1::JobEvent& event);
  // The progress now, with each stack's elapsed time (from the events' wall times) up to `now_us`.
  JobProgress Snapshot(int64_t now_us) const;
  size_t stack_count() const { return progress_.stacks.size(); }

 private:
  struct StackTimes {
    int64_t start_us = 0;  // wall time of the stack's first card_started, 0 before
    int64_t end_us = 0;    // wall time it became done/failed/skipped, 0 while not
  };

  size_t StackIndex(const std::string& name);
  JobProgress progress_;
  std::unordered_map<std::string, size_t> index_;  // stack name -> position: O(1) per event
  std::vector<StackTimes> times_;                  // parallel to progress_.stacks
};

// Wall-clock microseconds since the epoch, as in JobEvent.wall_us.
int64_t WallMicrosNow();

}  // namespace hollerith::cli
