// Time that moves only when told to: the TimerFactory of unit tests (and of a seeded simulator of
// the cluster). Advance() fires every timer that falls due, in deadline order (ties in arming
// order), each with the clock set to its own deadline: the same inputs give the same run.
// Single-threaded: arm, cancel and advance from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "common/base/time_source.h"

namespace hollerith {

class SimulatedTime : public TimerFactory {
 public:
  explicit SimulatedTime(int64_t wall_start_us = 1'700'000'000'000'000);
  ~SimulatedTime() override;

  MonotonicTime Now() const override { return now_; }
  int64_t WallMicros() const override;
  std::unique_ptr<Timer> CreateTimer() override;

  // Moves the clock forward by `d`, firing what falls due on the way; returns how many fired.
  size_t Advance(std::chrono::nanoseconds d);
  // Fires the earliest armed timer (moving the clock to it); false when none is armed.
  bool FireNext();
  size_t armed() const { return armed_.size(); }

 private:
  class SimTimer;
  using Key = std::pair<MonotonicTime, uint64_t>;  // (deadline, arming sequence)
  void Disarm(const Key& key) { armed_.erase(key); }

  MonotonicTime start_{};
  MonotonicTime now_{};
  int64_t wall_start_us_;
  uint64_t next_seq_ = 0;
  std::map<Key, SimTimer*> armed_;
};

}  // namespace hollerith
