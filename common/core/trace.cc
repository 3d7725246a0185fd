#include "common/core/trace.h"

#include <array>

namespace hollerith {
namespace {

constexpr std::array<const char*, 12> kKindNames = {
    "job_submitted", "stack_placed", "card_started", "card_finished", "card_failed", "card_retry",
    "card_skipped",  "release",      "stack_lost",   "job_finished",  "fan_out",     "card_cached"};

}  // namespace

const char* EventKindName(EventKind kind) { return kKindNames[static_cast<size_t>(kind)]; }

bool ParseEventKind(const std::string& name, EventKind* kind) {
  for (size_t i = 0; i < kKindNames.size(); ++i) {
    if (name == kKindNames[i]) {
      *kind = static_cast<EventKind>(i);
      return true;
    }
  }
  return false;
}

std::string StackDisplayName(const JobSpec& job, uint32_t stack) {
  if (stack >= job.stacks.size()) return "?";
  return job.stacks[stack].is_combine ? "@combine" : job.stacks[stack].id;
}

uint16_t Trace::NodeIndex(const std::string& node) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i] == node) return static_cast<uint16_t>(i);
  }
  nodes_.push_back(node);
  return static_cast<uint16_t>(nodes_.size() - 1);
}

uint32_t Trace::Detail(std::string text) {
  if (text.empty()) return 0;
  details_.push_back(std::move(text));
  return static_cast<uint32_t>(details_.size() - 1);
}

}  // namespace hollerith
