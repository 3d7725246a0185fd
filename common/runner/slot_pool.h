// Counts the cards a node runs at once. A slot is a running process, not a placed stack: a stack
// waiting for a release holds no slot, so mutually dependent stacks can never deadlock a node.
#pragma once

#include <asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>

namespace hollerith {

class SlotPool {
 public:
  SlotPool(asio::io_context& io, size_t slots)
      : io_(io), total_(slots == 0 ? 1 : slots), free_(total_) {}
  // `granted` runs on the io_context once a slot is free (never inside Acquire). Waiters get
  // slots by `priority` (higher first), then in the order they asked.
  void Acquire(int priority, std::function<void()> granted);
  void Release();
  size_t waiting() const { return waiters_.size(); }
  size_t busy() const { return total_ - free_; }

 private:
  asio::io_context& io_;
  size_t total_;
  size_t free_;
  std::map<std::pair<int, uint64_t>, std::function<void()>> waiters_;  // (-priority, ticket)
  uint64_t next_ticket_ = 0;
};

}  // namespace hollerith
