// Serves ReadLog: a finished card's kept stdout and stderr, in chunks; with `follow`, a card
// that has not finished yet is served the moment it does. Runs while the caller owns the
// coordinator's state.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "coordinator/job.h"
#include "coordinator/outbox.h"

namespace hollerith::coordinator {

using LogOutbox = Outbox<v1::LogChunk>;

class LogServer {
 public:
  explicit LogServer(const LamportClock& clock) : clock_(clock) {}

  // NOT_FOUND for a card the job does not have; FAILED_PRECONDITION for one that has not
  // finished when not following. On an error nothing was sent.
  Status Read(const Job& job, const std::string& card, bool follow,
              std::shared_ptr<LogOutbox> outbox);
  // Serves the waiters of the job's cards that have finished (all of them once the job ended).
  void JobChanged(const Job& job);
  size_t waiters(const std::string& job_id) const;
  void Forget(const std::string& job_id) { waiting_.erase(job_id); }

 private:
  struct Waiter {
    CardRef card;
    std::shared_ptr<LogOutbox> outbox;
  };
  void Send(const CardRecord& rec, LogOutbox& outbox);

  const LamportClock& clock_;
  std::map<std::string, std::vector<Waiter>> waiting_;  // job id -> followers of unfinished cards
};

}  // namespace hollerith::coordinator
