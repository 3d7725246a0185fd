#include "tests/sim/sim_store.h"

#include <algorithm>

namespace hollerith::sim {

Status SimJobStore::Accept(const coordinator::StoredJob& job) {
  Commit(lamport_sent_).IgnoreError();
  WriteAll();
  jobs_.push_back({job, {}});
  return Status::Ok();
}

void SimJobStore::Append(const std::string& job_id, v1::CoreInput input) {
  pending_.emplace_back(job_id, std::move(input));
}

Status SimJobStore::Commit(uint64_t lamport_high) {
  lamport_sent_ = std::max(lamport_sent_, lamport_high);
  Batch& b = in_flight_.emplace_back();
  b.inputs.swap(pending_);
  b.lamport_high = lamport_high;
  return Status::Ok();
}

Status SimJobStore::Sync(uint64_t lamport_high) {
  Commit(lamport_high).IgnoreError();
  WriteAll();
  return Status::Ok();
}

Status SimJobStore::Delete(const std::string& job_id) {
  std::erase_if(pending_, [&](const auto& p) { return p.first == job_id; });
  WriteAll();
  std::erase_if(jobs_, [&](const coordinator::RecoveredJob& j) { return j.job.job_id == job_id; });
  return Status::Ok();
}

void SimJobStore::Write() {
  if (in_flight_.empty()) return;
  Batch b = std::move(in_flight_.front());
  in_flight_.pop_front();
  for (auto& appended : b.inputs) {
    const std::string& job_id = appended.first;
    auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const coordinator::RecoveredJob& j) {
      return j.job.job_id == job_id;
    });
    if (it != jobs_.end()) it->inputs.push_back(std::move(appended.second));
  }
  lamport_high_ = std::max(lamport_high_, b.lamport_high);
}

void SimJobStore::WriteAll() {
  while (!in_flight_.empty()) Write();
}

void SimJobStore::Crash() {
  pending_.clear();
  in_flight_.clear();
  lamport_sent_ = lamport_high_;
}

Result<coordinator::RecoveredState> SimJobStore::Load() {
  coordinator::RecoveredState state;
  state.jobs = jobs_;
  state.lamport_high = lamport_high_;
  return state;
}

}  // namespace hollerith::sim
