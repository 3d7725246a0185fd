// A hand-off between a producer thread (a job's watch stream, a card's log reader) and the HTTP
// thread writing a streamed response: text pushed on one side, taken in batches on the other.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace hollerith::web {

class ChunkQueue {
 public:
  void Push(const std::string& text);
  // No more text will come; `last` is appended first.
  void Close(const std::string& last = "");
  // Waits up to `timeout` for text; returns what is queued (maybe ""), with `closed` telling
  // whether the producer is done and nothing is left.
  std::string Take(std::chrono::milliseconds timeout, bool* closed);

 private:
  std::mutex mu_;
  std::condition_variable ready_;
  std::string pending_;
  bool closed_ = false;
};

}  // namespace hollerith::web
