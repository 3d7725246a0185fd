#include "common/base/asio_timers.h"

#include <asio/steady_timer.hpp>

namespace hollerith {
namespace {

class AsioTimer : public Timer {
 public:
  explicit AsioTimer(asio::io_context& loop) : timer_(loop) {}
  void Arm(std::chrono::nanoseconds after, std::function<void()> fire) override {
    timer_.expires_after(after);  // cancels a wait in flight: its handler sees operation_aborted
    timer_.async_wait([fire = std::move(fire)](const std::error_code& ec) {
      if (!ec) fire();
    });
  }
  void Cancel() override { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace

std::unique_ptr<Timer> AsioTimerFactory::CreateTimer() {
  return std::make_unique<AsioTimer>(loop_);
}

}  // namespace hollerith
