// The real TimerFactory: the machine's clocks, and timers that are asio steady_timers on one
// io_context (they fire on whichever thread runs it, as every other handler of the daemon).
#pragma once

#include <memory>

#include <asio/io_context.hpp>

#include "common/base/time_source.h"

namespace hollerith {

class AsioTimerFactory : public TimerFactory {
 public:
  explicit AsioTimerFactory(asio::io_context& loop) : loop_(loop) {}
  MonotonicTime Now() const override { return SystemTime().Now(); }
  int64_t WallMicros() const override { return SystemTime().WallMicros(); }
  std::unique_ptr<Timer> CreateTimer() override;

 private:
  asio::io_context& loop_;
};

}  // namespace hollerith
