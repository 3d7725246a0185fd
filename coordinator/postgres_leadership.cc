#include "coordinator/postgres_leadership.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace hollerith::coordinator {

PostgresLeadership::PostgresLeadership(PostgresOptions options, std::string holder,
                                       std::chrono::milliseconds lease)
    : db_([&] {
        // A renewal must fail, not hang, when the database is out of reach: TCP gives up within
        // the lease.
        options.io_timeout = lease;
        return std::move(options);
      }()),
      holder_(std::move(holder)),
      lease_(lease) {}

PostgresLeadership::~PostgresLeadership() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

Status PostgresLeadership::Open() {
  if (Status s = db_.Open(); !s.ok()) return s;
  return db_.Migrate();
}

std::string PostgresLeadership::LeaseInterval() const {
  return std::to_string(lease_.count()) + " milliseconds";
}

Result<uint64_t> PostgresLeadership::Acquire(
    const std::string& address, const std::function<void(const std::string&)>& on_leader) {
  const std::string interval = LeaseInterval();
  std::string said;  // the leader last reported, to say it once
  for (;;) {
    if (!db_.connected()) {
      if (Status s = db_.Connect(); !s.ok()) {
        if (s.code() != StatusCode::kUnavailable) return s;
        spdlog::warn("{}; trying again", s.message());
        std::this_thread::sleep_for(lease_ / 8);
        continue;
      }
    }
    const char* params[] = {holder_.c_str(), address.c_str(), interval.c_str()};
    PgResult r(PQexecParams(db_.get(),
                            "UPDATE leader SET epoch = epoch + 1, holder = $1, address = $2, "
                            "lease_until = now() + $3::interval WHERE id = 1 AND lease_until < "
                            "now() RETURNING epoch",
                            3, nullptr, params, nullptr, nullptr, 0));
    if (r.status() == PGRES_TUPLES_OK && r.rows() == 1) {
      epoch_ = std::strtoull(r.text(0, 0), nullptr, 10);
      spdlog::info("leading the cluster's coordinators (epoch {}, lease {} ms)", epoch_,
                   lease_.count());
      return epoch_;
    }
    if (r.status() != PGRES_TUPLES_OK) {
      spdlog::warn("{}", db_.Error("cannot take the lease").message());
    } else {
      PgResult who(PQexec(db_.get(), "SELECT epoch, holder, address FROM leader WHERE id = 1"));
      if (who.status() == PGRES_TUPLES_OK && who.rows() == 1) {
        const std::string leader =
            std::string(who.text(0, 2)) + " (" + who.text(0, 1) + ", epoch " + who.text(0, 0) + ")";
        if (leader != said) {
          spdlog::info("standby: the leader is {}; taking over when its lease runs out", leader);
          std::printf("standby: the leader is %s\n", leader.c_str());
          std::fflush(stdout);
          said = leader;
          if (on_leader) on_leader(who.text(0, 2));
        }
      }
    }
    std::this_thread::sleep_for(lease_ / 8);
  }
}

Status PostgresLeadership::Renew() {
  if (!db_.connected()) {
    if (Status s = db_.Connect(); !s.ok()) return s;
  }
  const std::string epoch = std::to_string(epoch_);
  const std::string interval = LeaseInterval();
  const char* params[] = {epoch.c_str(), interval.c_str()};
  PgResult r(PQexecParams(db_.get(),
                          "UPDATE leader SET lease_until = now() + $2::interval WHERE id = 1 AND "
                          "epoch = $1 RETURNING epoch",
                          2, nullptr, params, nullptr, nullptr, 0));
  if (r.status() != PGRES_TUPLES_OK) return db_.Error("cannot renew the lease");
  if (r.rows() == 1) return Status::Ok();
  PgResult who(PQexec(db_.get(), "SELECT epoch, address FROM leader WHERE id = 1"));
  const std::string now = who.status() == PGRES_TUPLES_OK && who.rows() == 1
                              ? std::string(who.text(0, 1)) + " leads with epoch " + who.text(0, 0)
                              : "another coordinator leads";
  return Status::Error(StatusCode::kAborted, now + " (this one's epoch was " + epoch + ")");
}

void PostgresLeadership::KeepLeading(std::function<void(const std::string&)> lost) {
  renewer_ = std::thread([this, lost = std::move(lost)] { RenewLoop(lost); });
}

void PostgresLeadership::RenewLoop(std::function<void(const std::string&)> lost) {
  auto renewed = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stop_) {
    stop_cv_.wait_for(lock, lease_ / 4, [&] { return stop_; });
    if (stop_) return;
    lock.unlock();
    const Status s = Renew();
    lock.lock();
    if (stop_) return;
    if (s.ok()) {
      renewed = std::chrono::steady_clock::now();
    } else if (s.code() == StatusCode::kAborted) {
      lost(s.message());
      return;
    } else {
      // The database is out of reach: its writes fail meanwhile (submissions are refused), so
      // this coordinator acknowledges nothing. Once the lease ran out a standby may take over;
      // if one did, the next renewal that reaches the database says so, and this one stops.
      const bool expired = std::chrono::steady_clock::now() - renewed >= lease_;
      spdlog::warn("{}{}", s.message(),
                   expired ? "; the lease ran out: a standby may take over, and then this "
                             "coordinator stops when it reaches the database again"
                           : "");
    }
  }
}

void PostgresLeadership::Resign() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  const std::string epoch = std::to_string(epoch_);
  const char* params[] = {epoch.c_str()};
  PgResult r(PQexecParams(db_.get(),
                          "UPDATE leader SET lease_until = '-infinity' WHERE id = 1 AND epoch = $1",
                          1, nullptr, params, nullptr, nullptr, 0));
  if (r.status() == PGRES_COMMAND_OK) spdlog::info("resigned the lead (epoch {})", epoch_);
}

}  // namespace hollerith::coordinator
