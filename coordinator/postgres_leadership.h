// Which of the coordinators sharing one PostgreSQL store leads: a lease in the database (table
// `leader`: epoch, holder, address, and `lease_until` on the database's clock, so that no two
// machines' clocks need agree). No home-made consensus: taking the lease is one conditional
// UPDATE, atomic in PostgreSQL.
//
// A coordinator takes the lease once it has run out, with a new epoch; it renews it every quarter
// lease from a thread of its own, on a connection of its own (with TCP timeouts shorter than the
// lease, so a partition is noticed). When a renewal finds another epoch, it is told to stop
// (`lost`). While the database is out of reach it keeps trying: its writes fail meanwhile (it
// acknowledges nothing), a standby that reaches the database takes over once the lease ran out,
// and a database that merely restarted finds it still leading. Standbys wait, trying every eighth
// of a lease. The store fences every write by the epoch
// (coordinator/postgres_job_store.h), so a leader that was paused past its lease and resumes cannot
// write after its successor began. A clean shutdown resigns: a standby takes over at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "coordinator/postgres_connection.h"

namespace hollerith::coordinator {

class PostgresLeadership {
 public:
  // `holder`: this coordinator's name in the lease (host and pid); `lease`: how long a lease lasts
  // unless renewed (a standby takes over within about that much after the leader died).
  PostgresLeadership(PostgresOptions options, std::string holder, std::chrono::milliseconds lease);
  ~PostgresLeadership();  // stops renewing (without resigning: see Resign)
  PostgresLeadership(const PostgresLeadership&) = delete;
  PostgresLeadership& operator=(const PostgresLeadership&) = delete;

  // Connects (patiently) and brings the schema up to date.
  Status Open();
  // Blocks until this coordinator leads, and returns its epoch. While another leads, says once
  // who (and again when the leader changes), also to `on_leader` (with the leader's address).
  // `address`: where clients reach this coordinator.
  Result<uint64_t> Acquire(const std::string& address,
                           const std::function<void(const std::string& leader)>& on_leader = {});
  // Renews the lease until Resign or destruction; `lost` is called once, on the renewing thread,
  // with why this coordinator no longer leads (another epoch began).
  void KeepLeading(std::function<void(const std::string& why)> lost);
  // Stops renewing and ends the lease now (a clean shutdown).
  void Resign();

  uint64_t epoch() const { return epoch_; }

 private:
  void RenewLoop(std::function<void(const std::string&)> lost);
  // One renewal: Ok, kAborted (another epoch), or another error (unreachable).
  Status Renew();
  std::string LeaseInterval() const;

  PgConnection db_;  // after Acquire, the renewing thread's (and Resign's, once it has stopped)
  std::string holder_;
  std::chrono::milliseconds lease_;
  uint64_t epoch_ = 0;

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread renewer_;
};

}  // namespace hollerith::coordinator
