// The journal's group commit, whatever the database behind it. Appended inputs are encoded at once
// (the bytes of a JournalChunk, without what the row already says: the job id) and buffered per
// job; Commit hands them to a writer thread of the store's own, which writes everything queued in
// one transaction of the database (a StoreBackend: SQLite, PostgreSQL), off the coordinator's
// loop. Accept and Sync wait for their write; when the writer is idle and nothing else waits,
// they write it themselves, sparing two thread switches (waking the writer, being woken by it:
// a one-card job's submission 0.89x as long, docs/benchmarks.md). A failed write is retried
// (nothing dropped) and reported by every later call until a write succeeds. Back-pressure: while
// more than kMaxQueuedBytes wait for the writer, Commit waits until half of them are written, so a
// coordinator that produces faster than the database takes slows down instead of growing.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "coordinator/job_store.h"

namespace hollerith::coordinator {

// What one Commit, Accept, Sync or Delete gives the writer.
struct StoreBatch {
  uint64_t seq = 0;
  // job id -> its appended inputs, encoded as the bytes of a v1::JournalChunk
  std::map<std::string, std::string> chunks;
  size_t bytes = 0;  // of chunks
  std::optional<StoredJob> job;
  std::optional<std::string> deleted;  // a job to remove, with its journal
  uint64_t lamport_high = 0;
};

// The database's side of the store: one transaction per Write, one Write at a time (on the writer
// thread, or on the owner's while the writer is idle); Load is called on the owner's thread before
// the first write.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Writes every batch of `work` (in order) and the highest Lamport mark among them, all or none.
  virtual Status Write(const std::deque<StoreBatch>& work) = 0;
  virtual Result<RecoveredState> Load() = 0;
};

// Adds the inputs of one stored chunk (the bytes of a JournalChunk) to `job`, putting back the job
// id the row left out. False if the bytes are not a chunk.
bool AppendChunk(const void* data, size_t size, RecoveredJob& job);

class GroupCommitStore : public JobStore {
 public:
  explicit GroupCommitStore(std::unique_ptr<StoreBackend> backend);
  ~GroupCommitStore() override;

  Status Accept(const StoredJob& job) override;
  void Append(const std::string& job_id, v1::CoreInput input) override;
  Status Commit(uint64_t lamport_high) override;
  Status Sync(uint64_t lamport_high) override;
  Status Delete(const std::string& job_id) override;
  bool has_pending() const override { return !pending_.empty(); }
  // Batches queued for the writer, not counting one being written.
  size_t queued_batches() {
    std::lock_guard lock(mu_);
    return queue_.size();
  }
  Result<RecoveredState> Load() override;
  // Called with each commit's duration in seconds, on the thread that wrote it. Set before the
  // first write (under the store's lock, so the writer sees it).
  void SetCommitObserver(std::function<void(double seconds)> observer);
  // Called on the thread that wrote when the backend refuses a write because another coordinator
  // leads now (kAborted: fenced, coordinator/postgres_job_store.h). Nothing of it was written;
  // the coordinator must stop. Without a handler the write is retried as any failed one.
  void SetFencedHandler(std::function<void(const Status& why)> handler);

  static constexpr size_t kMaxQueuedBytes = 32 << 20;

 private:
  // Queues what is pending (and `job`) as a batch; returns its sequence number. The caller wakes
  // the writer.
  uint64_t Enqueue(std::unique_lock<std::mutex>& lock, std::optional<StoredJob> job,
                   uint64_t lamport_high, std::optional<std::string> deleted);
  // Queues a batch as Enqueue does and returns once it is written (Ok) or its write failed (the
  // error): written here if the writer is idle and it is alone in the queue, else by the writer.
  Status Durable(std::optional<StoredJob> job, uint64_t lamport_high,
                 std::optional<std::string> deleted = std::nullopt);
  // Writes `work` (taken off the queue, writing_ set) with `lock` released; then records the
  // outcome: written, or put back in front of the queue for the writer to retry.
  Status WriteBatches(std::unique_lock<std::mutex>& lock, std::deque<StoreBatch>& work);
  void WriterLoop();

  std::unique_ptr<StoreBackend> backend_;
  std::map<std::string, std::string> pending_;  // appended, not yet queued (owner's thread only)
  size_t pending_bytes_ = 0;
  uint64_t lamport_sent_ = 0;

  std::mutex mu_;  // guards what follows, shared with the writer thread
  std::condition_variable work_cv_, done_cv_;
  std::deque<StoreBatch> queue_;
  bool writing_ = false;     // a Write is under way (on the writer thread or the owner's)
  size_t queued_bytes_ = 0;  // in queue_ and in the write under way
  uint64_t next_seq_ = 1;
  uint64_t written_ = 0;    // every batch up to this one is durable
  uint64_t attempted_ = 0;  // every batch up to this one was tried
  Status error_;            // of the last write; Ok once one succeeds
  bool stop_ = false;
  std::function<void(double)> commit_observer_;
  std::function<void(const Status&)> fenced_;
  std::thread writer_;  // last: it starts when everything above exists
};

}  // namespace hollerith::coordinator
