// The inputs of a job's scheduler core, as journaled in the store (proto/store.proto). Live
// inputs and replayed ones go through ApplyInput, one function, so that a replay rebuilds exactly
// what the live run built.
#pragma once

#include <cstdint>
#include <string>

#include "common/base/time_source.h"
#include "common/core/scheduler_core.h"
#include "store.pb.h"

namespace hollerith::coordinator {

// Applies `input` to `core`; false when the core dropped it (a stale attempt, a finished job).
bool ApplyInput(SchedulerCore& core, const v1::CoreInput& input);

v1::CoreInput StartInput();
v1::CoreInput PlacedInput(uint32_t stack, uint32_t attempt, const std::string& node);
// `coordinator_restart`: the stack's node was lost with the old coordinator (nobody's fault).
v1::CoreInput LostInput(uint32_t stack, const std::string& why, bool coordinator_restart = false);
v1::CoreInput CancelInput(const std::string& reason);
// The list of run-time matrix stack `stack` (or why it could not be read: `error`).
v1::CoreInput FanOutInput(uint32_t stack, std::string list, std::string error);

// The wall time a core stamps its own events with: set once per input (from the real clock live,
// from the journal in a replay), so a replayed trace equals the live one.
class InputTime : public TimeSource {
 public:
  MonotonicTime Now() const override { return SystemTime().Now(); }
  int64_t WallMicros() const override { return wall_us_; }
  void Set(int64_t wall_us) { wall_us_ = wall_us; }

 private:
  int64_t wall_us_ = 0;
};

}  // namespace hollerith::coordinator
