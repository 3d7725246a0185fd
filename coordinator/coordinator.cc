#include "coordinator/coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <sstream>

#include "common/base/check.h"
#include "common/base/version.h"
#include "common/log/log.h"
#include "common/spec/fanout.h"
#include "common/trace/chrome_trace.h"
#include "coordinator/release_packing.h"
#include "proto/wire.h"

namespace hollerith::coordinator {
namespace {

// A worker applies one message in one turn of its loop: keep each turn short enough that its
// heartbeats keep flowing while a 100,000-stack job is being handed out.
constexpr int kItemsPerWorkerMessage = 1024;

bool WorkerMessageFull(const v1::CoordinatorMessage& m) {
  return m.assignments_size() + m.releases_size() + m.retries_size() + m.skips_size() >=
         kItemsPerWorkerMessage;
}

thread_local bool owns_state = false;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

Coordinator::Coordinator(asio::io_context& loop, TimerFactory& time, CoordinatorConfig config,
                         JobStore& store)
    : loop_(loop),
      time_(time),
      config_(config),
      store_(store),
      lease_timer_(OwnedTimer()),
      commit_timer_(OwnedTimer()),
      retention_timer_(OwnedTimer()),
      claim_timer_(OwnedTimer()),
      publisher_(OwnedTimer(), clock_),
      logs_(clock_, config_.log_dir, [this](Job& job, uint32_t stack, bool on) {
        SendToHolder(job, stack, [&](v1::CoordinatorMessage& m) {
          auto* w = m.add_output_watches();
          w->set_job_id(job.id);
          w->set_stack(stack);
          w->set_on(on);
        });
      }) {}

Coordinator::Owner::Owner(Coordinator& c) : lock_(c.state_mu_) { owns_state = true; }
Coordinator::Owner::~Owner() { owns_state = false; }

void Coordinator::CheckOwner() {
  HOLLERITH_CHECK(owns_state, "the coordinator's state was touched by a thread not owning it");
}

bool Coordinator::TryRunHere(const std::function<void()>& f) {
  if (owns_state) return false;
  std::unique_lock<std::mutex> lock(state_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  owns_state = true;
  f();
  owns_state = false;
  return true;
}

std::unique_ptr<Timer> Coordinator::OwnedTimer() {
  class Owned : public Timer {
   public:
    Owned(Coordinator& c, std::unique_ptr<Timer> inner) : c_(c), inner_(std::move(inner)) {}
    void Arm(std::chrono::nanoseconds after, std::function<void()> fire) override {
      inner_->Arm(after, [&c = c_, fire = std::move(fire)] {
        Owner owner(c);
        fire();
      });
    }
    void Cancel() override { inner_->Cancel(); }

   private:
    Coordinator& c_;
    std::unique_ptr<Timer> inner_;
  };
  return std::make_unique<Owned>(*this, time_.CreateTimer());
}

LamportClock& Coordinator::clock() {
  CheckOwner();
  return clock_;
}

void Coordinator::Flush() {
  Owner owner(*this);
  CommitNow(/*wait=*/true);
}

void Coordinator::RefreshMetrics() {
  if (!metrics_) return;
  Owner owner(*this);
  std::array<double, 4> jobs{};
  std::array<double, 5> cards{};
  for (const auto& [id, job] : jobs_) {
    ++jobs[static_cast<size_t>(job->core->state())];
    const JobSpec& spec = job->core->job();
    for (uint32_t s = 0; s < spec.stacks.size(); ++s) {
      for (uint32_t c = 0; c < spec.stacks[s].cards.size(); ++c) {
        ++cards[static_cast<size_t>(job->core->record({s, c}).state)];
      }
    }
  }
  for (size_t i = 0; i < jobs.size(); ++i) metrics_->jobs_by_state[i]->Set(jobs[i]);
  for (size_t i = 0; i < cards.size(); ++i) metrics_->cards_by_state[i]->Set(cards[i]);
  metrics_->workers_connected->Set(static_cast<double>(workers_.size()));
  RefreshTenantMetrics();
  RefreshCacheMetrics();
}

void Coordinator::CountCardEnd(Job& job, CardRef card) {
  if (!metrics_) return;
  const CardState state = job.core->record(card).state;
  if (state == CardState::kSucceeded || state == CardState::kFailed) {
    metrics_->cards_finished[static_cast<size_t>(state)]->Increment();
  }
}

void Coordinator::CountJobEnd(Job& job, JobState state) {
  if (!metrics_) return;
  if (auto* c = metrics_->jobs_finished[static_cast<size_t>(state)]) c->Increment();
  // Skipped cards never report: they are counted once their job is over.
  const JobSpec& spec = job.core->job();
  double skipped = 0;
  for (uint32_t s = 0; s < spec.stacks.size(); ++s) {
    for (uint32_t c = 0; c < spec.stacks[s].cards.size(); ++c) {
      if (job.core->record({s, c}).state == CardState::kSkipped) ++skipped;
    }
  }
  if (skipped > 0) {
    metrics_->cards_finished[static_cast<size_t>(CardState::kSkipped)]->Increment(skipped);
  }
}

void Coordinator::Start() {
  Owner owner(*this);
  CheckLeases();
  SweepRetention();
  if (!unclaimed_.empty()) {
    spdlog::info(
        "{} stacks were running before the restart; their workers have {} ms to claim "
        "them",
        unclaimed_.size(), claim_window().count());
    claim_timer_->Arm(claim_window(), [this] { ExpireClaims(); });
  } else {
    for (auto& [id, job] : jobs_) job->replayed_events = SIZE_MAX;  // nothing to claim
  }
}

void Coordinator::SweepRetention() {
  if (config_.retention.count() <= 0) return;
  const int64_t cutoff =
      time_.WallMicros() -
      std::chrono::duration_cast<std::chrono::microseconds>(config_.retention).count();
  std::vector<Job*> expired;
  for (auto& [id, job] : jobs_) {
    const auto& events = job->core->trace().events();
    if (job->core->state() != JobState::kRunning && !events.empty() &&
        events.back().wall_us < cutoff) {
      expired.push_back(job.get());
    }
  }
  for (Job* job : expired) {
    spdlog::info("job {} removed: finished more than {} h ago (--retention)", job->id,
                 std::chrono::duration_cast<std::chrono::hours>(config_.retention).count());
    Forget(*job);
  }
  // Often enough that nothing outlives its retention by more than a tenth of it (at most a hour).
  retention_timer_->Arm(
      std::min<std::chrono::milliseconds>(config_.retention / 10, std::chrono::hours(1)),
      [this] { SweepRetention(); });
}

void Coordinator::Forget(Job& job) {
  const std::string id = job.id;
  if (Status s = store_.Delete(id); !s.ok()) {
    spdlog::error("job {}: cannot remove it from the store: {}", id, s.message());
  }
  publisher_.Forget(id);
  logs_.Forget(id);
  if (!job.key.empty()) by_key_.erase(job.key);
  jobs_.erase(id);  // `job` is gone
}

Status Coordinator::Delete(const std::string& name, v1::DeleteJobResponse* resp) {
  CheckOwner();
  Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  if (job->core->state() == JobState::kRunning) {
    return Status::FailedPrecondition("job " + job->id +
                                      " is running; cancel it first (`hollerith cancel`)");
  }
  resp->set_job_id(job->id);
  Forget(*job);
  resp->set_lamport(clock_.Tick());
  return Status::Ok();
}

void Coordinator::CheckLeases() {
  const MonotonicTime now = time_.Now();
  const auto lease = config_.heartbeat * config_.missed_heartbeats;
  std::vector<std::shared_ptr<WorkerLink>> expired;
  for (const auto& [name, w] : workers_) {
    if (now - w->last_seen <= lease) continue;
    if (w->unapplied && w->unapplied->load(std::memory_order_acquire) > 0) continue;
    expired.push_back(w);
  }
  for (auto& w : expired) {
    spdlog::warn("worker {} missed its lease ({} ms without a message)", w->name,
                 std::chrono::duration_cast<std::chrono::milliseconds>(lease).count());
    w->outbox->Close(Status::Unavailable("lease expired"));
    if (metrics_) metrics_->leases_expired->Increment();
    WorkerGone(w, "lease expired");
  }
  lease_timer_->Arm(config_.heartbeat, [this] { CheckLeases(); });
}

bool Coordinator::Input(Job& job, v1::CoreInput input) {
  input.set_lamport_before(clock_.now());
  input.set_wall_us(time_.WallMicros());
  job.input_time.Set(input.wall_us());
  if (!ApplyInput(*job.core, input)) return false;  // dropped: nothing changed, nothing to keep
  store_.Append(job.id, std::move(input));
  ScheduleCommit();
  return true;
}

void Coordinator::ScheduleCommit() {
  if (commit_armed_) return;
  commit_armed_ = true;
  commit_timer_->Arm(kCommitLinger, [this] {
    commit_armed_ = false;
    CommitNow(/*wait=*/false);
  });
}

void Coordinator::FlushCache(bool now) {
  if (!cache_entries_ || !cache_entries_->has_pending()) return;
  const SteadyTime t = std::chrono::steady_clock::now();
  if (now || t - cache_flushed_ >= kCacheLinger) {
    cache_flushed_ = t;
    if (Status c = cache_entries_->Flush(); !c.ok()) spdlog::warn("result cache: {}", c.message());
    return;
  }
  if (cache_armed_) return;  // within kCacheLinger of the last commit: at its end
  cache_armed_ = true;
  cache_timer_->Arm(
      std::chrono::duration_cast<std::chrono::milliseconds>(kCacheLinger - (t - cache_flushed_)),
      [this] {
        cache_armed_ = false;
        FlushCache(/*now=*/true);
      });
}

void Coordinator::CommitNow(bool wait) {
  // The result cache's entries and uses are committed at a job's end (`wait`) and at most once
  // per kCacheLinger while jobs run: each commit rewrites the pages of its random keys, so
  // commits as frequent as the journal's would write them over and over. A lost one is only a
  // later miss.
  FlushCache(wait);
  Status s = wait ? store_.Sync(clock_.now()) : store_.Commit(clock_.now());
  if (s.ok()) {
    if (!store_error_.ok()) spdlog::info("the job store is writable again");
    store_error_ = Status::Ok();
    return;
  }
  if (store_error_.ok()) {
    spdlog::error("cannot commit to the job store: {}; new jobs are refused until it works",
                  s.message());
  }
  store_error_ = s;
  ScheduleCommit();  // what is pending stays pending: try again
}

void Coordinator::Recover(const RecoveredState& state, const SpecLimits& limits) {
  Owner owner(*this);
  size_t running = 0;
  for (const RecoveredJob& r : state.jobs) {
    auto parsed = ParseJobSpec(r.job.spec_text, r.job.spec_name, limits);
    if (!parsed.ok()) {
      spdlog::error("job {} in the store cannot be rebuilt: {}", r.job.job_id, parsed.message());
      continue;
    }
    auto spec = std::make_shared<const JobSpec>(std::move(parsed).value());
    auto job = std::make_unique<Job>();
    job->id = r.job.job_id;
    job->key = r.job.idempotency_key;
    job->submitted_wall_us = r.job.submitted_wall_us;
    job->tenant = r.job.tenant.empty() ? kDefaultTenant : r.job.tenant;
    job->placement = &placement_;
    if (!r.job.cache_mode.empty()) (void)ParseCacheMode(r.job.cache_mode, &job->cache_mode);
    // Replayed on a private clock set to what the live clock read before each input, so the
    // rebuilt trace is the one watchers saw; then the job joins the shared clock.
    LamportClock replay;
    job->core = std::make_unique<SchedulerCore>(spec, replay, job->input_time, "coordinator",
                                                config_.retry);
    for (const v1::CoreInput& in : r.inputs) {
      replay.Restore(in.lamport_before());
      job->input_time.Set(in.wall_us());
      ApplyInput(*job->core, in);
      job->core->TakeActions();  // what the live run did with them is done (or lost with it)
    }
    job->core->RebindClock(clock_);
    job->replayed_events = job->core->trace().events().size();
    clock_.AdvanceTo(replay.now());
    if (const size_t dash = job->id.rfind('-'); dash != std::string::npos) {
      const uint64_t n = std::strtoull(job->id.c_str() + dash + 1, nullptr, 10);
      next_job_ = std::max<uint64_t>(next_job_, n + 1);
    }
    if (!job->key.empty()) by_key_[job->key] = job->id;
    running += job->core->state() == JobState::kRunning;
    jobs_[job->id] = std::move(job);
  }
  // What was committed last is not the highest time this clock gave out: messages and events
  // after that commit carried later times, and whoever received them holds them. Resuming a gap
  // above it never reuses one (the clock would have to tick 2^32 times between two commits). The
  // point resumed from (1 on a new store, which marks it as started) is committed before anything
  // is given out, so that a crash before the next commit resumes above it in turn.
  if (state.lamport_high > 0 || !state.jobs.empty()) {
    clock_.AdvanceTo(state.lamport_high + kLamportRestartGap);
  }
  if (Status s = store_.Sync(std::max<uint64_t>(clock_.now(), 1)); !s.ok()) {
    spdlog::warn("cannot record the Lamport clock's restart point: {}", s.message());
  }
  std::set<std::string> kept;
  for (const auto& [id, job] : jobs_) kept.insert(id);
  logs_.RemoveOthers(kept);  // output of jobs the store does not have (e.g. --store memory)
  // Running jobs go on: the stacks placed before the restart wait for their workers to claim
  // them (reconcile.cc); until then nobody holds them here.
  for (auto& [id, job] : jobs_) {
    if (job->core->state() != JobState::kRunning) continue;
    if (job->core->trace().events().empty()) {
      Input(*job, StartInput());  // asks for every placement
    } else {
      job->core->AskForPlacements();  // stacks the old coordinator had yet to (re-)place
    }
    job->core->AskForPendingLists();  // lists the old coordinator read and lost uncommitted
    const JobSpec& spec = job->core->job();
    for (uint32_t s = 0; s < spec.stacks.size(); ++s) {
      if (!job->core->node_of(s).empty() &&
          job->core->finished_cards(s) < spec.stacks[s].cards.size()) {
        unclaimed_.insert({id, s});
      }
    }
    ApplyCoreActions(*job);
  }
  if (!state.jobs.empty()) {
    spdlog::info("recovered {} jobs from the store ({} running); Lamport clock at {}",
                 state.jobs.size(), running, clock_.now());
  }
}

Job* Coordinator::Resolve(const std::string& job_or_name, Status* error) {
  if (auto it = jobs_.find(job_or_name); it != jobs_.end()) return it->second.get();
  std::vector<Job*> named;
  for (auto& [id, job] : jobs_) {
    if (job->core->job().name == job_or_name) named.push_back(job.get());
  }
  if (named.size() == 1) return named.front();
  if (named.empty()) {
    *error = Status::NotFound("no job '" + job_or_name + "'");
  } else {
    std::string ids;
    for (Job* j : named) ids += (ids.empty() ? "" : ", ") + j->id;
    *error = Status::FailedPrecondition("job name '" + job_or_name +
                                        "' is ambiguous; use an id: " + ids);
  }
  return nullptr;
}

Status Coordinator::Submit(std::shared_ptr<const JobSpec> spec, const v1::SubmitJobRequest& req,
                           v1::SubmitJobResponse* resp, const std::string& identity) {
  CheckOwner();
  clock_.Receive(req.lamport());
  auto tenant = tenants_.TenantFor(identity, spec->tenant);
  if (!tenant.ok()) return tenant.status();
  if (!req.idempotency_key().empty()) {
    if (auto it = by_key_.find(req.idempotency_key()); it != by_key_.end()) {
      resp->set_job_id(it->second);
      resp->set_name(jobs_.at(it->second)->core->job().name);
      resp->set_existing(true);
      resp->set_tenant(jobs_.at(it->second)->tenant);
      resp->set_lamport(clock_.Tick());
      return Status::Ok();
    }
  }
  if (!store_error_.ok()) {
    return Status::Unavailable(
        "the coordinator cannot write its job store, so it accepts no job: " +
        store_error_.message());
  }
  auto job = std::make_unique<Job>();
  job->id = spec->name + "-" + std::to_string(next_job_++);
  job->key = req.idempotency_key();
  job->submitted_wall_us = time_.WallMicros();
  job->tenant = *tenant;
  job->placement = &placement_;
  if (!req.cache().empty() && !ParseCacheMode(req.cache(), &job->cache_mode)) {
    return Status::InvalidArgument("unknown cache mode '" + req.cache() +
                                   "' (expected on, refresh or read-only)");
  }
  const log::ScopedFields fields({.job = job->id});
  // Acknowledged only once durable.
  if (Status s = store_.Accept(
          {job->id, job->key, req.spec_name(), req.spec(), job->submitted_wall_us, job->tenant,
           job->cache_mode == CacheMode::kOn ? std::string()
                                             : std::string(CacheModeName(job->cache_mode))});
      !s.ok()) {
    spdlog::error("job {} refused: {}", job->id, s.message());
    return Status::Unavailable("the job could not be recorded durably: " + s.message());
  }
  job->core =
      std::make_unique<SchedulerCore>(spec, clock_, job->input_time, "coordinator", config_.retry);
  Job& ref = *job;
  if (!job->key.empty()) by_key_[job->key] = job->id;
  jobs_[job->id] = std::move(job);
  spdlog::info("job {} accepted: {} stacks, {} cards, tenant {}", ref.id, spec->stacks.size(),
               spec->card_count(), ref.tenant);
  // A stack no connected worker can hold waits for one to join: worth a word now. At most a
  // few (a matrix repeats the same request) and only when some worker is connected.
  if (placement_.size() > 0) {
    for (const StackSpec& stack : spec->stacks) {
      if (stack.is_template() || resp->warnings_size() >= 3) continue;
      PlacementChoice c = placement_.Choose(stack);
      if (c.worker == 0 && c.waiting.find("needs ") != std::string::npos) {
        resp->add_warnings("stack " + stack.id + " " + c.waiting.substr(c.waiting.find("needs ")) +
                           "; it waits until such a worker joins");
      }
    }
  }
  if (metrics_) metrics_->jobs_submitted->Increment();
  Input(ref, StartInput());
  ApplyCoreActions(ref);
  resp->set_job_id(ref.id);
  resp->set_name(spec->name);
  resp->set_tenant(ref.tenant);
  resp->set_lamport(clock_.Tick());
  return Status::Ok();
}

Status Coordinator::CheckAccess(const std::string& name, const std::string& identity) {
  CheckOwner();
  if (identity.empty()) return Status::Ok();
  Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  if (tenants_.MayAct(identity, job->tenant)) return Status::Ok();
  return Status::NotFound("no job '" + name + "' of a tenant credential '" + identity +
                          "' may act for");
}

void Coordinator::SetTenants(TenantTable tenants) {
  Owner owner(*this);
  tenants_ = std::move(tenants);
  RetryPending(/*workers=*/false);
}

void Coordinator::SendToHolder(Job& job, uint32_t stack,
                               const std::function<void(v1::CoordinatorMessage&)>& add) {
  WorkerLink* w = WorkerHolding(job, stack);
  if (!w) return;  // nobody holds it (lost, not placed yet): the core re-sends on placement
  w->outbox->Batch(
      [&](v1::CoordinatorMessage& m) {
        add(m);
        m.set_lamport(clock_.now());
      },
      WorkerMessageFull);
}

void Coordinator::CountReleases(size_t n) {
  if (!metrics_) return;
  metrics_->releases->Increment(static_cast<double>(n));
  if (!finish_arrived_) return;
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - *finish_arrived_).count();
  for (size_t i = 0; i < n; ++i) metrics_->release_latency->Observe(s);
}

void Coordinator::Send(Job& job, const CoreAction& action) {
  const JobSpec& spec = job.core->job();
  std::visit(Overloaded{
                 [&](const AssignStackMsg& a) {
                   const bool watched = logs_.Watched(job.id, a.stack);
                   SendToHolder(job, a.stack, [&](v1::CoordinatorMessage& m) {
                     auto* assignment = m.add_assignments();
                     wire::ToProto(job.id, a, spec.stacks[a.stack], assignment);
                     assignment->set_tenant(job.tenant);
                     assignment->set_tenant_weight(tenants_.Of(job.tenant).weight);
                     if (!watched) return;  // someone follows it: its output flows live
                     auto* w = m.add_output_watches();
                     w->set_job_id(job.id);
                     w->set_stack(a.stack);
                     w->set_on(true);
                   });
                 },
                 [&](const ReleaseMsg& r) {
                   SendToHolder(job, r.to.stack, [&](v1::CoordinatorMessage& m) {
                     wire::ToProto(job.id, r, m.add_releases());
                   });
                   CountReleases(1 + r.also_from.size());  // a packed release: each of its cards
                 },
                 [&](const RetryMsg& t) {
                   SendToHolder(job, t.card.stack, [&](v1::CoordinatorMessage& m) {
                     wire::ToProto(job.id, t, m.add_retries());
                   });
                 },
                 [&](const SkipMsg& s) {
                   SendToHolder(job, s.stack, [&](v1::CoordinatorMessage& m) {
                     wire::ToProto(job.id, s, m.add_skips());
                   });
                 },
                 [](const PlaceStackAction&) {},
                 [](const JobFinishedAction&) {},
                 [](const FanOutAction&) {},
                 [](const CacheQueryAction&) {},
             },
             action);
}

void Coordinator::ApplyCoreActions(Job& job) {
  std::vector<CachedCard> hits_for_assign;
  for (auto actions = job.core->TakeActions(); !actions.empty();
       actions = job.core->TakeActions()) {
    // Each placement makes its stack's assignment at least: room for them all at once.
    job.core->ReserveActions(
        static_cast<size_t>(std::count_if(actions.begin(), actions.end(), [](const CoreAction& a) {
          return std::holds_alternative<PlaceStackAction>(a);
        })));
    for (size_t i = 0; i < actions.size(); ++i) {
      CoreAction& action = actions[i];
      if (std::holds_alternative<ReleaseMsg>(action)) {
        const size_t end = PackReleases(actions, i);  // a burst to one card leaves as one
        Send(job, action);
        i = end - 1;
      } else if (auto* assign = std::get_if<AssignStackMsg>(&action)) {
        assign->cached = std::exchange(hits_for_assign, {});
        Send(job, action);
      } else if (const auto* query = std::get_if<CacheQueryAction>(&action)) {
        LookUpCache(job, *query, hits_for_assign);
      } else if (const auto* p = std::get_if<PlaceStackAction>(&action)) {
        const SteadyTime now = std::chrono::steady_clock::now();
        const PlaceResult placed = TryPlace(job, p->stack, p->attempt, now);
        if (placed != PlaceResult::kPlaced) {
          AddPending(job, {job.id, p->stack, p->attempt, now, job.core->job().priority}, placed);
        }
      } else if (const auto* fanout = std::get_if<FanOutAction>(&action)) {
        ListFanOut(job, *fanout);
      } else if (const auto* f = std::get_if<JobFinishedAction>(&action)) {
        CommitNow(/*wait=*/true);  // durable before anyone is told
        CountJobEnd(job, f->state);
        const log::ScopedFields fields({.job = job.id});
        spdlog::info("job {} {}{}{}", job.id, JobStateName(f->state), f->reason.empty() ? "" : ": ",
                     f->reason);
      } else {
        Send(job, action);
      }
    }
  }
  publisher_.JobChanged(job);
  logs_.JobChanged(job);
}

void Coordinator::ListFanOut(Job& job, const FanOutAction& action) {
  // At most kMaxFanOutBytes from the local disk, once per run-time matrix: read on the loop.
  // The input is what was read (or why not): a replay expands that, never the file again.
  auto list = ReadFanOutList(job.core->job(), action.stack,
                             action.digest.empty() || !artifacts_ || !artifacts_->Has(action.digest)
                                 ? ""
                                 : artifacts_->PathOf(action.digest).string());
  Input(job, list.ok() ? FanOutInput(action.stack, std::move(list).value(), "")
                       : FanOutInput(action.stack, "", list.message()));
}

Status Coordinator::GetJob(const std::string& name, v1::JobStatus* out, bool with_graph,
                           bool with_results) {
  CheckOwner();
  Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  FillJobStatus(*job, with_results ? StatusDetail::kStacksAndResults : StatusDetail::kStacks, out);
  if (with_graph) FillJobGraph(*job, out);
  return Status::Ok();
}

Status Coordinator::Cancel(const std::string& name, v1::CancelJobResponse* resp) {
  CheckOwner();
  Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  Input(*job, CancelInput("cancelled by user"));
  ApplyCoreActions(*job);
  resp->set_state(JobStateName(job->core->state()));
  resp->set_lamport(clock_.Tick());
  return Status::Ok();
}

void Coordinator::ListJobs(v1::ListJobsResponse* resp, const std::string& identity) {
  CheckOwner();
  for (const auto& [id, job] : jobs_) {
    if (tenants_.MayAct(identity, job->tenant)) {
      FillJobStatus(*job, StatusDetail::kSummary, resp->add_jobs());
    }
  }
  resp->set_lamport(clock_.Tick());
}

Status Coordinator::Watch(const std::string& name, uint64_t from_lamport,
                          std::shared_ptr<JobEventOutbox> outbox) {
  CheckOwner();
  Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  publisher_.Watch(*job, from_lamport, std::move(outbox));
  return Status::Ok();
}

Status Coordinator::ReadLog(const v1::ReadLogRequest& req, std::shared_ptr<LogOutbox> outbox) {
  CheckOwner();
  clock_.Receive(req.lamport());
  Status error;
  Job* job = Resolve(req.job(), &error);
  if (!job) return error;
  return logs_.Read(*job, req.card(), req.follow(), std::move(outbox));
}

void Coordinator::LogUploaded(const v1::LogUpload& header, const std::filesystem::path& temp,
                              bool complete) {
  CheckOwner();
  clock_.Receive(header.lamport());
  auto it = jobs_.find(header.job_id());
  if (it == jobs_.end()) {  // deleted meanwhile
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    return;
  }
  logs_.Uploaded(*it->second, header, temp, complete);
}

Status Coordinator::RenderTrace(const std::string& name, std::string* json) {
  CheckOwner();
  Status error;
  Job* job = Resolve(name, &error);
  if (!job) return error;
  std::ostringstream out;
  WriteChromeTrace(job->core->job(), job->core->trace(), out);
  *json = out.str();
  return Status::Ok();
}

WorkerLink* Coordinator::WorkerHolding(Job& job, uint32_t stack) {
  const std::string& node = job.core->node_of(stack);
  if (node.empty()) return nullptr;
  auto it = workers_.find(node);
  return it == workers_.end() || it->second->gone ? nullptr : it->second.get();
}

Coordinator::PlaceResult Coordinator::TryPlace(Job& job, uint32_t stack, uint32_t attempt,
                                               SteadyTime since) {
  if (job.core->state() != JobState::kRunning || job.core->attempt(stack) != attempt) {
    return PlaceResult::kPlaced;  // nothing to place any more
  }
  const StackSpec& spec = job.core->job().stacks[stack];
  const TenantPolicy& policy = tenants_.Of(job.tenant);
  if (policy.has_quota()) {
    std::string problem =
        QuotaProblem(job.tenant, policy, tenant_books_[job.tenant], spec.resources);
    if (!problem.empty()) {
      job.waiting[stack] = "waiting: " + problem;
      return PlaceResult::kQuota;
    }
  }
  PlacementChoice choice = placement_.Choose(spec);
  if (choice.worker == 0) {
    job.waiting[stack] = choice.waiting;
    return PlaceResult::kNoWorker;
  }
  job.waiting.erase(stack);
  const Placement::Worker* chosen = placement_.Find(choice.worker);
  WorkerLink& w = *workers_.at(chosen->name);
  Charge(w, job, stack);
  Input(job, PlacedInput(stack, attempt, w.name));
  if (metrics_) {
    metrics_->placement_wait->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count());
  }
  return PlaceResult::kPlaced;
}

void Coordinator::AddPending(Job& job, PendingPlacement p, PlaceResult why) {
  if (why == PlaceResult::kQuota) {
    over_quota_[job.tenant].emplace(std::make_pair(-p.priority, next_pending_++), std::move(p));
  } else {
    pending_.push_back(std::move(p));
  }
}

void Coordinator::Charge(WorkerLink& w, Job& job, uint32_t stack) {
  StackKey key{job.id, stack};
  if (!w.stacks.insert(key).second) return;
  const Resources& request = job.core->job().stacks[stack].resources;
  if (auto old = charges_.find(key); old != charges_.end()) Discharge(key);
  charges_[key] = {w.epoch, job.tenant, request};
  placement_.Place(w.epoch, request);
  TenantBooks& books = tenant_books_[job.tenant];
  books.placed += request;
  ++books.stacks;
}

void Coordinator::Discharge(const StackKey& key) {
  auto it = charges_.find(key);
  if (it == charges_.end()) return;
  placement_.Unplace(it->second.worker, it->second.request);
  TenantBooks& books = tenant_books_[it->second.tenant];
  books.placed -= it->second.request;
  if (books.stacks > 0) --books.stacks;
  charges_.erase(it);
}

void Coordinator::RetryPending(bool workers) {
  std::set<Job*> touched;
  auto retry = [&](const PendingPlacement& p) {
    auto it = jobs_.find(p.job);
    if (it == jobs_.end()) return PlaceResult::kPlaced;  // gone: nothing to place
    const PlaceResult r = TryPlace(*it->second, p.stack, p.attempt, p.since);
    if (r == PlaceResult::kPlaced) touched.insert(it->second.get());
    return r;
  };
  // Per tenant, in priority order; the first that its quota still refuses stops its tenant
  // (a later, smaller stack does not overtake it).
  for (auto& [tenant, queue] : over_quota_) {
    while (!queue.empty()) {
      auto first = queue.begin();
      const PlaceResult r = retry(first->second);
      if (r == PlaceResult::kQuota) break;
      if (r == PlaceResult::kNoWorker) pending_.push_back(first->second);
      queue.erase(first);
    }
  }
  if (workers) {
    // Higher priorities take the workers first; equal ones keep the order they came in.
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const PendingPlacement& a, const PendingPlacement& b) {
                       return a.priority > b.priority;
                     });
    std::deque<PendingPlacement> still;
    for (auto& p : pending_) {
      const PlaceResult r = retry(p);
      if (r == PlaceResult::kNoWorker) still.push_back(p);
      if (r != PlaceResult::kQuota) continue;
      auto it = jobs_.find(p.job);
      over_quota_[it->second->tenant].emplace(std::make_pair(-p.priority, next_pending_++), p);
    }
    pending_ = std::move(still);
  }
  for (Job* j : touched) ApplyCoreActions(*j);
}

void Coordinator::ListWorkers(v1::ListWorkersResponse* resp, const std::string& identity) {
  CheckOwner();
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
    wire::ToProto(w->capacity, info->mutable_capacity());
    if (const Placement::Worker* books = placement_.Find(w->epoch)) {
      wire::ToProto(books->placed, info->mutable_placed());
    }
    info->set_epoch(w->epoch);
    info->set_version(w->version);
    info->set_peer(w->peer);
    info->set_running_cards(w->running_cards);
    info->set_connected_wall_us(w->connected_wall_us);
    // By job, then stack (the set itself is ordered by stack first).
    std::vector<const std::pair<std::string, uint32_t>*> listed;
    listed.reserve(w->stacks.size());
    for (const auto& key : w->stacks) listed.push_back(&key);
    std::sort(listed.begin(), listed.end(), [](const auto* a, const auto* b) { return *a < *b; });
    for (const auto* key : listed) {
      const auto& [job_id, stack] = *key;
      auto job = jobs_.find(job_id);
      if (job == jobs_.end() || !tenants_.MayAct(identity, job->second->tenant)) continue;
      auto* placed = info->add_placed_stacks();
      placed->set_job_id(job_id);
      placed->set_job_name(job->second->core->job().name);
      placed->set_stack(job->second->core->job().stacks[stack].id);
    }
  }
  resp->set_coordinator_version(kVersionString);
  resp->set_lamport(clock_.Tick());
}

std::shared_ptr<WorkerLink> Coordinator::WorkerHello(const v1::Hello& hello,
                                                     const std::string& peer,
                                                     std::shared_ptr<WorkerOutbox> outbox) {
  CheckOwner();
  // The stacks of the worker's previous session that it claims again stay with it; the rest are
  // lost with that session.
  std::set<StackKey> from_old;
  if (auto it = workers_.find(hello.name()); it != workers_.end()) {
    auto old = it->second;
    for (const auto& h : hello.held()) {
      if (auto held = old->stacks.find({h.job_id(), h.stack()}); held != old->stacks.end()) {
        from_old.insert(*held);
        Discharge(*held);
        old->stacks.erase(held);
      }
    }
    old->outbox->Close(Status::Error(StatusCode::kAborted, "replaced by a new connection"));
    WorkerGone(old, "replaced by a new connection of the same worker");
  }
  auto w = std::make_shared<WorkerLink>();
  w->name = hello.name();
  for (const auto& kv : hello.labels()) w->labels.emplace_back(kv.key(), kv.value());
  w->slots = hello.slots();
  if (hello.has_capacity()) {
    w->capacity = wire::FromProto(hello.capacity()).value();  // ValidateHello checked it
  } else {
    w->capacity.cpu_milli = uint64_t{hello.slots()} * kMilliCpu;  // an older worker
  }
  w->version = hello.version();
  w->peer = peer;
  w->epoch = next_epoch_++;
  w->last_seen = time_.Now();
  w->connected_wall_us = time_.WallMicros();
  w->outbox = std::move(outbox);
  workers_[w->name] = w;
  placement_.AddWorker(w->epoch, w->name, w->labels, w->capacity);
  spdlog::info("worker {} connected from {} (epoch {}, {})", w->name, peer, w->epoch,
               FormatResources(w->capacity));
  v1::CoordinatorMessage welcome;
  welcome.mutable_welcome()->set_epoch(w->epoch);
  welcome.mutable_welcome()->set_heartbeat_ms(static_cast<uint32_t>(config_.heartbeat.count()));
  welcome.mutable_welcome()->set_lease_ms(static_cast<uint32_t>(lease().count()));
  welcome.set_lamport(clock_.Tick());
  Reconcile(w, hello, from_old, welcome);
  RetryPending(/*workers=*/true);
  return w;
}

void Coordinator::WorkerMessage(const std::shared_ptr<WorkerLink>& w,
                                const v1::WorkerMessage& msg) {
  CheckOwner();
  if (w->gone || msg.epoch() != w->epoch) {  // fenced: a newer epoch exists, or the lease expired
    Dropped(*w,
            w->gone ? "its session was fenced off (lease expired or replaced)"
                    : "it carries epoch " + std::to_string(msg.epoch()) + ", not " +
                          std::to_string(w->epoch),
            0);
    return;
  }
  clock_.Receive(msg.lamport());
  w->last_seen = time_.Now();
  if (msg.has_heartbeat()) w->running_cards = msg.heartbeat().running_cards();
  if (metrics_ && msg.finished_size() > 0) finish_arrived_ = std::chrono::steady_clock::now();
  std::set<Job*> touched;
  auto job_of = [&](const std::string& id, uint32_t stack) -> Job* {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
      Dropped(*w, "it reported for job '" + id.substr(0, 80) + "', which does not exist", 2);
      return nullptr;
    }
    Job* job = it->second.get();
    // Fencing: only the worker holding the stack may report for it.
    if (stack >= job->core->job().stacks.size() || job->core->node_of(stack) != w->name) {
      Dropped(*w,
              "it reported for stack " + std::to_string(stack) + " of job " + id +
                  ", which it does not hold",
              1);
      return nullptr;
    }
    return job;
  };
  // Live output first: what a card wrote precedes its finish.
  for (const auto& chunk : msg.output()) {
    if (Job* job = job_of(chunk.job_id(), chunk.card().stack())) {
      if (chunk.card().card() < job->core->job().stacks[chunk.card().stack()].cards.size()) {
        logs_.Output(*job, chunk);
      }
    }
  }
  ApplyReports(*w, msg.started(), msg.finished(), job_of, touched);
  bool freed_quota = false;
  for (const auto& e : msg.ended()) {
    StackKey key{e.job_id(), e.stack()};
    if (w->stacks.erase(key) == 0) continue;
    if (auto c = charges_.find(key); c != charges_.end()) {
      freed_quota |= over_quota_.count(c->second.tenant) > 0;
    }
    Discharge(key);
  }
  for (Job* job : touched) ApplyCoreActions(*job);
  if (freed_quota) RetryPending(/*workers=*/false);
  finish_arrived_.reset();
}

void Coordinator::ApplyReports(
    WorkerLink& w, const google::protobuf::RepeatedPtrField<v1::CardStarted>& started,
    const google::protobuf::RepeatedPtrField<v1::CardFinished>& finished,
    const std::function<Job*(const std::string& job, uint32_t stack)>& take,
    std::set<Job*>& touched, const std::function<bool(Job&, const v1::CoreInput&)>& admit) {
  // A batch holds events of many cards; apply them in the order they happened (Lamport order),
  // so the trace and watchers see finish(k) before start(k+1).
  std::vector<std::pair<uint64_t, int>> order;  // (lamport, index: >= 0 started, < 0 finished)
  order.reserve(started.size() + finished.size());
  for (int i = 0; i < started.size(); ++i) order.emplace_back(started[i].lamport(), i);
  for (int i = 0; i < finished.size(); ++i) order.emplace_back(finished[i].lamport(), -1 - i);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [lamport, i] : order) {
    v1::CoreInput in;
    Job* job = nullptr;
    if (i >= 0) {
      const auto& s = started[i];
      if (!(job = take(s.job_id(), s.card().stack()))) continue;
      *in.mutable_started() = s;
    } else {
      const auto& f = finished[-1 - i];
      if (!(job = take(f.job_id(), f.card().stack()))) continue;
      *in.mutable_finished() = f;
    }
    const bool is_finish = in.has_finished();
    const v1::CardRef& ref = is_finish ? in.finished().card() : in.started().card();
    const CardRef card{ref.stack(), ref.card()};
    const log::ScopedFields fields(
        {.job = job->id,
         .stack = card.stack,
         .card = card.card,
         .attempt = is_finish ? in.finished().attempt() : in.started().attempt(),
         .lamport = is_finish ? in.finished().lamport() : in.started().lamport()});
    const uint32_t uploads = is_finish ? in.finished().full_output_uploads() : 0;
    in.set_node(w.name);
    if (admit && !admit(*job, in)) continue;
    const bool fresh_success =
        is_finish && in.finished().succeeded() && in.finished().cached_from().empty();
    if (!Input(*job, std::move(in))) continue;
    // Only what the worker holding the stack under its current attempt reported gets here
    // (take, and the core's own attempt check): what the cache keeps can be trusted.
    if (fresh_success) RecordCache(*job, card);
    if (is_finish) {
      logs_.ExpectUploads(*job, card, w.name, uploads);
      logs_.CardFinished(*job, card);
      CountCardEnd(*job, card);
    }
    touched.insert(job);
  }
}

void Coordinator::Dropped(WorkerLink& w, const std::string& why, int reason) {
  ++w.dropped_reports;
  const uint8_t bit = static_cast<uint8_t>(1u << reason);
  if (w.dropped_logged & bit) return;  // once per session and reason: a flood says nothing more
  w.dropped_logged |= bit;
  spdlog::warn(
      "dropped a report of worker {} (epoch {}): {}; further ones for this reason are "
      "counted, not logged",
      w.name, w.epoch, why);
}

void Coordinator::WorkerGone(const std::shared_ptr<WorkerLink>& w, const std::string& why) {
  CheckOwner();
  if (w->gone) return;
  w->gone = true;
  if (auto it = workers_.find(w->name); it != workers_.end() && it->second == w) workers_.erase(it);
  spdlog::info("worker {} (epoch {}) gone: {}; {} stacks to re-place", w->name, w->epoch, why,
               w->stacks.size());
  std::set<Job*> touched;
  for (const auto& key : w->stacks) Discharge(key);
  placement_.RemoveWorker(w->epoch);
  for (const auto& [job_id, stack] : w->stacks) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) continue;
    Input(*it->second, LostInput(stack, "worker " + w->name + " " + why));
    if (metrics_) metrics_->replacements->Increment();
    touched.insert(it->second.get());
  }
  w->stacks.clear();
  logs_.WorkerGone(jobs_, w->name);
  for (Job* job : touched) ApplyCoreActions(*job);
  if (!over_quota_.empty()) RetryPending(/*workers=*/false);
}

}  // namespace hollerith::coordinator
