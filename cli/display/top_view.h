// `hollerith top`: one frame of the live cluster view, rendered from what the coordinator says.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hollerith.pb.h"

namespace hollerith::cli {

struct TopSnapshot {
  std::string coordinator;  // address, as the user named it
  std::string coordinator_version;
  std::vector<v1::WorkerInfo> workers;
  std::vector<v1::JobStatus> jobs;          // every kept job (summaries)
  std::vector<v1::JobStatus> running_jobs;  // the running ones in detail (stacks), newest first
  int64_t now_wall_us = 0;
};

// The frame as lines of text (no terminal codes): a summary line, the workers with their slots in
// use, the running jobs with their progress, and each running stack with where it runs. At most
// `max_rows` rows of running stacks; the rest are counted.
std::string RenderTop(const TopSnapshot& s, size_t max_rows = 20);

}  // namespace hollerith::cli
