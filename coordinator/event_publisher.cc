#include "coordinator/event_publisher.h"

#include <algorithm>

namespace hollerith::coordinator {
namespace {

void FillJobEvent(const JobSpec& spec, const Trace& trace, const TraceEvent& e, v1::JobEvent& ev) {
  ev.set_lamport(e.lamport);
  ev.set_kind(EventKindName(e.kind));
  const bool card_level = e.kind != EventKind::kJobSubmitted && e.kind != EventKind::kJobFinished;
  const bool has_card = card_level && e.kind != EventKind::kStackPlaced &&
                        e.kind != EventKind::kStackLost && e.kind != EventKind::kFanOut;
  if (card_level) ev.set_stack(StackDisplayName(spec, e.card.stack));
  if (has_card) ev.set_card(spec.card_name(e.card));
  ev.set_node(trace.nodes()[e.node]);
  ev.set_attempt(e.attempt);
  ev.set_exit_code(e.exit_code);
  if (e.kind == EventKind::kFanOut && e.exit_code == 0) {
    // The detail is the whole list (up to kMaxFanOutBytes, for the trace): say what it made.
    const FanOutSpec& fanout = *spec.stacks[e.card.stack].fanout;
    ev.set_detail("made " + std::to_string(fanout.count) + " stacks from " +
                  spec.card_name(fanout.source) + ":" + fanout.path);
  } else {
    ev.set_detail(trace.detail(e));
  }
  ev.set_wall_us(e.wall_us);
}

}  // namespace

EventPublisher::EventPublisher(std::unique_ptr<Timer> linger, const LamportClock& clock)
    : linger_(std::move(linger)), clock_(clock) {}

void EventPublisher::Watch(const Job& job, uint64_t from_lamport,
                           std::shared_ptr<JobEventOutbox> outbox) {
  Watched& w = watched_[job.id];
  w.job = &job;
  w.watchers.push_back({std::move(outbox), 0, from_lamport});
  Publish(w);
}

size_t EventPublisher::watchers(const std::string& job_id) const {
  auto it = watched_.find(job_id);
  return it == watched_.end() ? 0 : it->second.watchers.size();
}

void EventPublisher::Forget(const std::string& job_id) {
  auto it = watched_.find(job_id);
  if (it == watched_.end()) return;
  for (Watcher& w : it->second.watchers)
    w.outbox->Close(Status::NotFound("job " + job_id + " was removed"));
  watched_.erase(it);
  std::erase(due_, job_id);
}

void EventPublisher::JobChanged(const Job& job) {
  auto it = watched_.find(job.id);
  if (it == watched_.end()) return;
  if (job.core->state() != JobState::kRunning) {
    Publish(it->second);
  } else {
    MarkDue(it->second);
  }
}

void EventPublisher::MarkDue(Watched& w) {
  if (!w.due) {
    w.due = true;
    due_.push_back(w.job->id);
  }
  if (armed_) return;
  armed_ = true;
  linger_->Arm(kPublishLinger, [this] {
    armed_ = false;
    PublishDue();
  });
}

void EventPublisher::PublishDue() {
  for (const std::string& id : std::exchange(due_, {})) {
    auto it = watched_.find(id);
    if (it == watched_.end() || !it->second.due) continue;
    it->second.due = false;
    Publish(it->second);
  }
}

void EventPublisher::Publish(Watched& w) {
  const Job& job = *w.job;
  std::erase_if(w.watchers, [](const Watcher& x) { return !x.outbox->attached(); });
  bool lagging = false;
  for (Watcher& x : w.watchers) lagging |= !Feed(job, x);
  if (job.core->state() != JobState::kRunning) {
    // A stream ends once it has had every event; a lagging one is fed on by the timer.
    std::erase_if(w.watchers, [&](Watcher& x) {
      if (x.next < job.core->trace().events().size()) return false;
      x.outbox->Close(Status::Ok());
      return true;
    });
  }
  if (lagging) {
    MarkDue(w);
  } else if (w.watchers.empty() && !w.due) {
    watched_.erase(job.id);  // `w` is gone
  }
}

bool EventPublisher::Feed(const Job& job, Watcher& w) {
  const size_t end = job.core->trace().events().size();
  while (w.next < end && w.outbox->queued() < kWatcherQueuedBatches) {
    const size_t stop = std::min(end, w.next + kEventsPerBatch);
    const auto& events = job.core->trace().events();
    const bool any = std::any_of(events.begin() + w.next, events.begin() + stop,
                                 [&](const TraceEvent& e) { return e.lamport > w.after_lamport; });
    if (!any) {  // all before the resume point: no batch (an empty one means "submitted")
      w.next = stop;
      continue;
    }
    if (stop - w.next >= kEventsBuiltApart) {  // a full batch: built apart, then queued
      rpc::ArenaMessage<v1::JobEventBatch> batch;
      AppendWatchEvents(job, w.next, stop, w.after_lamport, *batch->mutable_events());
      batch->set_lamport(clock_.now());
      w.outbox->Push(std::move(batch));
      w.next = stop;
      continue;
    }
    // Into the newest queued batch while it has room for these, else a new one.
    w.outbox->Batch(
        [&](v1::JobEventBatch& batch) {
          AppendWatchEvents(job, w.next, stop, w.after_lamport, *batch.mutable_events());
          batch.set_lamport(clock_.now());
        },
        [&](const v1::JobEventBatch& batch) {
          return static_cast<size_t>(batch.events_size()) + (stop - w.next) > kEventsPerBatch;
        });
    w.next = stop;
  }
  return w.next >= end;
}

void EventPublisher::AppendWatchEvents(
    const Job& job, size_t begin, size_t end, uint64_t after_lamport,
    google::protobuf::RepeatedPtrField<v1::JobEvent>& out) const {
  const auto& events = job.core->trace().events();
  const std::string job_state = JobStateName(job.core->state());
  out.Reserve(out.size() + static_cast<int>(end - begin));
  // A status is the stack's progress now, so only each stack's last event here carries one.
  std::vector<bool> has_status(job.core->job().stacks.size(), false);
  std::vector<size_t> status_on;  // indexes into `out`
  for (size_t i = end; i-- > begin;) {
    const TraceEvent& e = events[i];
    if (e.kind == EventKind::kJobSubmitted || e.kind == EventKind::kJobFinished ||
        e.kind == EventKind::kFanOut) {
      continue;  // no stack's progress: a template's is its instances'
    }
    if (e.lamport <= after_lamport || has_status[e.card.stack]) continue;
    has_status[e.card.stack] = true;
    status_on.push_back(i);
  }
  std::sort(status_on.begin(), status_on.end());
  auto next_status = status_on.begin();
  for (size_t i = begin; i < end; ++i) {
    if (events[i].lamport <= after_lamport) continue;
    v1::JobEvent& ev = *out.Add();
    FillJobEvent(job.core->job(), job.core->trace(), events[i], ev);
    if (next_status != status_on.end() && *next_status == i) {
      FillStackStatus(job, events[i].card.stack, ev.mutable_stack_status());
      ++next_status;
    }
    ev.set_job_state(job_state);
  }
}

}  // namespace hollerith::coordinator
