#include "coordinator/coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

#include "common/core/result_document.h"
#include "common/trace/chrome_trace.h"
#include "proto/wire.h"

namespace hollerith::coordinator {
namespace {

constexpr size_t kResultJsonCardLimit = 200000;
// A worker applies one message in one turn of its loop: keep each turn short enough that its
// heartbeats keep flowing while a 100,000-stack job is being handed out.
constexpr int kItemsPerWorkerMessage = 1024;

bool WorkerMessageFull(const v1::CoordinatorMessage& m) {
  return m.assignments_size() + m.releases_size() + m.retries_size() + m.skips_size() >=
         kItemsPerWorkerMessage;
}
constexpr size_t kLogChunk = 1 << 20;

v1::JobEvent ToJobEvent(const JobSpec& spec, const Trace& trace, const TraceEvent& e) {
  v1::JobEvent ev;
  ev.set_lamport(e.lamport);
  ev.set_kind(EventKindName(e.kind));
  const bool card_level = e.kind != EventKind::kJobSubmitted && e.kind != EventKind::kJobFinished;
  const bool has_card =
      card_level && e.kind != EventKind::kStackPlaced && e.kind != EventKind::kStackLost;
  if (card_level) ev.set_stack(StackDisplayName(spec, e.card.stack));
  if (has_card) ev.set_card(spec.card_name(e.card));
  ev.set_node(trace.nodes()[e.node]);
  ev.set_attempt(e.attempt);
  ev.set_exit_code(e.exit_code);
  ev.set_detail(trace.detail(e));
  ev.set_wall_us(e.wall_us);
  return ev;
}

}  // namespace

void Coordinator::AddEvent(JobEventOutbox& outbox, v1::JobEvent ev) {
  constexpr int kEventsPerMessage = static_cast<int>(kEventsPerBatch);
  outbox.Batch(
      [&](v1::JobEventBatch& batch) {
        *batch.add_events() = std::move(ev);
        batch.set_lamport(clock_.now());
      },
      [](const v1::JobEventBatch& batch) { return batch.events_size() >= kEventsPerMessage; });
}

Coordinator::Coordinator(asio::io_context& loop, CoordinatorConfig config, JobStore& store)
    : loop_(loop), config_(config), store_(store), lease_timer_(loop), publish_timer_(loop) {}

namespace {
thread_local bool owns_state = false;
}  // namespace

Coordinator::Owner::Owner(Coordinator& c) : lock_(c.state_mu_) { owns_state = true; }
Coordinator::Owner::~Owner() { owns_state = false; }

bool Coordinator::TryRunHere(const std::function<void()>& f) {
  if (owns_state) return false;
  std::unique_lock<std::mutex> lock(state_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  owns_state = true;
  f();
  owns_state = false;
  return true;
}

void Coordinator::Start() {
  Owner owner(*this);
  CheckLeases();
}

void Coordinator::CheckLeases() {
  const auto now = std::chrono::steady_clock::now();
  const auto lease = config_.heartbeat * config_.missed_heartbeats;
  std::vector<std::shared_ptr<WorkerLink>> expired;
  for (const auto& [name, w] : workers_) {
    if (now - w->last_seen > lease) expired.push_back(w);
  }
  for (auto& w : expired) {
    spdlog::warn("worker {} missed its lease ({} ms without a message)", w->name,
                 std::chrono::duration_cast<std::chrono::milliseconds>(lease).count());
    w->outbox->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "lease expired"));
    WorkerGone(w, "lease expired");
  }
  lease_timer_.expires_after(config_.heartbeat);
  lease_timer_.async_wait([this](const std::error_code& ec) {
    if (ec) return;
    Owner owner(*this);
    CheckLeases();
  });
}

Coordinator::Job* Coordinator::Resolve(const std::string& job_or_name, grpc::Status* error) {
  if (auto it = jobs_.find(job_or_name); it != jobs_.end()) return it->second.get();
  std::vector<Job*> named;
  for (auto& [id, job] : jobs_) {
    if (job->core->job().name == job_or_name) named.push_back(job.get());
  }
  if (named.size() == 1) return named.front();
  if (named.empty()) {
    *error = grpc::Status(grpc::StatusCode::NOT_FOUND, "no job '" + job_or_name + "'");
  } else {
    std::string ids;
    for (Job* j : named) ids += (ids.empty() ? "" : ", ") + j->id;
    *error = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "job name '" + job_or_name + "' is ambiguous; use an id: " + ids);
  }
  return nullptr;
}

grpc::Status Coordinator::Submit(std::shared_ptr<const JobSpec> spec,
                                 const v1::SubmitJobRequest& req, v1::SubmitJobResponse* resp) {
  clock_.Receive(req.lamport());
  if (!req.idempotency_key().empty()) {
    if (auto it = by_key_.find(req.idempotency_key()); it != by_key_.end()) {
      resp->set_job_id(it->second);
      resp->set_name(jobs_.at(it->second)->core->job().name);
      resp->set_existing(true);
      resp->set_lamport(clock_.Tick());
      return grpc::Status::OK;
    }
  }
  auto job = std::make_unique<Job>();
  job->id = spec->name + "-" + std::to_string(next_job_++);
  job->key = req.idempotency_key();
  job->submitted_wall_us = WallMicros();
  store_.JobAccepted({job->id, job->key, req.spec_name(), req.spec(), "running"});
  job->core = std::make_unique<SchedulerCore>(spec, clock_, "coordinator", config_.retry);
  Job& ref = *job;
  if (!job->key.empty()) by_key_[job->key] = job->id;
  jobs_[job->id] = std::move(job);
  spdlog::info("job {} accepted: {} stacks, {} cards", ref.id, spec->stacks.size(),
               spec->card_count());
  ref.core->Start();
  Drain(ref);
  resp->set_job_id(ref.id);
  resp->set_name(spec->name);
  resp->set_lamport(clock_.Tick());
  return grpc::Status::OK;
}

WorkerLink* Coordinator::WorkerHolding(Job& job, uint32_t stack) {
  const std::string& node = job.core->node_of(stack);
  if (node.empty()) return nullptr;
  auto it = workers_.find(node);
  return it == workers_.end() || it->second->gone ? nullptr : it->second.get();
}

bool Coordinator::TryPlace(Job& job, uint32_t stack, uint32_t attempt) {
  if (job.core->state() != JobState::kRunning || job.core->attempt(stack) != attempt) return true;
  std::vector<WorkerView> views;
  std::vector<WorkerLink*> links;
  for (auto& [name, w] : workers_) {
    views.push_back({w->name, w->labels, w->stacks.size(), w->draining});
    links.push_back(w.get());
  }
  PlacementChoice choice = ChooseWorker(job.core->job().stacks[stack], views);
  if (choice.worker < 0) {
    job.waiting[stack] = choice.waiting;
    return false;
  }
  job.waiting.erase(stack);
  WorkerLink* w = links[choice.worker];
  w->stacks.insert({job.id, stack});
  job.core->StackPlaced(stack, attempt, w->name);
  return true;
}

void Coordinator::RetryPending() {
  std::deque<PendingPlacement> still;
  std::set<Job*> touched;
  for (const auto& p : pending_) {
    auto it = jobs_.find(p.job);
    if (it == jobs_.end()) continue;
    if (!TryPlace(*it->second, p.stack, p.attempt)) {
      still.push_back(p);
    } else {
      touched.insert(it->second.get());
    }
  }
  pending_ = std::move(still);
  for (Job* j : touched) Drain(*j);
}

void Coordinator::Drain(Job& job) {
  const JobSpec& spec = job.core->job();
  for (auto actions = job.core->TakeActions(); !actions.empty();
       actions = job.core->TakeActions()) {
    for (auto& action : actions) {
      if (auto* place = std::get_if<PlaceStackAction>(&action)) {
        if (!TryPlace(job, place->stack, place->attempt)) {
          pending_.push_back({job.id, place->stack, place->attempt});
        }
      } else if (auto* a = std::get_if<AssignStackMsg>(&action)) {
        if (WorkerLink* w = WorkerHolding(job, a->stack)) {
          spdlog::debug("job {}: assign stack {} (attempt {}) to {}", job.id, a->stack, a->attempt,
                        w->name);
          w->outbox->Batch(
              [&](v1::CoordinatorMessage& m) {
                wire::ToProto(job.id, *a, spec.stacks[a->stack], m.add_assignments());
                m.set_lamport(clock_.now());
              },
              WorkerMessageFull);
        }
      } else if (auto* r = std::get_if<ReleaseMsg>(&action)) {
        if (WorkerLink* w = WorkerHolding(job, r->to.stack)) {
          spdlog::debug("job {}: release {}.{} -> {}.{} to {}", job.id, r->from.stack, r->from.card,
                        r->to.stack, r->to.card, w->name);
          w->outbox->Batch(
              [&](v1::CoordinatorMessage& m) {
                wire::ToProto(job.id, *r, m.add_releases());
                m.set_lamport(clock_.now());
              },
              WorkerMessageFull);
        }
      } else if (auto* t = std::get_if<RetryMsg>(&action)) {
        if (WorkerLink* w = WorkerHolding(job, t->card.stack)) {
          w->outbox->Batch(
              [&](v1::CoordinatorMessage& m) {
                wire::ToProto(job.id, *t, m.add_retries());
                m.set_lamport(clock_.now());
              },
              WorkerMessageFull);
        }
      } else if (auto* s = std::get_if<SkipMsg>(&action)) {
        if (WorkerLink* w = WorkerHolding(job, s->stack)) {
          w->outbox->Batch(
              [&](v1::CoordinatorMessage& m) {
                wire::ToProto(job.id, *s, m.add_skips());
                m.set_lamport(clock_.now());
              },
              WorkerMessageFull);
        }
      } else if (auto* f = std::get_if<JobFinishedAction>(&action)) {
        store_.JobStateChanged(job.id, JobStateName(f->state));
        spdlog::info("job {} {}{}{}", job.id, JobStateName(f->state), f->reason.empty() ? "" : ": ",
                     f->reason);
      }
    }
  }
  SchedulePublish(job);
}

void Coordinator::SchedulePublish(Job& job) {
  if (job.core->state() != JobState::kRunning) {
    Publish(job);
    return;
  }
  MarkPublishDue(job);
}

void Coordinator::MarkPublishDue(Job& job) {
  if (!job.publish_due) {
    job.publish_due = true;
    publish_due_.push_back(job.id);
  }
  if (publish_armed_) return;
  publish_armed_ = true;
  publish_timer_.expires_after(kPublishLinger);
  publish_timer_.async_wait([this](const std::error_code& ec) {
    if (ec) return;
    Owner owner(*this);
    publish_armed_ = false;
    PublishDue();
  });
}

void Coordinator::PublishDue() {
  for (const std::string& id : std::exchange(publish_due_, {})) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || !it->second->publish_due) continue;
    it->second->publish_due = false;
    Publish(*it->second);
  }
}

void Coordinator::StackStatusOf(const Job& job, uint32_t s, v1::StackStatus* out) const {
  const SchedulerCore& core = *job.core;
  const StackSpec& stack = core.job().stacks[s];
  v1::StackStatus& st = *out;
  st.set_name(stack.is_combine ? std::string(kCombineName) : stack.id);
  const auto& counts = core.counts(s);
  const uint32_t done = static_cast<uint32_t>(counts.succeeded);
  const bool failed = counts.failed > 0, running = counts.running > 0, skipped = counts.skipped > 0;
  st.set_done(done);
  st.set_total(static_cast<uint32_t>(stack.cards.size()));
  st.set_node(core.node_of(s));
  auto waiting = job.waiting.find(s);
  if (waiting != job.waiting.end()) st.set_waiting(waiting->second);
  st.set_state(failed                         ? "failed"
               : done == stack.cards.size()   ? "done"
               : skipped                      ? "skipped"
               : running                      ? "running"
               : waiting != job.waiting.end() ? "unplaced"
                                              : "waiting");
}

void Coordinator::FillStatus(const Job& job, bool with_details, v1::JobStatus* out) const {
  const SchedulerCore& core = *job.core;
  const JobSpec& spec = core.job();
  out->set_job_id(job.id);
  out->set_name(spec.name);
  out->set_state(JobStateName(core.state()));
  out->set_reason(core.reason());
  out->set_submitted_wall_us(job.submitted_wall_us);
  uint32_t done = 0;
  for (uint32_t s = 0; s < spec.stacks.size(); ++s) done += core.finished_cards(s);
  out->set_cards_done(done);
  out->set_cards_total(static_cast<uint32_t>(spec.card_count()));
  if (!with_details) return;
  for (uint32_t s = 0; s < spec.stacks.size(); ++s) StackStatusOf(job, s, out->add_stacks());
  if (spec.card_count() <= kResultJsonCardLimit) {
    nlohmann::json doc = ResultDocument(core);
    doc["job_id"] = job.id;
    out->set_result_json(doc.dump());
  }
}

grpc::Status Coordinator::GetJob(const std::string& name, v1::JobStatus* out) {
  grpc::Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  FillStatus(*job, true, out);
  return grpc::Status::OK;
}

grpc::Status Coordinator::Cancel(const std::string& name, v1::CancelJobResponse* resp) {
  grpc::Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  job->core->Cancel("cancelled by user");
  Drain(*job);
  resp->set_state(JobStateName(job->core->state()));
  resp->set_lamport(clock_.Tick());
  return grpc::Status::OK;
}

void Coordinator::ListJobs(v1::ListJobsResponse* resp) {
  for (const auto& [id, job] : jobs_) FillStatus(*job, false, resp->add_jobs());
  resp->set_lamport(clock_.Tick());
}

void Coordinator::ListWorkers(v1::ListWorkersResponse* resp) {
  for (const auto& [name, w] : workers_) {
    auto* info = resp->add_workers();
    info->set_name(w->name);
    for (const auto& [k, v] : w->labels) {
      auto* kv = info->add_labels();
      kv->set_key(k);
      kv->set_value(v);
    }
    info->set_slots(w->slots);
    info->set_stacks(static_cast<uint32_t>(w->stacks.size()));
    info->set_epoch(w->epoch);
    info->set_version(w->version);
    info->set_peer(w->peer);
  }
  resp->set_lamport(clock_.Tick());
}

grpc::Status Coordinator::Watch(const std::string& name, uint64_t from_lamport,
                                std::shared_ptr<JobEventOutbox> outbox) {
  grpc::Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  job->watchers.push_back({std::move(outbox), 0, from_lamport});
  Publish(*job);  // the history now (paced by the stream), the rest as it happens
  return grpc::Status::OK;
}

std::vector<v1::JobEvent> Coordinator::WatchEvents(const Job& job, size_t begin, size_t end,
                                                   uint64_t after_lamport) const {
  const auto& events = job.core->trace().events();
  const std::string job_state = JobStateName(job.core->state());
  std::vector<v1::JobEvent> out;
  out.reserve(end - begin);
  // A status is the stack's progress now, so only each stack's last event here carries one.
  std::vector<bool> has_status(job.core->job().stacks.size(), false);
  std::vector<size_t> status_on;  // indexes into `out`
  for (size_t i = end; i-- > begin;) {
    const TraceEvent& e = events[i];
    if (e.kind == EventKind::kJobSubmitted || e.kind == EventKind::kJobFinished) continue;
    if (e.lamport <= after_lamport || has_status[e.card.stack]) continue;
    has_status[e.card.stack] = true;
    status_on.push_back(i);
  }
  std::sort(status_on.begin(), status_on.end());
  auto next_status = status_on.begin();
  for (size_t i = begin; i < end; ++i) {
    if (events[i].lamport <= after_lamport) continue;
    v1::JobEvent& ev = out.emplace_back(ToJobEvent(job.core->job(), job.core->trace(), events[i]));
    if (next_status != status_on.end() && *next_status == i) {
      StackStatusOf(job, events[i].card.stack, ev.mutable_stack_status());
      ++next_status;
    }
    ev.set_job_state(job_state);
  }
  return out;
}

bool Coordinator::Feed(const Job& job, Watcher& w) {
  const size_t end = job.core->trace().events().size();
  while (w.next < end && w.outbox->queued() < kWatcherQueuedBatches) {
    const size_t stop = std::min(end, w.next + kEventsPerBatch);
    for (v1::JobEvent& ev : WatchEvents(job, w.next, stop, w.after_lamport)) {
      AddEvent(*w.outbox, std::move(ev));
    }
    w.next = stop;
  }
  return w.next >= end;
}

void Coordinator::Publish(Job& job) {
  std::erase_if(job.watchers, [](const Watcher& w) { return !w.outbox->attached(); });
  bool lagging = false;
  for (Watcher& w : job.watchers) lagging |= !Feed(job, w);
  if (!job.log_waiters.empty()) {
    std::vector<LogWaiter> still;
    for (auto& waiter : job.log_waiters) {
      const CardRecord& rec = job.core->record(waiter.card);
      if (rec.state == CardState::kPending || rec.state == CardState::kRunning) {
        still.push_back(std::move(waiter));
        continue;
      }
      SendLog(rec, *waiter.outbox);
    }
    job.log_waiters = std::move(still);
  }
  if (job.core->state() != JobState::kRunning) {
    // A stream ends once it has had every event; a lagging one is fed on by the timer.
    std::erase_if(job.watchers, [&](Watcher& w) {
      if (w.next < job.core->trace().events().size()) return false;
      w.outbox->Close(grpc::Status::OK);
      return true;
    });
    for (auto& waiter : job.log_waiters) {
      SendLog(job.core->record(waiter.card), *waiter.outbox);
    }
    job.log_waiters.clear();
  }
  if (lagging) MarkPublishDue(job);
}

void Coordinator::SendLog(const CardRecord& rec, LogOutbox& outbox) {
  auto send = [&](const std::string& stream, const std::string& text) {
    for (size_t off = 0; off < text.size(); off += kLogChunk) {
      v1::LogChunk chunk;
      chunk.set_stream(stream);
      chunk.set_data(text.substr(off, kLogChunk));
      chunk.set_lamport(clock_.now());
      outbox.Push(std::move(chunk));
    }
  };
  send("stdout", rec.out().stdout_text);
  send("stderr", rec.out().stderr_text);
  outbox.Close(grpc::Status::OK);
}

grpc::Status Coordinator::ReadLog(const v1::ReadLogRequest& req,
                                  std::shared_ptr<LogOutbox> outbox) {
  clock_.Receive(req.lamport());
  grpc::Status error;
  Job* job = Resolve(req.job(), &error);
  if (!job) return error;
  const JobSpec& spec = job->core->job();
  std::optional<CardRef> card;
  for (uint32_t s = 0; s < spec.stacks.size() && !card; ++s) {
    for (uint32_t c = 0; c < spec.stacks[s].cards.size(); ++c) {
      if (spec.card_name({s, c}) == req.card()) {
        card = CardRef{s, c};
        break;
      }
    }
  }
  if (!card) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "job " + job->id + " has no card '" +
                                                         req.card() + "' (expected STACK.CARD)");
  }
  const CardRecord& rec = job->core->record(*card);
  const bool finished = rec.state != CardState::kPending && rec.state != CardState::kRunning;
  if (finished) {
    SendLog(rec, *outbox);
  } else if (req.follow()) {
    job->log_waiters.push_back({*card, std::move(outbox)});
  } else {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "card " + req.card() + " has not finished yet (use -f to wait for it)");
  }
  return grpc::Status::OK;
}

grpc::Status Coordinator::RenderTrace(const std::string& name, std::string* json) {
  grpc::Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  std::ostringstream out;
  WriteChromeTrace(job->core->job(), job->core->trace(), out);
  *json = out.str();
  return grpc::Status::OK;
}

std::shared_ptr<WorkerLink> Coordinator::WorkerHello(
    const v1::Hello& hello, const std::string& peer,
    std::shared_ptr<Outbox<v1::CoordinatorMessage>> outbox) {
  if (auto it = workers_.find(hello.name()); it != workers_.end()) {
    auto old = it->second;
    old->outbox->Close(grpc::Status(grpc::StatusCode::ABORTED, "replaced by a new connection"));
    WorkerGone(old, "replaced by a new connection of the same worker");
  }
  auto w = std::make_shared<WorkerLink>();
  w->name = hello.name();
  for (const auto& kv : hello.labels()) w->labels.emplace_back(kv.key(), kv.value());
  w->slots = hello.slots();
  w->version = hello.version();
  w->peer = peer;
  w->epoch = next_epoch_++;
  w->last_seen = std::chrono::steady_clock::now();
  w->outbox = std::move(outbox);
  workers_[w->name] = w;
  spdlog::info("worker {} connected from {} (epoch {}, {} slots)", w->name, peer, w->epoch,
               w->slots);
  v1::CoordinatorMessage welcome;
  welcome.mutable_welcome()->set_epoch(w->epoch);
  welcome.mutable_welcome()->set_heartbeat_ms(static_cast<uint32_t>(config_.heartbeat.count()));
  welcome.set_lamport(clock_.Tick());
  w->outbox->Push(std::move(welcome));
  RetryPending();
  return w;
}

void Coordinator::WorkerMessage(const std::shared_ptr<WorkerLink>& w,
                                const v1::WorkerMessage& msg) {
  if (w->gone || msg.epoch() != w->epoch) return;  // a stale epoch: dropped
  clock_.Receive(msg.lamport());
  w->last_seen = std::chrono::steady_clock::now();
  std::set<Job*> touched;
  auto job_of = [&](const std::string& id, uint32_t stack) -> Job* {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return nullptr;
    Job* job = it->second.get();
    // Fencing: only the worker holding the stack may report for it.
    if (stack >= job->core->job().stacks.size() || job->core->node_of(stack) != w->name) {
      return nullptr;
    }
    return job;
  };
  // A batch holds events of many cards; apply them in the order they happened (Lamport order),
  // so the trace and watchers see finish(k) before start(k+1).
  std::vector<std::pair<uint64_t, int>> order;  // (lamport, index: >= 0 started, < 0 finished)
  order.reserve(msg.started_size() + msg.finished_size());
  for (int i = 0; i < msg.started_size(); ++i) order.emplace_back(msg.started(i).lamport(), i);
  for (int i = 0; i < msg.finished_size(); ++i)
    order.emplace_back(msg.finished(i).lamport(), -1 - i);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [lamport, i] : order) {
    if (i >= 0) {
      const auto& s = msg.started(i);
      if (Job* job = job_of(s.job_id(), s.card().stack())) {
        if (job->core->CardStarted(wire::FromProto(s, w->name))) touched.insert(job);
      }
    } else {
      const auto& f = msg.finished(-1 - i);
      if (Job* job = job_of(f.job_id(), f.card().stack())) {
        if (job->core->CardFinished(wire::FromProto(f, w->name))) touched.insert(job);
      }
    }
  }
  for (const auto& e : msg.ended()) w->stacks.erase({e.job_id(), e.stack()});
  for (Job* job : touched) Drain(*job);
}

void Coordinator::WorkerGone(const std::shared_ptr<WorkerLink>& w, const std::string& why) {
  if (w->gone) return;
  w->gone = true;
  if (auto it = workers_.find(w->name); it != workers_.end() && it->second == w) workers_.erase(it);
  spdlog::info("worker {} (epoch {}) gone: {}; {} stacks to re-place", w->name, w->epoch, why,
               w->stacks.size());
  std::set<Job*> touched;
  for (const auto& [job_id, stack] : w->stacks) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) continue;
    it->second->core->StackLost(stack, "worker " + w->name + " " + why);
    touched.insert(it->second.get());
  }
  w->stacks.clear();
  for (Job* job : touched) Drain(*job);
}

}  // namespace hollerith::coordinator
