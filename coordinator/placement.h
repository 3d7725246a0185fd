// Chooses the worker for a stack: one that satisfies the stack's `node` / `labels` constraint,
// spreading stacks over workers (fewest placed first, then name). A pure function.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/spec/job.h"

namespace hollerith::coordinator {

struct WorkerView {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  size_t placed_stacks = 0;
  bool draining = false;
};

struct PlacementChoice {
  int worker = -1;      // index into the workers given, or -1
  std::string waiting;  // why not, when worker == -1
};

PlacementChoice ChooseWorker(const StackSpec& stack, const std::vector<WorkerView>& workers);

}  // namespace hollerith::coordinator
