#include "coordinator/release_packing.h"

#include <algorithm>
#include <variant>

namespace hollerith::coordinator {

size_t PackReleases(std::vector<CoreAction>& actions, size_t first) {
  auto& head = std::get<ReleaseMsg>(actions[first]);
  auto packs = [&](const CoreAction& a) {
    const auto* r = std::get_if<ReleaseMsg>(&a);
    return r && r->to == head.to && r->attempt == head.attempt && r->outputs.empty() &&
           r->also_from.empty();
  };
  size_t end = first + 1;
  if (!head.outputs.empty()) return end;
  while (end < actions.size() && end - first < kMaxPackedReleases && packs(actions[end])) ++end;
  if (end == first + 1) return end;
  // One sort of all the entries, not a merge per release (quadratic in a combine's width).
  std::vector<VectorClock::Entry> entries(head.vc.entries().begin(), head.vc.entries().end());
  head.also_from.reserve(head.also_from.size() + (end - first - 1));
  for (size_t i = first + 1; i < end; ++i) {
    const auto& r = std::get<ReleaseMsg>(actions[i]);
    head.also_from.push_back(r.from);
    entries.insert(entries.end(), r.vc.entries().begin(), r.vc.entries().end());
    head.lamport = std::max(head.lamport, r.lamport);
  }
  head.vc = VectorClock(std::move(entries));
  return end;
}

}  // namespace hollerith::coordinator
