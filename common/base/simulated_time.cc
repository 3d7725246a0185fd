#include "common/base/simulated_time.h"

#include "common/base/check.h"

namespace hollerith {

class SimulatedTime::SimTimer : public Timer {
 public:
  explicit SimTimer(SimulatedTime& time) : time_(&time) {}
  ~SimTimer() override { Cancel(); }
  void Arm(std::chrono::nanoseconds after, std::function<void()> fire) override {
    HOLLERITH_CHECK(time_ != nullptr, "timer armed after its SimulatedTime was destroyed");
    Cancel();
    key_ = {time_->now_ + after, time_->next_seq_++};
    fire_ = std::move(fire);
    time_->armed_[*key_] = this;
  }
  void Cancel() override {
    if (key_ && time_) time_->Disarm(*key_);
    key_.reset();
    fire_ = nullptr;
  }
  // Called by SimulatedTime once it has taken the timer out of its queue.
  void Fire() {
    key_.reset();
    auto fire = std::exchange(fire_, nullptr);
    if (fire) fire();
  }
  void Orphan() {
    key_.reset();
    time_ = nullptr;
  }

 private:
  SimulatedTime* time_;
  std::optional<Key> key_;
  std::function<void()> fire_;
};

SimulatedTime::SimulatedTime(int64_t wall_start_us) : wall_start_us_(wall_start_us) {}

SimulatedTime::~SimulatedTime() {
  for (auto& [key, timer] : armed_) timer->Orphan();
}

int64_t SimulatedTime::WallMicros() const {
  return wall_start_us_ +
         std::chrono::duration_cast<std::chrono::microseconds>(now_ - start_).count();
}

std::unique_ptr<Timer> SimulatedTime::CreateTimer() { return std::make_unique<SimTimer>(*this); }

bool SimulatedTime::FireNext() {
  if (armed_.empty()) return false;
  auto it = armed_.begin();
  SimTimer* timer = it->second;
  if (it->first.first > now_) now_ = it->first.first;
  armed_.erase(it);
  timer->Fire();
  return true;
}

size_t SimulatedTime::Advance(std::chrono::nanoseconds d) {
  const MonotonicTime target = now_ + d;
  size_t fired = 0;
  while (!armed_.empty() && armed_.begin()->first.first <= target) {
    FireNext();
    ++fired;
  }
  now_ = target;
  return fired;
}

}  // namespace hollerith
