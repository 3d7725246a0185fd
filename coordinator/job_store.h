// Where the coordinator keeps its durable record of accepted jobs. An interface now so that a
// durable implementation (SQLite, for restart after kill -9) can replace the in-memory one.
#pragma once

#include <map>
#include <string>

namespace hollerith::coordinator {

struct StoredJob {
  std::string job_id;
  std::string idempotency_key;
  std::string spec_name;
  std::string spec_text;
  std::string state;
};

class JobStore {
 public:
  virtual ~JobStore() = default;
  // Called before the submission is acknowledged.
  virtual void JobAccepted(const StoredJob& job) = 0;
  virtual void JobStateChanged(const std::string& job_id, const std::string& state) = 0;
};

// Keeps the record in memory only: nothing survives a restart.
class MemoryJobStore : public JobStore {
 public:
  void JobAccepted(const StoredJob& job) override { jobs_[job.job_id] = job; }
  void JobStateChanged(const std::string& job_id, const std::string& state) override {
    auto it = jobs_.find(job_id);
    if (it != jobs_.end()) it->second.state = state;
  }

 private:
  std::map<std::string, StoredJob> jobs_;
};

}  // namespace hollerith::coordinator
