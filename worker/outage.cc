// The worker through an outage of the coordinator (see worker.h): it keeps its running stacks for
// the outage grace, buffers their card events, claims the stacks in its next hello with the
// events the coordinator may not have recorded, and cancels what the coordinator drops.
#include <spdlog/spdlog.h>

#include <set>

#include "worker/worker.h"

namespace hollerith::worker {
namespace {

constexpr size_t kLoggedFinishes = 8;  // per outage

}  // namespace

std::chrono::milliseconds Worker::OutageGrace() const {
  return options_.outage_grace.count() >= 0 ? options_.outage_grace : 3 * lease_;
}

bool Worker::HoldStacks(v1::WorkerMessage unsent) {
  if (OutageGrace().count() == 0) return false;
  holding_ = true;
  // What was sent long enough before the stream broke is recorded: the hello need not carry it.
  // (Remember expires it only when something new is sent; a worker that sent nothing since
  // would otherwise claim stacks that ended long ago, and replay all their events.)
  ForgetConfirmed(time_.Now());
  Remember(std::make_shared<v1::WorkerMessage>(std::move(unsent)), /*sent=*/false);
  if (!holding_) return false;  // too much to keep
  grace_timer_->Arm(OutageGrace(), [this] {
    if (!holding_) return;
    spdlog::warn(
        "the coordinator stayed away for {} ms (--outage-grace-ms); cancelling {} kept "
        "stacks",
        OutageGrace().count(), host_->active_stacks());
    CancelAllStacks("the coordinator stayed away past the outage grace");
    // A hello with the claims may be waiting for its welcome: the coordinator must not keep
    // stacks this worker no longer runs. The next session starts with no claims.
    if (state_ == WorkerState::kConnecting && session_) session_->Cancel();
  });
  return true;
}

void Worker::Remember(std::shared_ptr<v1::WorkerMessage> events, bool sent) {
  if (CardEvents(*events) == 0) return;
  const MonotonicTime now = time_.Now();
  if (sent) {
    ForgetConfirmed(now);
  } else {
    if (unsent_bytes_ == 0) buffered_finishes_ = 0;
    events->clear_heartbeat();  // the worker's alone: never given to a stream
    for (const auto& f : events->finished()) {
      if (++buffered_finishes_ > kLoggedFinishes) break;
      spdlog::info("coordinator away: buffered the finish of job {} card {}.{} (attempt {}){}",
                   f.job_id(), f.card().stack(), f.card().card(), f.attempt(),
                   buffered_finishes_ == kLoggedFinishes ? "; further ones silently" : "");
    }
    unsent_bytes_ += events->ByteSizeLong();
    if (unsent_bytes_ > kOutageBufferBytes) {
      spdlog::warn(
          "more than {} MiB of card events wait for the coordinator; cancelling the {} kept "
          "stacks",
          kOutageBufferBytes >> 20, host_->active_stacks());
      CancelAllStacks("too many card events buffered while the coordinator was away");
      return;
    }
  }
  unconfirmed_.push_back({now, sent, std::move(events)});
}

void Worker::ForgetConfirmed(MonotonicTime now) {
  // Only what was sent expires; what waits for a hello stays until one carries it.
  while (!unconfirmed_.empty() && unconfirmed_.front().sent &&
         now - unconfirmed_.front().at > kResendWindow) {
    unconfirmed_.pop_front();
  }
}

void Worker::AddClaims(v1::Hello* hello) const {
  std::set<PlacedKey> claimed;
  for (const auto& [key, placed] : placed_) {
    if (placed.generation == 0) continue;
    auto* h = hello->add_held();
    h->set_job_id(std::get<0>(key));
    h->set_stack(std::get<1>(key));
    h->set_attempt(std::get<2>(key));
    h->set_epoch(placed.epoch);
    std::set<std::pair<uint32_t, uint32_t>> from;  // a release may have come twice
    for (CardRef r : placed.released_from) {
      if (!from.insert({r.stack, r.card}).second) continue;
      auto* c = h->add_released_from();
      c->set_stack(r.stack);
      c->set_card(r.card);
    }
    claimed.insert(key);
  }
  // Stacks that ended recently or during the outage: their last events may be news.
  for (const auto& u : unconfirmed_) {
    for (const auto& e : u.events->ended()) {
      if (!claimed.insert({e.job_id(), e.stack(), e.attempt()}).second) continue;
      auto* h = hello->add_held();
      h->set_job_id(e.job_id());
      h->set_stack(e.stack());
      h->set_attempt(e.attempt());
      h->set_ended(true);
    }
  }
  for (const auto& u : unconfirmed_) {
    for (const auto& s : u.events->started()) {
      if (claimed.count({s.job_id(), s.card().stack(), s.attempt()})) *hello->add_started() = s;
    }
    for (const auto& f : u.events->finished()) {
      if (claimed.count({f.job_id(), f.card().stack(), f.attempt()})) *hello->add_finished() = f;
    }
  }
  if (hello->held_size() > 0) {
    spdlog::info("claiming {} stacks with {} card events the coordinator may have missed",
                 hello->held_size(), hello->started_size() + hello->finished_size());
  }
}

void Worker::ForgetEvents(const std::string& job, uint32_t stack, uint32_t attempt) {
  auto drop = [&](auto* events, auto stack_of) {
    auto* rep = events;
    int kept = 0;
    for (int i = 0; i < rep->size(); ++i) {
      const auto& e = rep->Get(i);
      if (e.job_id() == job && stack_of(e) == stack && e.attempt() == attempt) continue;
      if (kept != i) rep->SwapElements(kept, i);
      ++kept;
    }
    rep->DeleteSubrange(kept, rep->size() - kept);
  };
  auto card_stack = [](const auto& e) { return e.card().stack(); };
  auto ended_stack = [](const v1::StackEnded& e) { return e.stack(); };
  for (v1::WorkerMessage* m : [&] {
         std::vector<v1::WorkerMessage*> all{&batch_};
         for (auto& u : unconfirmed_) {
           // A sent message may still be the stream's: change a copy.
           if (u.sent) u.events = std::make_shared<v1::WorkerMessage>(*u.events);
           all.push_back(u.events.get());
         }
         return all;
       }()) {
    drop(m->mutable_started(), card_stack);
    drop(m->mutable_finished(), card_stack);
    drop(m->mutable_ended(), ended_stack);
  }
}

void Worker::ApplyDrop(const v1::Drop& d) {
  // Whatever this run reported or buffered is not the record's: were the same attempt placed
  // here again (a placement the crashed coordinator lost is made anew under its attempt), these
  // events would pass for the new run's in a later hello (the simulator, seed 522035).
  ForgetEvents(d.job_id(), d.stack(), d.attempt());
  auto it = placed_.find({d.job_id(), d.stack(), d.attempt()});
  if (it == placed_.end() || it->second.generation == 0) {
    spdlog::info("the coordinator rejected our claim of stack {} of job {} (attempt {}): {}",
                 d.stack(), d.job_id(), d.attempt(), d.reason());
    return;
  }
  spdlog::warn(
      "the coordinator rejected our claim of stack {} of job {} (attempt {}): {}; cancelling it",
      d.stack(), d.job_id(), d.attempt(), d.reason());
  it->second.generation = 0;  // nothing of it is reported any more
  host_->CancelStack(d.job_id(), d.stack(), d.attempt());
}

}  // namespace hollerith::worker
