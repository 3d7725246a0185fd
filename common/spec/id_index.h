// Maps the ids of one namespace (the stacks of a job, the cards of a stack) to their indices, for
// the spec parser. An open-addressing table of 8-byte slots: a stack may hold a million cards, and
// std::unordered_map's node per entry made its lookups most of the time spent parsing such a stack.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace hollerith {

class SpecIdIndex {
 public:
  static constexpr uint32_t kAbsent = UINT32_MAX;

  void Reserve(size_t count) {
    ids_.reserve(count);
    if (count > kLinear && count * 2 > slots_.size()) Rehash(count * 2);
  }

  // Adds `id` (which must outlive the index) with the next index, 0, 1, 2, ... in call order.
  // Returns kAbsent if it was added, else the index the id already has (and adds nothing).
  uint32_t Add(std::string_view id) {
    if (slots_.empty()) {
      if (const uint32_t found = FindLinear(id); found != kAbsent) return found;
      ids_.push_back(id);
      if (ids_.size() > kLinear) Rehash(ids_.size() * 4);
      return kAbsent;
    }
    if ((ids_.size() + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
    const size_t hash = std::hash<std::string_view>()(id);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.index_plus_one == 0) {
        slot = Slot{Tag(hash), static_cast<uint32_t>(ids_.size() + 1)};
        ids_.push_back(id);
        return kAbsent;
      }
      if (slot.tag == Tag(hash) && ids_[slot.index_plus_one - 1] == id) {
        return slot.index_plus_one - 1;
      }
    }
  }

  // The index of `id`, or kAbsent.
  uint32_t Find(std::string_view id) const {
    if (slots_.empty()) return FindLinear(id);
    const size_t hash = std::hash<std::string_view>()(id);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.index_plus_one == 0) return kAbsent;
      if (slot.tag == Tag(hash) && ids_[slot.index_plus_one - 1] == id) {
        return slot.index_plus_one - 1;
      }
    }
  }

 private:
  // Up to this many ids are found by comparing them in order, with no table: most stacks have a
  // card or a few, and a table per stack (an allocation, a hash per id) was a tenth of parsing a
  // job of 100,000 one-card stacks.
  static constexpr size_t kLinear = 8;

  struct Slot {
    uint32_t tag = 0;             // high bits of the hash: most mismatches skip the string compare
    uint32_t index_plus_one = 0;  // 0: empty
  };

  static uint32_t Tag(size_t hash) { return static_cast<uint32_t>(uint64_t{hash} >> 32); }

  uint32_t FindLinear(std::string_view id) const {
    for (size_t i = 0; i < ids_.size(); ++i) {
      if (ids_[i] == id) return static_cast<uint32_t>(i);
    }
    return kAbsent;
  }

  void Rehash(size_t at_least) {
    size_t capacity = 16;
    while (capacity < at_least) capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (uint32_t index = 0; index < ids_.size(); ++index) {
      const size_t hash = std::hash<std::string_view>()(ids_[index]);
      size_t i = hash & mask_;
      while (slots_[i].index_plus_one != 0) i = (i + 1) & mask_;
      slots_[i] = Slot{Tag(hash), index + 1};
    }
  }

  std::vector<Slot> slots_;            // empty while there are kLinear ids or fewer
  std::vector<std::string_view> ids_;  // by index
  size_t mask_ = 0;
};

}  // namespace hollerith
