// Threads that end on their own (e.g. a card's log reader, which ends with the card or the gRPC
// server): finished ones are reaped as new ones start, the rest joined at destruction.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace hollerith::web {

class BackgroundThreads {
 public:
  ~BackgroundThreads() { JoinAll(); }
  void Run(std::function<void()> f);
  void JoinAll();

 private:
  struct Entry {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex mu_;
  std::list<Entry> threads_;
};

}  // namespace hollerith::web
