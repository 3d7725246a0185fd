// Where the coordinator keeps its durable record: every accepted job and a journal of every input
// its scheduler core received (coordinator/core_input.h), from which a restarted coordinator
// rebuilds each job exactly (results, logs, trace). The seam a simulator replaces (crash-restarts
// from a store it keeps in memory); GroupCommitStore on SQLite (sqlite_job_store.h) or PostgreSQL
// (postgres_job_store.h) is the real one, MemoryJobStore keeps nothing.
// Single-threaded: called by whoever owns the coordinator's state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "store.pb.h"

namespace hollerith::coordinator {

struct StoredJob {
  std::string job_id;
  std::string idempotency_key;
  std::string spec_name;
  std::string spec_text;
  int64_t submitted_wall_us = 0;
  std::string tenant;
  std::string cache_mode;  // CacheModeName; "" is "on"
};

struct RecoveredJob {
  StoredJob job;
  std::vector<v1::CoreInput> inputs;  // in the order they were applied
};

struct RecoveredState {
  std::vector<RecoveredJob> jobs;  // in submission order
  uint64_t lamport_high = 0;       // the Lamport clock at the last commit
};

class JobStore {
 public:
  virtual ~JobStore() = default;
  // The job and everything appended before it are durable when this returns Ok; the submission
  // is acknowledged only then. An error (disk full, database unwritable) refuses the submission.
  virtual Status Accept(const StoredJob& job) = 0;
  // An input of the job's core, durable after the next Commit (group commit: one transaction
  // for everything appended since the last one).
  virtual void Append(const std::string& job_id, v1::CoreInput input) = 0;
  // Starts writing what was appended (with the Lamport high-water mark); returns at once, with
  // the error of an earlier write that failed, if any.
  virtual Status Commit(uint64_t lamport_high) = 0;
  // As Commit, and returns once it is durable.
  virtual Status Sync(uint64_t lamport_high) = 0;
  // Removes a job and its journal; durable when it returns.
  virtual Status Delete(const std::string& job_id) = 0;
  virtual bool has_pending() const = 0;
  // What the previous run left (nothing for a new data dir).
  virtual Result<RecoveredState> Load() = 0;
};

// Keeps nothing: a restart forgets every job. For throwaway clusters and benchmarks.
class MemoryJobStore : public JobStore {
 public:
  Status Accept(const StoredJob&) override { return Status::Ok(); }
  void Append(const std::string&, v1::CoreInput) override {}
  Status Commit(uint64_t) override { return Status::Ok(); }
  Status Sync(uint64_t) override { return Status::Ok(); }
  Status Delete(const std::string&) override { return Status::Ok(); }
  bool has_pending() const override { return false; }
  Result<RecoveredState> Load() override { return RecoveredState{}; }
};

}  // namespace hollerith::coordinator
