#include "common/runner/slot_pool.h"

#include <asio/post.hpp>

namespace hollerith {

void SlotPool::Acquire(std::function<void()> granted) {
  if (free_ > 0) {
    --free_;
    asio::post(io_, std::move(granted));
  } else {
    waiters_.push_back(std::move(granted));
  }
}

void SlotPool::Release() {
  if (!waiters_.empty()) {
    asio::post(io_, std::move(waiters_.front()));
    waiters_.pop_front();
  } else {
    ++free_;
  }
}

}  // namespace hollerith
