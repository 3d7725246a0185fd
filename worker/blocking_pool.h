// A few threads for blocking work (artifact transfers over gRPC, file copies and hashing, removing
// workspaces) that must never run on the io_context's thread. Jobs post their results back to the
// loop themselves.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hollerith::worker {

class BlockingPool {
 public:
  explicit BlockingPool(size_t threads);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs `job` on one of the threads; dropped once Shutdown has begun.
  void Submit(std::function<void()> job);
  // Drops queued jobs and waits for running ones. Idempotent; called by the destructor.
  void Shutdown();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace hollerith::worker
