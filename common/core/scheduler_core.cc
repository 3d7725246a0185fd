#include "common/core/scheduler_core.h"

#include "common/base/check.h"

#include <algorithm>
#include <deque>

namespace hollerith {

const CardOutput CardRecord::kNoOutput{};

const char* CardStateName(CardState s) {
  switch (s) {
    case CardState::kPending:
      return "pending";
    case CardState::kRunning:
      return "running";
    case CardState::kSucceeded:
      return "succeeded";
    case CardState::kFailed:
      return "failed";
    case CardState::kSkipped:
      return "skipped";
  }
  return "?";
}

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "?";
}

SchedulerCore::SchedulerCore(std::shared_ptr<const JobSpec> job, LamportClock& clock,
                             const TimeSource& time, std::string self_node, RetryPolicy retry)
    : job_(std::move(job)),
      dependents_(*job_),
      clock_(&clock),
      time_(time),
      self_node_(std::move(self_node)),
      retry_(retry) {
  size_t all = 0;
  for (const auto& s : job_->stacks) {
    offsets_.push_back(all);
    all += s.cards.size();
    if (!s.is_template()) total_ += s.cards.size();
    if (!s.is_template() && !s.is_combine) ++user_stacks_;
  }
  records_.resize(all);
  stacks_.resize(job_->stacks.size());
  trace_.NodeIndex(self_node_);
  any_cacheable_ = AnyCacheable(*job_);
  if (job_->has_fanout) IndexFanOuts();
  // A job that succeeds without retries: submitted, finished, a placement per stack, a start and a
  // finish per card, a release per cross-stack edge.
  size_t releases = 0;
  for (uint32_t s = 0; s < job_->stacks.size(); ++s) {
    for (uint32_t c = 0; c < job_->stacks[s].cards.size(); ++c) {
      releases += dependents_.dependency_count({s, c});
    }
  }
  trace_.Reserve(2 + job_->stacks.size() + 2 * total_ + releases);
}

bool SchedulerCore::AnyCacheable(const JobSpec& job) {
  for (const StackSpec& stack : job.stacks) {
    for (const CardSpec& card : stack.cards) {
      if (card.cache) return true;
    }
  }
  return false;
}

void SchedulerCore::ExtendCacheKeys(uint32_t stack, bool emit) {
  const StackSpec& spec = job_->stacks[stack];
  StackState& st = stacks_[stack];
  if (spec.is_combine || spec.is_template()) return;
  const size_t before = st.cache_keys.size();
  if (st.cache_keys.capacity() < spec.cards.size()) st.cache_keys.reserve(spec.cards.size());
  while (st.cache_keys.size() < spec.cards.size()) {
    const CardSpec& card = spec.cards[st.cache_keys.size()];
    if (!card.cache) break;  // and no later card of the stack has a key either
    std::vector<std::string> digests;
    for (const InputSpec& in : card.inputs) {
      const CardRecord& producer = record(in.from);
      if (producer.state != CardState::kSucceeded) break;
      for (const auto& [path, digest] : producer.out().outputs) {
        if (path == in.path) digests.push_back(digest);
      }
    }
    if (digests.size() < card.inputs.size()) break;  // not all published yet
    st.cache_keys.push_back(CardCacheKeyParts(
        card, digests, st.cache_keys.empty() ? std::string() : st.cache_keys.back().key));
  }
  if (!emit || st.node.empty()) return;
  for (size_t c = before; c < st.cache_keys.size(); ++c) {
    Emit(CacheQueryAction{{stack, static_cast<uint32_t>(c)}, st.attempt, false, &st.cache_keys[c]});
  }
}

void SchedulerCore::IndexFanOuts() {
  const uint32_t n = static_cast<uint32_t>(job_->stacks.size());
  waits_for_fanouts_.resize(n, 0);
  fanout_abandoned_.resize(n, false);
  for (uint32_t s = 0; s < n; ++s) {
    if (IsOpenTemplate(s)) ++open_fanouts_;
  }
  for (uint32_t s = 0; s < n; ++s) {
    if (job_->stacks[s].is_template()) continue;
    std::vector<uint32_t> templates;
    for (uint32_t c = 0; c < job_->stacks[s].cards.size(); ++c) {
      for (CardRef dep : CrossStackDependencies(*job_, {s, c})) {
        if (IsOpenTemplate(dep.stack)) templates.push_back(dep.stack);
      }
    }
    std::sort(templates.begin(), templates.end());
    templates.erase(std::unique(templates.begin(), templates.end()), templates.end());
    waits_for_fanouts_[s] = static_cast<uint32_t>(templates.size());
    for (uint32_t t : templates) fanout_consumers_[t].push_back(s);
  }
}

TraceEvent SchedulerCore::Stamp(EventKind kind, CardRef card, uint32_t attempt, uint64_t lamport,
                                const std::string& node) {
  TraceEvent e;
  e.kind = kind;
  e.card = card;
  e.attempt = attempt;
  e.lamport = lamport;
  e.node = trace_.NodeIndex(node);
  e.wall_us = time_.WallMicros();
  return e;
}

void SchedulerCore::Start() {
  trace_.Add(Stamp(EventKind::kJobSubmitted, {}, 0, clock_->Tick(), self_node_));
  ReserveActions(job_->stacks.size());
  for (uint32_t s = 0; s < job_->stacks.size(); ++s) {
    const StackSpec& stack = job_->stacks[s];
    if (stack.is_combine || stack.is_template()) continue;
    if (!waits_for_fanouts_.empty() && waits_for_fanouts_[s] > 0) continue;  // FanOutListed
    Emit(PlaceStackAction{s, stacks_[s].attempt});
  }
  MaybeFinish();  // a job whose stacks are all empty is done at once
}

bool SchedulerCore::StackPlaced(uint32_t stack, uint32_t attempt, const std::string& node) {
  if (stack >= stacks_.size() || attempt != stacks_[stack].attempt ||
      state_ != JobState::kRunning) {
    return false;
  }
  StackState& st = stacks_[stack];
  st.node = node;
  const uint64_t now = clock_->Tick();
  trace_.Add(Stamp(EventKind::kStackPlaced, {stack, 0}, attempt, now, self_node_));

  AssignStackMsg assign{stack, attempt, node, job_->priority, {}, 1, {}, {}, now, {}};
  // A re-run continues the stack's clock from what its earlier attempts' events reached, so no
  // two of its events share a clock.
  if (attempt > 1) assign.vc = st.known;
  if (any_cacheable_) {
    ExtendCacheKeys(stack, /*emit=*/false);
    for (uint32_t c = 0; c < st.cache_keys.size(); ++c) {
      Emit(CacheQueryAction{{stack, c}, attempt, true, &st.cache_keys[c]});
    }
  }
  if (job_->stacks[stack].is_combine) {
    assign.results.reserve(records_.size());
    for (uint32_t s = 0; s < job_->stacks.size(); ++s) {
      if (s == stack || job_->stacks[s].is_template()) continue;
      for (uint32_t c = 0; c < job_->stacks[s].cards.size(); ++c) {
        const CardRecord& r = record({s, c});
        assign.results.push_back({job_->card_name({s, c}), r.exit_code, r.out().stdout_text});
      }
    }
  }
  Emit(std::move(assign));
  // Dependencies that completed before this placement (or before a re-placement) are released now.
  std::optional<uint32_t> first_skipped;
  for (uint32_t c = 0; c < job_->stacks[stack].cards.size(); ++c) {
    CardRef to{stack, c};
    if (record(to).state == CardState::kSkipped && !first_skipped) first_skipped = c;
    const std::vector<CardRef> deps = CrossStackDependencies(*job_, to);
    ReserveActions(deps.size());
    for (CardRef from : deps) {
      if (record(from).state == CardState::kSucceeded) Release(from, to);
    }
  }
  if (first_skipped) {
    Emit(SkipMsg{stack, attempt, *first_skipped, record({stack, *first_skipped}).out().error, now});
  }
  return true;
}

void SchedulerCore::Release(CardRef from, CardRef to) {
  const StackState& target = stacks_[to.stack];
  if (target.node.empty()) return;  // released on placement instead
  const CardRecord& r = record(from);
  if (any_cacheable_) ExtendCacheKeys(to.stack, /*emit=*/true);  // before the release: see there
  const uint64_t now = clock_->Tick();
  TraceEvent e = Stamp(EventKind::kRelease, from, target.attempt, now, self_node_);
  e.target = to;
  e.vc = r.finish_vc;
  trace_.Add(std::move(e));
  Emit(ReleaseMsg{from, to, target.attempt, r.finish_vc, r.out().outputs, now});
}

bool SchedulerCore::CardStarted(const CardStartedMsg& msg) {
  const CardRef r = msg.card;
  if (r.stack >= stacks_.size() || r.card >= job_->stacks[r.stack].cards.size() ||
      msg.attempt != stacks_[r.stack].attempt || state_ != JobState::kRunning ||
      !Advance(r, msg.try_no, /*finish=*/false)) {
    return false;
  }
  const uint64_t now = clock_->Receive(msg.lamport);
  (void)now;
  CardRecord& rec = records_[index(r)];
  ++rec.tries;
  rec.node = trace_.NodeIndex(msg.node);
  if (rec.state == CardState::kPending) {
    rec.state = CardState::kRunning;
    ++stacks_[r.stack].counts.running;
  }
  stacks_[r.stack].known.Merge(msg.vc);
  TraceEvent e = Stamp(EventKind::kCardStarted, r, msg.attempt, msg.lamport, msg.node);
  e.try_no = msg.try_no;
  e.wall_us = msg.wall_us;
  e.vc = msg.vc;
  trace_.Add(std::move(e));
  return true;
}

bool SchedulerCore::CardFinished(const CardFinishedMsg& msg) {
  const CardRef r = msg.card;
  if (r.stack >= stacks_.size() || r.card >= job_->stacks[r.stack].cards.size() ||
      msg.attempt != stacks_[r.stack].attempt || state_ != JobState::kRunning ||
      !Advance(r, msg.try_no, /*finish=*/true)) {
    return false;
  }
  clock_->Receive(msg.lamport);
  stacks_[r.stack].known.Merge(msg.vc);
  const bool cached = msg.succeeded && !msg.cached_from.empty();
  TraceEvent e = Stamp(cached          ? EventKind::kCardCached
                       : msg.succeeded ? EventKind::kCardFinished
                                       : EventKind::kCardFailed,
                       r, msg.attempt, msg.lamport, msg.node);
  e.try_no = msg.try_no;
  e.wall_us = msg.wall_us;
  e.vc = msg.vc;
  e.exit_code = msg.exit_code;
  e.detail = trace_.Detail(cached ? msg.cached_from : msg.error);
  trace_.Add(std::move(e));

  CardRecord& rec = records_[index(r)];
  if (rec.state == CardState::kSucceeded || rec.state == CardState::kSkipped ||
      rec.state == CardState::kFailed) {
    // A re-run after re-placement: the result dependents saw stays; nothing is released twice.
    return true;
  }
  rec.exit_code = msg.exit_code;
  rec.duration_ms = msg.duration_ms;
  rec.node = trace_.NodeIndex(msg.node);
  rec.output.reset();
  if (!msg.error.empty() || !msg.stdout_text.empty() || !msg.stderr_text.empty() ||
      msg.stdout_truncated || (msg.succeeded && !msg.outputs.empty()) || cached) {
    CardOutput& out = rec.mutable_out();
    if (cached) out.cached_from = msg.cached_from;
    out.error = msg.error;
    out.stdout_text = msg.stdout_text.substr(0, kResultStdoutBound);
    out.stdout_truncated = msg.stdout_truncated || msg.stdout_text.size() > kResultStdoutBound;
    out.stderr_text = msg.stderr_text.substr(0, kResultStdoutBound);
    if (msg.succeeded) out.outputs = msg.outputs;
  }
  if (msg.succeeded) {
    rec.finish_vc = msg.vc;
    SetTerminal(r, CardState::kSucceeded);
    for (CardRef to : dependents_.of(r)) Release(r, to);
    if (job_->has_fanout) AskForLists(r);
    const StackSpec& stack = job_->stacks[r.stack];
    if (!stack.is_combine && r.card + 1 == stack.cards.size()) {
      ++user_stacks_done_;
      MaybePlaceCombine();
    }
  } else if (msg.try_no <= static_cast<uint32_t>(job_->card(r).retries)) {
    if (rec.state == CardState::kRunning) --stacks_[r.stack].counts.running;
    rec.state = CardState::kPending;
    int64_t delay = retry_.base.count();
    for (uint32_t i = 1; i < msg.try_no && delay < retry_.max.count(); ++i) delay *= 2;
    delay = std::min<int64_t>(delay, retry_.max.count());
    const uint64_t now = clock_->Tick();
    TraceEvent retry = Stamp(EventKind::kCardRetry, r, msg.attempt, now, self_node_);
    retry.try_no = msg.try_no + 1;
    retry.vc = msg.vc;
    trace_.Add(std::move(retry));
    Emit(RetryMsg{r, msg.attempt, msg.try_no + 1, Duration(delay), now});
  } else {
    std::string why = msg.error.empty() ? "exit code " + std::to_string(msg.exit_code) : msg.error;
    FailPermanently(r, "card " + job_->card_name(r) + " failed: " + why);
  }
  MaybeFinish();
  return true;
}

void SchedulerCore::SetTerminal(CardRef r, CardState s) {
  CardRecord& rec = records_[index(r)];
  StackCounts& counts = stacks_[r.stack].counts;
  if (rec.state == CardState::kRunning) --counts.running;
  if (s == CardState::kSucceeded) ++counts.succeeded;
  if (s == CardState::kFailed) ++counts.failed;
  if (s == CardState::kSkipped) ++counts.skipped;
  rec.state = s;
  ++terminal_;
  ++stacks_[r.stack].terminal;
}

void SchedulerCore::FailPermanently(CardRef r, const std::string& reason) {
  SetTerminal(r, CardState::kFailed);
  if (reason_.empty()) reason_ = reason;
  SkipDependents(r, "skipped: " + reason);
}

void SchedulerCore::SkipDependents(CardRef failed, const std::string& reason) {
  SkipFrom({failed}, {}, reason);
}

void SchedulerCore::SkipCards(const std::vector<CardRef>& cards, const std::string& reason) {
  SkipFrom({}, cards, reason);
}

void SchedulerCore::SkipFrom(std::deque<CardRef> ended, std::vector<CardRef> to_visit,
                             const std::string& reason) {
  // Everything that transitively waits on the `ended` cards (stack order and cross-stack edges)
  // never runs; nor do the cards `to_visit` and what waits on them.
  std::vector<uint32_t> first_skipped(stacks_.size(), UINT32_MAX);
  std::deque<CardRef>& queue = ended;
  auto visit = [&](CardRef next) {
    if (job_->stacks[next.stack].is_template()) {
      // A template waits on a card that will never succeed: its instances will never be made.
      if (IsOpenTemplate(next.stack)) AbandonFanOut(next.stack, to_visit);
      return;
    }
    CardRecord& rec = records_[index(next)];
    if (rec.state == CardState::kSucceeded || rec.state == CardState::kFailed ||
        rec.state == CardState::kSkipped) {
      return;
    }
    rec.mutable_out().error = reason;
    SetTerminal(next, CardState::kSkipped);
    first_skipped[next.stack] = std::min(first_skipped[next.stack], next.card);
    TraceEvent e = Stamp(EventKind::kCardSkipped, next, stacks_[next.stack].attempt, clock_->Tick(),
                         self_node_);
    e.detail = trace_.Detail(reason);
    trace_.Add(std::move(e));
    queue.push_back(next);
  };
  while (!to_visit.empty() || !queue.empty()) {
    if (!to_visit.empty()) {
      const CardRef next = to_visit.back();
      to_visit.pop_back();
      visit(next);
      continue;
    }
    CardRef u = queue.front();
    queue.pop_front();
    if (job_->has_fanout) {
      for (uint32_t t = 0; t < job_->spec_stacks(); ++t) {
        if (IsOpenTemplate(t) && job_->stacks[t].fanout->source == u) AbandonFanOut(t, to_visit);
      }
    }
    if (u.card + 1 < job_->stacks[u.stack].cards.size()) visit({u.stack, u.card + 1});
    for (CardRef v : dependents_.of(u)) visit(v);
  }
  for (uint32_t s = 0; s < stacks_.size(); ++s) {
    if (first_skipped[s] == UINT32_MAX || stacks_[s].node.empty()) continue;
    Emit(SkipMsg{s, stacks_[s].attempt, first_skipped[s], reason, clock_->now()});
  }
}

void SchedulerCore::AbandonFanOut(uint32_t stack, std::vector<CardRef>& skip) {
  fanout_abandoned_[stack] = true;
  --open_fanouts_;
  for (uint32_t c = 0; c < job_->stacks[stack].cards.size(); ++c) {
    for (CardRef v : dependents_.of({stack, c})) skip.push_back(v);
  }
  ReleaseConsumers(stack);
}

void SchedulerCore::ReleaseConsumers(uint32_t stack) {
  auto it = fanout_consumers_.find(stack);
  if (it == fanout_consumers_.end()) return;
  for (uint32_t s : it->second) {
    if (--waits_for_fanouts_[s] == 0 && !job_->stacks[s].is_combine) {
      Emit(PlaceStackAction{s, stacks_[s].attempt});
    }
  }
  fanout_consumers_.erase(it);
}

std::vector<uint32_t> SchedulerCore::WaitsForFanOuts(uint32_t stack) const {
  std::vector<uint32_t> templates;
  if (waits_for_fanouts_.empty() || waits_for_fanouts_[stack] == 0) return templates;
  for (const auto& [t, consumers] : fanout_consumers_) {
    if (std::find(consumers.begin(), consumers.end(), stack) != consumers.end()) {
      templates.push_back(t);
    }
  }
  return templates;
}

void SchedulerCore::AskForLists(CardRef source) {
  for (uint32_t t = 0; t < job_->spec_stacks(); ++t) {
    if (!IsOpenTemplate(t) || job_->stacks[t].fanout->source != source) continue;
    const std::string& path = job_->stacks[t].fanout->path;
    std::string digest;
    for (const auto& [p, d] : record(source).out().outputs) {
      if (p == path) digest = d;
    }
    Emit(FanOutAction{t, path, digest});
  }
}

void SchedulerCore::AskForPlacements() {
  if (state_ != JobState::kRunning) return;
  for (uint32_t s = 0; s < job_->stacks.size(); ++s) {
    const StackSpec& stack = job_->stacks[s];
    const StackState& st = stacks_[s];
    if (!st.node.empty() || st.terminal == stack.cards.size() || stack.is_template()) continue;
    if (stack.is_combine && !combine_placed_) continue;
    if (!waits_for_fanouts_.empty() && waits_for_fanouts_[s] > 0) continue;
    Emit(PlaceStackAction{s, st.attempt});
  }
}

void SchedulerCore::AskForPendingLists() {
  if (!job_->has_fanout || state_ != JobState::kRunning) return;
  for (uint32_t t = 0; t < job_->spec_stacks(); ++t) {
    if (!IsOpenTemplate(t)) continue;
    const CardRef source = job_->stacks[t].fanout->source;
    if (record(source).state == CardState::kSucceeded) AskForLists(source);
  }
}

bool SchedulerCore::FanOutListed(uint32_t stack, const Result<std::shared_ptr<const JobSpec>>& made,
                                 const std::string& list) {
  if (state_ != JobState::kRunning || stack >= job_->spec_stacks() || !IsOpenTemplate(stack) ||
      record(job_->stacks[stack].fanout->source).state != CardState::kSucceeded) {
    return false;
  }
  TraceEvent e = Stamp(EventKind::kFanOut, {stack, 0}, 0, clock_->Tick(), self_node_);
  e.exit_code = made.ok() ? 0 : 1;
  e.detail = trace_.Detail(made.ok() ? list : made.message());
  trace_.Add(std::move(e));
  if (!made.ok()) {
    if (reason_.empty()) reason_ = made.message();
    std::vector<CardRef> skip;
    AbandonFanOut(stack, skip);
    SkipCards(skip, "skipped: " + made.message());
    MaybePlaceCombine();
    MaybeFinish();
    return true;
  }
  const JobSpec& next = **made;
  HOLLERITH_CHECK(next.stacks.size() >= job_->stacks.size() && next.stacks[stack].is_template() &&
                      next.stacks[stack].fanout->expanded,
                  "FanOutListed: the expanded job does not continue this one");
  const uint32_t first = static_cast<uint32_t>(job_->stacks.size());
  job_ = *made;
  dependents_ = DependentsIndex(*job_);
  size_t all = records_.size();
  for (uint32_t s = first; s < job_->stacks.size(); ++s) {
    offsets_.push_back(all);
    all += job_->stacks[s].cards.size();
    total_ += job_->stacks[s].cards.size();
    ++user_stacks_;
  }
  records_.resize(all);
  stacks_.resize(job_->stacks.size());
  any_cacheable_ = any_cacheable_ || AnyCacheable(*job_);
  waits_for_fanouts_.resize(job_->stacks.size(), 0);
  fanout_abandoned_.resize(job_->stacks.size(), false);
  --open_fanouts_;
  ReleaseConsumers(stack);
  std::vector<CardRef> doomed;  // instance cards that wait on a card that did not succeed
  for (uint32_t s = first; s < job_->stacks.size(); ++s) {
    Emit(PlaceStackAction{s, stacks_[s].attempt});
    for (uint32_t c = 0; c < job_->stacks[s].cards.size(); ++c) {
      for (CardRef dep : CrossStackDependencies(*job_, {s, c})) {
        const CardState st = record(dep).state;
        if (st == CardState::kFailed || st == CardState::kSkipped) doomed.push_back({s, c});
      }
    }
  }
  if (!doomed.empty()) SkipCards(doomed, "skipped: a card it waits on did not succeed");
  MaybePlaceCombine();
  MaybeFinish();
  return true;
}

void SchedulerCore::StackLost(uint32_t stack, const std::string& why, LossCause cause) {
  if (stack >= stacks_.size() || state_ != JobState::kRunning) return;
  StackState& st = stacks_[stack];
  if (st.node.empty() || st.terminal == job_->stacks[stack].cards.size()) return;
  TraceEvent e = Stamp(EventKind::kStackLost, {stack, 0}, st.attempt, clock_->Tick(), self_node_);
  e.detail = trace_.Detail(why);
  trace_.Add(std::move(e));
  std::optional<uint32_t> quarantined;
  bool first_open = true;  // only the stack's first unfinished card can have been running
  for (uint32_t c = 0; c < job_->stacks[stack].cards.size(); ++c) {
    CardRecord& rec = records_[index({stack, c})];
    const bool was_running = rec.state == CardState::kRunning;
    if (was_running) {
      rec.state = CardState::kPending;
      --st.counts.running;
    }
    if (rec.state != CardState::kPending || !first_open) continue;
    first_open = false;
    // Running, or runnable (its start may not have been reported before the node died: a card
    // that kills its worker at once is never seen running).
    bool runnable = true;
    for (CardRef dep : CrossStackDependencies(*job_, CardRef{stack, c})) {
      runnable &= record(dep).state == CardState::kSucceeded;
    }
    if (cause == LossCause::kNodeLost && (was_running || runnable) &&
        ++rec.losses >= kQuarantineLosses) {
      quarantined = c;
    }
  }
  const uint32_t lost_attempt = st.attempt;
  st.node.clear();
  st.progress = 0;
  ++st.attempt;
  if (quarantined) {
    const CardRef r{stack, *quarantined};
    const std::string reason = "card " + job_->card_name(r) + " quarantined: its worker was lost " +
                               std::to_string(kQuarantineLosses) +
                               " times while it ran (last: " + why + ")";
    TraceEvent failed = Stamp(EventKind::kCardFailed, r, lost_attempt, clock_->Tick(), self_node_);
    failed.exit_code = -1;
    failed.detail = trace_.Detail(reason);
    trace_.Add(std::move(failed));
    records_[index(r)].mutable_out().error = reason;
    records_[index(r)].exit_code = -1;
    FailPermanently(r, reason);
    MaybeFinish();
    return;
  }
  Emit(PlaceStackAction{stack, st.attempt});
}

bool SchedulerCore::Advance(CardRef r, uint32_t try_no, bool finish) {
  const uint64_t key = ProgressKey(r.card, try_no, finish);
  uint64_t& progress = stacks_[r.stack].progress;
  if (key <= progress) return false;
  progress = key;
  return true;
}

SchedulerCore::Standing SchedulerCore::ClassifyEvent(CardRef r, uint32_t attempt, uint32_t try_no,
                                                     bool finish) const {
  if (r.stack >= stacks_.size() || r.card >= job_->stacks[r.stack].cards.size() ||
      attempt != stacks_[r.stack].attempt || state_ != JobState::kRunning) {
    return Standing::kBreak;
  }
  const StackState& st = stacks_[r.stack];
  if (ProgressKey(r.card, try_no, finish) <= st.progress) return Standing::kDuplicate;
  const CardRecord& rec = record(r);
  if (finish) {  // the finish of the start the core took last
    const bool next = rec.state == CardState::kRunning &&
                      st.progress == ProgressKey(r.card, try_no, /*finish=*/false);
    return next ? Standing::kNext : Standing::kBreak;
  }
  // A start: its card waits to run, and everything it waits on is recorded as done.
  if (rec.state != CardState::kPending) return Standing::kBreak;
  if (r.card > 0 && record({r.stack, r.card - 1}).state != CardState::kSucceeded) {
    return Standing::kBreak;
  }
  for (CardRef dep : CrossStackDependencies(*job_, r)) {
    if (record(dep).state != CardState::kSucceeded) return Standing::kBreak;
  }
  return Standing::kNext;
}

SchedulerCore::Standing SchedulerCore::Classify(const CardStartedMsg& msg) const {
  return ClassifyEvent(msg.card, msg.attempt, msg.try_no, /*finish=*/false);
}

SchedulerCore::Standing SchedulerCore::Classify(const CardFinishedMsg& msg) const {
  return ClassifyEvent(msg.card, msg.attempt, msg.try_no, /*finish=*/true);
}

std::vector<CoreAction> SchedulerCore::Resend(uint32_t stack) const {
  std::vector<CoreAction> out;
  if (stack >= stacks_.size() || state_ != JobState::kRunning) return out;
  const StackState& st = stacks_[stack];
  if (st.node.empty()) return out;
  const uint64_t now = clock_->now();
  std::optional<uint32_t> first_skipped;
  for (uint32_t c = 0; c < st.cache_keys.size(); ++c) {  // before the releases, as first sent
    out.push_back(CacheQueryAction{{stack, c}, st.attempt, false, &st.cache_keys[c]});
  }
  for (uint32_t c = 0; c < job_->stacks[stack].cards.size(); ++c) {
    const CardRef to{stack, c};
    if (record(to).state == CardState::kSkipped && !first_skipped) first_skipped = c;
    for (CardRef from : CrossStackDependencies(*job_, to)) {
      const CardRecord& r = record(from);
      if (r.state == CardState::kSucceeded) {
        out.push_back(ReleaseMsg{from, to, st.attempt, r.finish_vc, r.out().outputs, now});
      }
    }
  }
  // The last event taken was a failed try's finish, and the card waits to run again.
  const uint32_t card = static_cast<uint32_t>(st.progress >> 32);
  const uint32_t try_no = static_cast<uint32_t>(st.progress & 0xffffffff) >> 1;
  if ((st.progress & 1) && card < job_->stacks[stack].cards.size() &&
      record({stack, card}).state == CardState::kPending) {
    out.push_back(RetryMsg{{stack, card}, st.attempt, try_no + 1, Duration(0), now});
  }
  if (first_skipped) {
    out.push_back(SkipMsg{stack, st.attempt, *first_skipped,
                          record({stack, *first_skipped}).out().error, now});
  }
  return out;
}

void SchedulerCore::Cancel(const std::string& reason) {
  if (state_ != JobState::kRunning) return;
  for (uint32_t s = 0; s < stacks_.size(); ++s) {
    if (job_->stacks[s].is_template()) continue;
    bool any = false;
    for (uint32_t c = 0; c < job_->stacks[s].cards.size(); ++c) {
      CardRecord& rec = records_[index({s, c})];
      if (rec.state != CardState::kPending && rec.state != CardState::kRunning) continue;
      rec.mutable_out().error = reason;
      SetTerminal({s, c}, CardState::kSkipped);
      any = true;
    }
    if (any && !stacks_[s].node.empty()) {
      Emit(SkipMsg{s, stacks_[s].attempt, 0, reason, clock_->Tick()});
    }
  }
  state_ = JobState::kCancelled;
  reason_ = reason;
  trace_.Add(Stamp(EventKind::kJobFinished, {}, 0, clock_->Tick(), self_node_));
  Emit(JobFinishedAction{state_, reason_});
}

void SchedulerCore::MaybePlaceCombine() {
  if (!job_->has_combine() || combine_placed_) return;
  if (user_stacks_done_ < user_stacks_ || open_fanouts_ > 0) return;
  combine_placed_ = true;
  const uint32_t s = job_->combine_stack();
  Emit(PlaceStackAction{s, stacks_[s].attempt});
}

void SchedulerCore::MaybeFinish() {
  if (state_ != JobState::kRunning || terminal_ < total_ || open_fanouts_ > 0) return;
  state_ = reason_.empty() ? JobState::kSucceeded : JobState::kFailed;
  TraceEvent e = Stamp(EventKind::kJobFinished, {}, 0, clock_->Tick(), self_node_);
  // One entry list sorted once: merging stack by stack would be quadratic on 100,000 stacks.
  std::vector<VectorClock::Entry> entries;
  for (const auto& st : stacks_) {
    entries.insert(entries.end(), st.known.entries().begin(), st.known.entries().end());
  }
  e.vc = VectorClock(std::move(entries));
  e.detail = trace_.Detail(reason_);
  trace_.Add(std::move(e));
  Emit(JobFinishedAction{state_, reason_});
}

}  // namespace hollerith
