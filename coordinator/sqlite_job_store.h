// The durable JobStore: SQLite in WAL mode, one database file in the coordinator's data dir.
// Durability by SyncMode: kNormal (synchronous=NORMAL) survives a crash of the process (kill -9)
// with nothing committed lost; kFull (synchronous=FULL) also survives a power loss, at the price
// of an fsync per commit. Appended inputs are encoded at once (the bytes of a JournalChunk, without
// what the row already says: the job id) and buffered per job; Commit hands them to a writer
// thread of the store's own, which writes everything queued as one row per job in one transaction,
// off the coordinator's loop. Accept and Sync wait for their write. A failed write is retried
// (nothing dropped) and reported by every later call until a write succeeds. Back-pressure: while
// more than kMaxQueuedBytes wait for the writer, Commit waits until half of them are written, so a
// coordinator that produces faster than the disk takes slows down instead of growing.
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
#include <vector>

#include "coordinator/job_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hollerith::coordinator {

enum class SyncMode { kNormal, kFull };

class SqliteJobStore : public JobStore {
 public:
  // Opens (creating if needed) the database at `path`. A corrupt or unreadable file is an error
  // naming the file, never a silently empty store.
  static Result<std::unique_ptr<SqliteJobStore>> Open(const std::string& path, SyncMode sync);
  ~SqliteJobStore() override;

  Status Accept(const StoredJob& job) override;
  void Append(const std::string& job_id, v1::CoreInput input) override;
  Status Commit(uint64_t lamport_high) override;
  Status Sync(uint64_t lamport_high) override;
  Status Delete(const std::string& job_id) override;
  bool has_pending() const override { return !pending_.empty(); }
  Result<RecoveredState> Load() override;
  // Called on the writer thread with each commit's duration in seconds. Set before the first
  // write (under the store's lock, so the writer sees it).
  void SetCommitObserver(std::function<void(double seconds)> observer);

  static constexpr size_t kMaxQueuedBytes = 32 << 20;

 private:
  // job id -> its appended inputs, encoded as the bytes of a v1::JournalChunk
  using Chunks = std::map<std::string, std::string>;
  struct Batch {
    uint64_t seq = 0;
    Chunks chunks;
    size_t bytes = 0;  // of chunks
    std::optional<StoredJob> job;
    std::optional<std::string> deleted;  // a job to remove, with its journal
    uint64_t lamport_high = 0;
  };

  SqliteJobStore(sqlite3* db, std::string path);
  Status Exec(const char* sql);
  Status Prepare();
  // Adds text column `column` (default '') to a store written before it existed.
  Status AddColumn(const std::string& column);
  Status Error(const std::string& what) const;
  // Queues what is pending (and `job`) for the writer; returns the batch's sequence number.
  uint64_t Enqueue(std::optional<StoredJob> job, uint64_t lamport_high,
                   std::optional<std::string> deleted = std::nullopt);
  // Waits until batch `seq` is written (Ok) or its write failed (the error).
  Status Wait(uint64_t seq);
  void WriterLoop();
  // One transaction for all of `work`.
  Status Write(const std::deque<Batch>& work);
  Status WriteBatch(const Batch& batch);

  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* insert_job_ = nullptr;
  sqlite3_stmt* insert_chunk_ = nullptr;
  sqlite3_stmt* set_lamport_ = nullptr;
  sqlite3_stmt* delete_job_ = nullptr;
  sqlite3_stmt* delete_journal_ = nullptr;
  Chunks pending_;  // appended, not yet handed to the writer (owner's thread only)
  size_t pending_bytes_ = 0;
  uint64_t lamport_sent_ = 0;

  std::mutex mu_;  // guards what follows, shared with the writer thread
  std::condition_variable work_cv_, done_cv_;
  std::deque<Batch> queue_;
  size_t queued_bytes_ = 0;  // in queue_ and in the write under way
  uint64_t next_seq_ = 1;
  uint64_t written_ = 0;    // every batch up to this one is durable
  uint64_t attempted_ = 0;  // every batch up to this one was tried
  Status error_;            // of the last write; Ok once one succeeds
  bool stop_ = false;
  std::function<void(double)> commit_observer_;
  std::thread writer_;
};

}  // namespace hollerith::coordinator
