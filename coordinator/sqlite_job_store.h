// The durable JobStore: SQLite in WAL mode, one database file in the coordinator's data dir.
// Durability by SyncMode: kNormal (synchronous=NORMAL) survives a crash of the process (kill -9)
// with nothing committed lost; kFull (synchronous=FULL) also survives a power loss, at the price
// of an fsync per commit. Appended inputs are buffered per job and written as one row per job per
// commit, in one transaction.
#pragma once

#include <map>
#include <memory>
#include <string>
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
  void Append(const std::string& job_id, const v1::CoreInput& input) override;
  Status Commit(uint64_t lamport_high) override;
  bool has_pending() const override { return !pending_.empty(); }
  Result<RecoveredState> Load() override;

 private:
  explicit SqliteJobStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Exec(const char* sql);
  Status Prepare();
  Status Error(const std::string& what) const;
  // Writes the pending chunks and the high-water mark; inside a transaction the caller opened.
  Status WritePending(uint64_t lamport_high);

  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* insert_job_ = nullptr;
  sqlite3_stmt* insert_chunk_ = nullptr;
  sqlite3_stmt* set_lamport_ = nullptr;
  std::map<std::string, v1::JournalChunk> pending_;  // job id -> inputs not yet written
  uint64_t lamport_high_ = 0;
};

}  // namespace hollerith::coordinator
