#include "common/runner/slot_pool.h"

#include <asio/post.hpp>

namespace hollerith {

void SlotPool::Acquire(int priority, std::function<void()> granted) {
  if (free_ > 0) {
    --free_;
    asio::post(io_, std::move(granted));
  } else {
    waiters_.emplace(std::make_pair(-priority, next_ticket_++), std::move(granted));
  }
}

void SlotPool::Release() {
  if (!waiters_.empty()) {
    auto first = waiters_.begin();
    asio::post(io_, std::move(first->second));
    waiters_.erase(first);
  } else {
    ++free_;
  }
}

}  // namespace hollerith
