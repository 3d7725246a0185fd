// The slot pool: a node's cards at once, handed to waiters by priority, then in the order asked.
#include "common/runner/slot_pool.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hollerith {
namespace {

TEST(SlotPool, WaitersGetSlotsByPriorityThenInOrder) {
  asio::io_context io;
  SlotPool pool(io, 1);
  std::vector<std::string> granted;
  auto ask = [&](int priority, std::string name) {
    pool.Acquire(priority, [&granted, name] { granted.push_back(name); });
  };
  ask(0, "first");  // takes the free slot
  ask(0, "low-a");
  ask(5, "high-a");
  ask(-3, "lowest");
  ask(0, "low-b");
  ask(5, "high-b");
  io.run();
  io.restart();
  EXPECT_EQ(granted, (std::vector<std::string>{"first"}));
  EXPECT_EQ(pool.waiting(), 5u);
  for (int i = 0; i < 5; ++i) {
    pool.Release();
    io.run();
    io.restart();
  }
  EXPECT_EQ(granted,
            (std::vector<std::string>{"first", "high-a", "high-b", "low-a", "low-b", "lowest"}));
  EXPECT_EQ(pool.busy(), 1u);
  pool.Release();
  EXPECT_EQ(pool.busy(), 0u);
}

}  // namespace
}  // namespace hollerith
