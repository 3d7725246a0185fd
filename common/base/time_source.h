// Injected time, as Envoy injects its TimeSource and Dispatcher: nothing that decides on time
// reads a clock or makes a timer of its own. TimeSource gives the clocks; TimerFactory adds timers
// that fire on the owner's loop. The daemons use the real ones (SystemTime(), AsioTimerFactory);
// unit tests and a simulator of the cluster use SimulatedTime, which moves only when told to.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace hollerith {

using MonotonicTime = std::chrono::steady_clock::time_point;

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  // For leases, deadlines and durations: never goes back.
  virtual MonotonicTime Now() const = 0;
  // Microseconds since the Unix epoch: for traces and people, never for decisions.
  virtual int64_t WallMicros() const = 0;
};

// The machine's clocks.
const TimeSource& SystemTime();

// A one-shot timer. Arming it again replaces what was armed; Cancel and destruction guarantee
// that `fire` does not run afterwards.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void Arm(std::chrono::nanoseconds after, std::function<void()> fire) = 0;
  virtual void Cancel() = 0;
};

class TimerFactory : public TimeSource {
 public:
  virtual std::unique_ptr<Timer> CreateTimer() = 0;
};

}  // namespace hollerith
