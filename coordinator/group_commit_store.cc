#include "coordinator/group_commit_store.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace hollerith::coordinator {

bool AppendChunk(const void* data, size_t size, RecoveredJob& job) {
  v1::JournalChunk chunk;
  if (!chunk.ParseFromArray(data, static_cast<int>(size))) return false;
  for (auto& in : *chunk.mutable_inputs()) {
    if (in.has_started()) in.mutable_started()->set_job_id(job.job.job_id);
    if (in.has_finished()) in.mutable_finished()->set_job_id(job.job.job_id);
    job.inputs.push_back(std::move(in));
  }
  return true;
}

GroupCommitStore::GroupCommitStore(std::unique_ptr<StoreBackend> backend)
    : backend_(std::move(backend)), writer_([this] { WriterLoop(); }) {}

GroupCommitStore::~GroupCommitStore() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;  // what is queued is still written; what was never committed is not
    work_cv_.notify_one();
  }
  writer_.join();
}

void GroupCommitStore::Append(const std::string& job_id, v1::CoreInput input) {
  // The row names the job: its inputs need not repeat it (Load puts it back).
  if (input.has_started()) input.mutable_started()->clear_job_id();
  if (input.has_finished()) input.mutable_finished()->clear_job_id();
  // JournalChunk.inputs (field 1, length-delimited): appending one more is appending its bytes.
  std::string& chunk = pending_[job_id];
  const size_t before = chunk.size();
  const size_t size = input.ByteSizeLong();
  chunk.push_back(static_cast<char>((1 << 3) | 2));
  for (size_t v = size;; v >>= 7) {
    if (v < 0x80) {
      chunk.push_back(static_cast<char>(v));
      break;
    }
    chunk.push_back(static_cast<char>((v & 0x7f) | 0x80));
  }
  chunk.resize(chunk.size() + size);
  input.SerializeWithCachedSizesToArray(
      reinterpret_cast<uint8_t*>(chunk.data() + chunk.size() - size));
  pending_bytes_ += chunk.size() - before;
}

uint64_t GroupCommitStore::Enqueue(std::unique_lock<std::mutex>& lock, std::optional<StoredJob> job,
                                   uint64_t lamport_high, std::optional<std::string> deleted) {
  // Back-pressure: the writer is behind by more than the bound; let it catch up halfway.
  if (queued_bytes_ > kMaxQueuedBytes) {
    done_cv_.wait(lock, [&] { return queued_bytes_ <= kMaxQueuedBytes / 2 || !error_.ok(); });
  }
  StoreBatch& b = queue_.emplace_back();
  b.seq = next_seq_++;
  b.chunks.swap(pending_);
  b.bytes = pending_bytes_;
  queued_bytes_ += pending_bytes_;
  pending_bytes_ = 0;
  b.job = std::move(job);
  b.deleted = std::move(deleted);
  b.lamport_high = lamport_high;
  lamport_sent_ = std::max(lamport_sent_, lamport_high);
  return b.seq;
}

Status GroupCommitStore::Durable(std::optional<StoredJob> job, uint64_t lamport_high,
                                 std::optional<std::string> deleted) {
  std::unique_lock lock(mu_);
  const uint64_t seq = Enqueue(lock, std::move(job), lamport_high, std::move(deleted));
  // Every earlier batch is written (a failed one would still be queued): this one can go now,
  // here, in order. The writer is not woken; it sees nothing queued or writing_.
  if (!writing_ && queue_.size() == 1) {
    std::deque<StoreBatch> work;
    work.swap(queue_);
    (void)WriteBatches(lock, work);  // its outcome is read below, as a waiter would
  } else {
    work_cv_.notify_one();
    done_cv_.wait(lock, [&] { return written_ >= seq || attempted_ >= seq; });
  }
  return written_ >= seq ? Status::Ok() : error_;
}

Status GroupCommitStore::Commit(uint64_t lamport_high) {
  std::unique_lock lock(mu_);
  if (!pending_.empty() || lamport_high > lamport_sent_) {
    Enqueue(lock, std::nullopt, lamport_high, std::nullopt);
    work_cv_.notify_one();
  }
  return error_;
}

Status GroupCommitStore::Sync(uint64_t lamport_high) {
  return Durable(std::nullopt, std::max(lamport_high, lamport_sent_));
}

Status GroupCommitStore::Accept(const StoredJob& job) { return Durable(job, lamport_sent_); }

Status GroupCommitStore::Delete(const std::string& job_id) {
  if (auto it = pending_.find(job_id); it != pending_.end()) {
    pending_bytes_ -= it->second.size();
    pending_.erase(it);
  }
  return Durable(std::nullopt, lamport_sent_, job_id);
}

Result<RecoveredState> GroupCommitStore::Load() {
  auto state = backend_->Load();
  if (state.ok()) lamport_sent_ = state->lamport_high;
  return state;
}

void GroupCommitStore::SetCommitObserver(std::function<void(double)> observer) {
  std::lock_guard lock(mu_);
  commit_observer_ = std::move(observer);
}

void GroupCommitStore::SetFencedHandler(std::function<void(const Status&)> handler) {
  std::lock_guard lock(mu_);
  fenced_ = std::move(handler);
}

Status GroupCommitStore::WriteBatches(std::unique_lock<std::mutex>& lock,
                                      std::deque<StoreBatch>& work) {
  writing_ = true;
  auto observer = commit_observer_;
  auto fenced = fenced_;
  lock.unlock();
  const auto began = std::chrono::steady_clock::now();
  Status s = backend_->Write(work);
  if (observer) {
    observer(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  }
  if (s.code() == StatusCode::kAborted && fenced) fenced(s);
  lock.lock();
  writing_ = false;
  attempted_ = work.back().seq;
  if (s.ok()) {
    written_ = work.back().seq;
    error_ = Status::Ok();
    for (const StoreBatch& b : work) queued_bytes_ -= b.bytes;
  } else {
    error_ = s;
    // Kept for the next try, in order; a submission whose write failed was refused: drop it.
    for (auto it = work.rbegin(); it != work.rend(); ++it) {
      it->job.reset();
      queue_.push_front(std::move(*it));
    }
    work_cv_.notify_one();  // written on the owner's thread: the writer retries it
  }
  done_cv_.notify_all();
  return s;
}

void GroupCommitStore::WriterLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    // While the owner writes a batch itself the queue is empty, or holds only later ones.
    work_cv_.wait(lock, [&] { return !writing_ && (stop_ || !queue_.empty()); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::deque<StoreBatch> work;
    work.swap(queue_);
    Status s = WriteBatches(lock, work);
    if (!s.ok() && !stop_) work_cv_.wait_for(lock, std::chrono::milliseconds(200));
    if (!s.ok() && stop_) return;
  }
}

}  // namespace hollerith::coordinator
