// Live progress of a job for people. On a terminal: a summary line plus one line per active stack
// (card n/m, node, elapsed), redrawn at most every 100 ms. Otherwise: plain lines, one per card
// that finished, failed or was skipped (for big jobs, one summary line a second instead).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/core/scheduler_core.h"

namespace hollerith::cli {

struct StackProgress {
  std::string name;
  size_t done = 0;
  size_t total = 0;
  std::string node;
  std::string state;        // waiting, running, done, failed
  double elapsed_s = -1;    // since the stack's first card started; < 0 when not known
  bool is_combine = false;  // the synthetic combine stack: shown as one line of its own
};

// Whether a stack in `state` has ended: "done", "failed" or "skipped".
inline bool StackStateEnded(const std::string& state) {
  return state == "done" || state == "failed" || state == "skipped";
}

struct JobProgress {
  std::string job;
  size_t cards_done = 0;
  size_t cards_total = 0;
  size_t failed = 0;
  size_t skipped = 0;
  std::vector<StackProgress> stacks;
};

JobProgress SnapshotProgress(const SchedulerCore& core);

// The combine's line, e.g. "combine waiting for 2 stacks" (the user stacks not yet done), then
// "combine running on NODE", "combine done", "combine failed" or "combine skipped".
std::string CombineText(const JobProgress& progress, const StackProgress& combine);

class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::FILE* out);
  // Whether a new snapshot would be drawn now (snapshots cost O(cards): take them only when due).
  bool Due(size_t stacks) const;
  void Update(const JobProgress& progress, bool final = false);

 private:
  std::FILE* out_;
  bool tty_;
  size_t lines_drawn_ = 0;
  // What was last printed of each stack, by name ("" for the combine): stacks may come in a
  // different order in the final status than in the events (run-time matrix instances).
  std::unordered_map<std::string, std::string> last_state_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace hollerith::cli
