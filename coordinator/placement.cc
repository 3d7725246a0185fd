#include "coordinator/placement.h"

#include <algorithm>

namespace hollerith::coordinator {
namespace {

bool HasLabels(const WorkerView& w, const StackSpec& stack) {
  for (const auto& want : stack.labels) {
    if (std::find(w.labels.begin(), w.labels.end(), want) == w.labels.end()) return false;
  }
  return true;
}

std::string Describe(const StackSpec& stack) {
  std::string out;
  if (!stack.node.empty()) out = "a worker named " + stack.node;
  for (const auto& [k, v] : stack.labels) {
    out += (out.empty() ? "a worker with labels " : ", ") + k + "=" + v;
  }
  return out;
}

}  // namespace

PlacementChoice ChooseWorker(const StackSpec& stack, const std::vector<WorkerView>& workers) {
  PlacementChoice choice;
  for (size_t i = 0; i < workers.size(); ++i) {
    const WorkerView& w = workers[i];
    if (w.draining) continue;
    if (!stack.node.empty() && w.name != stack.node) continue;
    if (!HasLabels(w, stack)) continue;
    if (choice.worker < 0) {
      choice.worker = static_cast<int>(i);
      continue;
    }
    const WorkerView& best = workers[choice.worker];
    if (w.placed_stacks < best.placed_stacks ||
        (w.placed_stacks == best.placed_stacks && w.name < best.name)) {
      choice.worker = static_cast<int>(i);
    }
  }
  if (choice.worker < 0) {
    choice.waiting = workers.empty() ? "waiting: no worker connected"
                     : stack.node.empty() && stack.labels.empty()
                         ? "waiting: every worker is draining"
                         : "waiting: no connected worker is " + Describe(stack);
  }
  return choice;
}

}  // namespace hollerith::coordinator
