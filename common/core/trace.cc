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

uint32_t Trace::NodeIndex(const std::string& node) {
  auto [it, added] = node_index_.try_emplace(node, static_cast<uint32_t>(nodes_.size()));
  if (added) nodes_.push_back(node);
  return it->second;
}

uint32_t Trace::Detail(std::string text) {
  if (text.empty()) return 0;
  details_.push_back(std::move(text));
  return static_cast<uint32_t>(details_.size() - 1);
}

}  // namespace hollerith
