#include "common/core/clock.h"

#include <algorithm>

namespace hollerith {

VectorClock::VectorClock(std::vector<Entry> entries) {
  std::sort(entries.begin(), entries.end());
  for (const auto& e : entries) {
    if (e.second == 0) continue;
    if (!entries_.empty() && entries_.back().first == e.first) {
      entries_.back().second = std::max(entries_.back().second, e.second);
    } else {
      entries_.push_back(e);
    }
  }
}

uint64_t VectorClock::get(uint32_t stack) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), Entry{stack, 0});
  return it != entries_.end() && it->first == stack ? it->second : 0;
}

void VectorClock::Tick(uint32_t stack) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), Entry{stack, 0});
  if (it != entries_.end() && it->first == stack) {
    ++it->second;
  } else {
    entries_.insert(it, Entry{stack, 1});
  }
}

void VectorClock::Merge(const VectorClock& other) {
  if (other.entries_.empty()) return;
  // Most merges add nothing new or only raise counters this clock already has: done in place.
  auto a = entries_.begin();
  bool in_place = true;
  for (const auto& [stack, count] : other.entries_) {
    while (a != entries_.end() && a->first < stack) ++a;
    if (a == entries_.end() || a->first != stack) {
      in_place = false;
      break;
    }
    a->second = std::max(a->second, count);
  }
  if (in_place) return;
  Entries merged;
  merged.reserve(entries_.size() + other.entries_.size());
  a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == entries_.end() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.emplace_back(a->first, std::max(a->second, b->second));
      ++a;
      ++b;
    }
  }
  entries_ = std::move(merged);
}

bool VectorClock::LessOrEqual(const VectorClock& other) const {
  auto b = other.entries_.begin();
  for (const auto& [stack, count] : entries_) {
    while (b != other.entries_.end() && b->first < stack) ++b;
    if (b == other.entries_.end() || b->first != stack || b->second < count) return false;
  }
  return true;
}

}  // namespace hollerith
