#include "common/spec/cycles.h"

#include <cstdint>

namespace hollerith {
namespace {

enum class Color : uint8_t { kUnvisited, kOnPath, kDone };

// A card on the current search path and the index of the next of its dependencies to follow.
struct Frame {
  CardRef card;
  size_t next_dependency = 0;
};

class CycleFinder {
 public:
  explicit CycleFinder(const JobSpec& job) : job_(job) {
    size_t total = 0;
    for (const auto& s : job.stacks) {
      offsets_.push_back(total);
      total += s.cards.size();
    }
    colors_.assign(total, Color::kUnvisited);
  }

  std::vector<CardRef> Find() {
    for (uint32_t s = 0; s < job_.stacks.size(); ++s) {
      for (uint32_t c = 0; c < job_.stacks[s].cards.size(); ++c) {
        if (color(CardRef{s, c}) != Color::kUnvisited) continue;
        auto cycle = SearchFrom(CardRef{s, c});
        if (!cycle.empty()) return cycle;
      }
    }
    return {};
  }

 private:
  Color& color(CardRef r) { return colors_[offsets_[r.stack] + r.card]; }

  // The i-th card that `r` waits on, if any: its stack predecessor, then `after`, then inputs.
  bool Dependency(CardRef r, size_t i, CardRef* out) const {
    if (r.card > 0) {
      if (i == 0) {
        *out = CardRef{r.stack, r.card - 1};
        return true;
      }
      --i;
    }
    const CardSpec& c = job_.card(r);
    if (i < c.after.size()) {
      *out = c.after[i];
      return true;
    }
    i -= c.after.size();
    if (i < c.inputs.size()) {
      *out = c.inputs[i].from;
      return true;
    }
    return false;
  }

  std::vector<CardRef> SearchFrom(CardRef root) {
    path_.clear();
    path_.push_back(Frame{root});
    color(root) = Color::kOnPath;
    while (!path_.empty()) {
      Frame& top = path_.back();
      CardRef dep;
      if (!Dependency(top.card, top.next_dependency++, &dep)) {
        color(top.card) = Color::kDone;
        path_.pop_back();
        continue;
      }
      const Color dep_color = color(dep);
      if (dep_color == Color::kUnvisited) {
        color(dep) = Color::kOnPath;
        path_.push_back(Frame{dep});
      } else if (dep_color == Color::kOnPath) {
        return CycleEndingAt(dep);
      }
    }
    return {};
  }

  // The path from `dep` (on the path) to the top waits on `dep`: list it top first, which is
  // execution order, and close the loop.
  std::vector<CardRef> CycleEndingAt(CardRef dep) const {
    std::vector<CardRef> cycle;
    for (size_t i = path_.size(); i-- > 0;) {
      cycle.push_back(path_[i].card);
      if (path_[i].card == dep) break;
    }
    cycle.push_back(cycle.front());
    return cycle;
  }

  const JobSpec& job_;
  std::vector<size_t> offsets_;
  std::vector<Color> colors_;
  std::vector<Frame> path_;
};

}  // namespace

std::vector<CardRef> FindDependencyCycle(const JobSpec& job) { return CycleFinder(job).Find(); }

std::string CyclePath(const JobSpec& job, const std::vector<CardRef>& cycle) {
  constexpr size_t kShownAtEachEnd = 8;
  std::string path;
  for (size_t i = 0; i < cycle.size(); ++i) {
    if (cycle.size() > 3 * kShownAtEachEnd && i == kShownAtEachEnd) {
      const size_t skipped = cycle.size() - 2 * kShownAtEachEnd;
      path += " -> ... (" + std::to_string(skipped) + " more cards)";
      i += skipped - 1;
      continue;
    }
    path += (path.empty() ? "" : " -> ") + job.card_name(cycle[i]);
  }
  return path;
}

}  // namespace hollerith
