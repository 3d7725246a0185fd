// The simulator's durable record: a JobStore kept in memory that can "crash". Like GroupCommitStore,
// appended inputs are durable only once a commit has been written: Commit hands them to the "disk"
// (in flight), and the simulator decides when the disk has written them (Write); Accept, Sync and
// Delete return once everything before them is durable. A crash keeps exactly what was durable.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/job_store.h"

namespace hollerith::sim {

class SimJobStore : public coordinator::JobStore {
 public:
  Status Accept(const coordinator::StoredJob& job) override;
  void Append(const std::string& job_id, v1::CoreInput input) override;
  Status Commit(uint64_t lamport_high) override;
  Status Sync(uint64_t lamport_high) override;
  Status Delete(const std::string& job_id) override;
  bool has_pending() const override { return !pending_.empty(); }
  Result<coordinator::RecoveredState> Load() override;

  // Commits handed to the disk and not yet written.
  size_t in_flight() const { return in_flight_.size(); }
  // The disk writes the oldest commit in flight.
  void Write();
  // The process dies: what was not written is lost.
  void Crash();

 private:
  using Inputs = std::vector<std::pair<std::string, v1::CoreInput>>;
  struct Batch {
    Inputs inputs;
    uint64_t lamport_high = 0;
  };
  void WriteAll();

  Inputs pending_;
  std::deque<Batch> in_flight_;
  uint64_t lamport_sent_ = 0;
  // Durable.
  std::vector<coordinator::RecoveredJob> jobs_;
  uint64_t lamport_high_ = 0;
};

}  // namespace hollerith::sim
