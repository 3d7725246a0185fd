#include "coordinator/web/chunk_queue.h"

namespace hollerith::web {

void ChunkQueue::Push(const std::string& text) {
  std::lock_guard lock(mu_);
  pending_ += text;
  ready_.notify_all();
}

void ChunkQueue::Close(const std::string& last) {
  std::lock_guard lock(mu_);
  pending_ += last;
  closed_ = true;
  ready_.notify_all();
}

std::string ChunkQueue::Take(std::chrono::milliseconds timeout, bool* closed) {
  std::unique_lock lock(mu_);
  ready_.wait_for(lock, timeout, [this] { return closed_ || !pending_.empty(); });
  std::string out;
  out.swap(pending_);
  *closed = closed_;
  return out;
}

}  // namespace hollerith::web
