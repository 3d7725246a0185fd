#include "common/local/order_gate.h"

#include <algorithm>
#include <asio/post.hpp>
#include <cstdio>

namespace hollerith {

OrderGate::OrderGate(asio::io_context& io, CardExecutor& inner, Sequencer sequencer,
                     Options options)
    : io_(io),
      inner_(inner),
      sequencer_(std::move(sequencer)),
      options_(options),
      stall_timer_(io) {}

OrderGate::~OrderGate() {
  *alive_ = false;
  stall_timer_.cancel();
}

void OrderGate::OnEvent(const SchedulerCore& core) {
  core_ = &core;
  if (core.job_ptr().get() != sequenced_job_) Resequence();
  Pump();
}

void OrderGate::Index(const std::shared_ptr<const JobSpec>& job) {
  jobs_.push_back(job);
  for (uint32_t s = 0; s < job->stacks.size(); ++s) {
    const StackSpec& stack = job->stacks[s];
    for (uint32_t c = 0; c < stack.cards.size(); ++c) cards_[&stack.cards[c]] = {s, c};
  }
}

void OrderGate::Resequence() {
  std::shared_ptr<const JobSpec> job = core_->job_ptr();
  Index(job);
  sequenced_job_ = job.get();
  // The card running now keeps its turn; cards whose turn has passed stay passed.
  std::vector<CardRef> rest;
  for (const auto& [handle, running] : running_) {
    if (running.card && !passed_.contains(*running.card)) rest.push_back(*running.card);
  }
  for (CardRef card : sequencer_(*job)) {
    if (!passed_.contains(card) && std::find(rest.begin(), rest.end(), card) == rest.end()) {
      rest.push_back(card);
    }
  }
  sequence_ = std::move(rest);
  next_ = 0;
  position_.clear();
  for (size_t i = 0; i < sequence_.size(); ++i) position_[sequence_[i]] = i;
}

std::optional<CardRef> OrderGate::Identify(const CardSpec* spec) {
  auto it = cards_.find(spec);
  if (it == cards_.end() && core_ && core_->job_ptr().get() != sequenced_job_) {
    Resequence();  // a run-time matrix made a job whose cards ask before the core's next event
    it = cards_.find(spec);
  }
  if (it == cards_.end()) return std::nullopt;
  return it->second;
}

bool OrderGate::InTurnOrder(CardRef card) const {
  auto it = position_.find(card);
  return it != position_.end() && it->second >= next_;
}

bool OrderGate::Ended(CardRef card) const {
  const CardState state = core_->record(card).state;
  return state == CardState::kSucceeded || state == CardState::kFailed ||
         state == CardState::kSkipped;
}

std::string OrderGate::Name(CardRef card) const {
  return core_ ? core_->job().card_name(card) : "card";
}

uint64_t OrderGate::Run(const CardSpec& card, const CardLaunch& launch, Done done) {
  const uint64_t handle = ++next_handle_;
  held_[handle] = Held{Identify(&card), &card, launch, std::move(done)};
  Pump();
  return handle;
}

void OrderGate::Cancel(uint64_t handle) {
  if (auto it = running_.find(handle); it != running_.end()) {
    inner_.Cancel(it->second.inner);
    return;
  }
  auto it = held_.find(handle);
  if (it == held_.end()) return;
  asio::post(io_, [done = std::move(it->second.done)] {
    CardResult result;
    result.error = "cancelled before its turn";
    done(std::move(result));
  });
  held_.erase(it);
  Pump();
}

bool OrderGate::ReadOutput(uint64_t handle, bool err, size_t from, size_t max, std::string* data,
                           size_t* total) {
  auto it = running_.find(handle);
  return it != running_.end() && inner_.ReadOutput(it->second.inner, err, from, max, data, total);
}

void OrderGate::Pump() {
  if (!core_) return;  // the run has not started: no card asks before its first event
  if (core_->state() != JobState::kRunning) pass_all_ = true;
  while (pass_all_ && !held_.empty()) Admit(held_.begin()->first);
  while (running_.empty() && !held_.empty()) {
    auto asked = [this](CardRef card) {
      for (const auto& [handle, held] : held_) {
        if (held.card == card) return handle;
      }
      return uint64_t{0};
    };
    while (next_ < sequence_.size() && Ended(sequence_[next_]) && !asked(sequence_[next_])) {
      passed_.insert(sequence_[next_++]);
    }
    uint64_t pick = next_ < sequence_.size() ? asked(sequence_[next_]) : 0;
    if (pick == 0) {
      // The card whose turn it is has not asked: one that is in no sequence (or whose turn the
      // guard gave up on) may run meanwhile.
      for (const auto& [handle, held] : held_) {
        if (!held.card || !InTurnOrder(*held.card)) {
          pick = handle;
          if (held.card && !position_.contains(*held.card) && !passed_.contains(*held.card)) {
            deviations_.push_back(Name(*held.card) + " is in no sequence: it ran when it asked");
            passed_.insert(*held.card);
          }
          break;
        }
      }
    }
    if (pick == 0) break;
    Admit(pick);
  }
  WatchForStall();
}

void OrderGate::Admit(uint64_t handle) {
  auto node = held_.extract(handle);
  Held& held = node.mapped();
  if (held.card) started_.push_back(*held.card);
  Running& running = running_[handle];
  running.card = held.card;
  running.inner =
      inner_.Run(*held.spec, held.launch,
                 [this, alive = alive_, handle, done = std::move(held.done)](CardResult result) {
                   if (*alive) running_.erase(handle);
                   done(std::move(result));
                   if (*alive) Pump();
                 });
}

bool OrderGate::Blocking() const { return !pass_all_ && running_.empty() && !held_.empty(); }

void OrderGate::WatchForStall() {
  if (!Blocking()) {
    stall_timer_.cancel();
    return;
  }
  // Re-armed at every event: the guard counts from the last sign of progress.
  stall_timer_.expires_after(options_.stall_limit);
  stall_timer_.async_wait([this, alive = alive_](const std::error_code& ec) {
    if (!ec && *alive) OnStall();
  });
}

void OrderGate::OnStall() {
  if (!Blocking() || next_ >= sequence_.size()) return;
  const CardRef turn = sequence_[next_];
  char waited[32];
  std::snprintf(waited, sizeof waited, "%.1f", options_.stall_limit.count() / 1000.0);
  deviations_.push_back(std::string("waited ") + waited + " s for " + Name(turn) +
                        ", whose turn it was, to ask to run; went on without it");
  passed_.insert(turn);
  ++next_;
  Pump();
}

}  // namespace hollerith
