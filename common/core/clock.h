// Logical clocks. LamportClock: one counter per process, merged (max+1) on every message received.
// VectorClock: sparse (stack index -> counter), holding only the entries causally known, so most
// cards carry one or two entries even in a 1,000-stack job. The first entry lives inside the clock
// (absl::InlinedVector): a card of a one-stack chain or of a fan-out carries exactly one, and the
// coordinator keeps three clocks per card (its finish and two trace events), so a heap block each
// cost a million-card job ~100 MB and three allocations per card.
#pragma once

#include <absl/container/inlined_vector.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hollerith {

class LamportClock {
 public:
  uint64_t now() const { return time_; }
  uint64_t Tick() { return ++time_; }
  // Merge a timestamp carried by a received message, then tick for the receive event.
  uint64_t Receive(uint64_t remote) {
    if (remote > time_) time_ = remote;
    return ++time_;
  }
  // Never backwards: after a restart, at least what was handed out before.
  void AdvanceTo(uint64_t t) {
    if (t > time_) time_ = t;
  }
  // Sets the counter, even backwards: only for a private clock replaying a journal.
  void Restore(uint64_t t) { time_ = t; }

 private:
  uint64_t time_ = 0;
};

class VectorClock {
 public:
  using Entry = std::pair<uint32_t, uint64_t>;  // (stack index, counter), sorted by stack index
  using Entries = absl::InlinedVector<Entry, 1>;

  VectorClock() = default;
  explicit VectorClock(std::vector<Entry> entries);  // sorts and merges duplicates (max)

  uint64_t get(uint32_t stack) const;
  void Tick(uint32_t stack);
  void Merge(const VectorClock& other);
  const Entries& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // a <= b: every entry of a is <= the same entry of b (missing entries are 0).
  bool LessOrEqual(const VectorClock& other) const;
  // a < b: a <= b and a != b (happened-before).
  bool HappenedBefore(const VectorClock& other) const {
    return LessOrEqual(other) && entries_ != other.entries_;
  }
  friend bool operator==(const VectorClock&, const VectorClock&) = default;

 private:
  Entries entries_;
};

}  // namespace hollerith
