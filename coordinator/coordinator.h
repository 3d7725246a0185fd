// The coordinator's state: jobs (one SchedulerCore each), connected workers and their leases,
// stacks waiting for placement. Publishing events to watchers (EventPublisher) and serving logs
// (LogServer) are classes of their own that it feeds.
//
// Ownership: the state has one owner at a time, never two. Normally that is the event loop
// (gRPC reactors decode and validate, then Post() onto it), but a worker's message is applied at
// once by the gRPC thread that read it when the state is free (TryRunHere): on this VM each
// hand-off to the loop thread costs a wake-up of ~20 us on the path of every cross-node release.
// `state_mu_` is what makes "one owner" true; every public entry point checks that its caller
// owns the state (HOLLERITH_CHECK), and timers fire owning it.
//
// Time is injected (TimerFactory): leases, the publish linger and wall times come from it, so
// unit tests drive the coordinator on simulated time.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/artifacts/store.h"
#include "common/base/status.h"
#include "common/base/time_source.h"
#include "common/core/scheduler_core.h"
#include "common/spec/parser.h"
#include "coordinator/event_publisher.h"
#include "coordinator/job.h"
#include "coordinator/job_store.h"
#include "coordinator/log_server.h"
#include "coordinator/metrics.h"
#include "coordinator/outbox.h"
#include "coordinator/placement.h"
#include "coordinator/tenants.h"
#include "hollerith.pb.h"

namespace hollerith::coordinator {

using WorkerOutbox = Outbox<v1::CoordinatorMessage>;

// (job id, stack) keys ordered by stack first: a lookup among a large job's stacks would otherwise
// compare the same job id at every step of the tree (memcmp led the coordinator's fan-out
// profile). A job's stacks still come in their order; different jobs' interleave.
struct StackFirst {
  bool operator()(const std::pair<std::string, uint32_t>& a,
                  const std::pair<std::string, uint32_t>& b) const {
    return a.second != b.second ? a.second < b.second : a.first < b.first;
  }
};

struct WorkerLink {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  uint32_t slots = 0;
  Resources capacity;  // what it has (Hello.capacity, or `slots` cpus)
  std::string version;
  std::string peer;
  uint64_t epoch = 0;
  uint32_t running_cards = 0;     // as of its last heartbeat
  int64_t connected_wall_us = 0;  // when this session began
  MonotonicTime last_seen;        // when the state last applied a message of its session
  // Of its session (set by the session reactor; null when nothing tracks it): messages that have
  // arrived and wait for the state. While one waits, the lease does not expire: the worker spoke
  // in time, the coordinator was busy (a placement burst can hold the state longer than a lease).
  std::shared_ptr<const std::atomic<int>> unapplied;
  std::set<std::pair<std::string, uint32_t>, StackFirst> stacks;  // placed here, not ended
  std::shared_ptr<WorkerOutbox> outbox;
  bool gone = false;
  // Reports dropped from this session (fenced, stale, for stacks it does not hold): logged once
  // per reason, counted always.
  uint64_t dropped_reports = 0;
  uint8_t dropped_logged = 0;  // bit per DropReason already logged
};

struct CoordinatorConfig {
  std::chrono::milliseconds heartbeat{1000};
  int missed_heartbeats = 5;  // lease = heartbeat * missed_heartbeats
  RetryPolicy retry;
  // After a restart, how long the stacks that were running wait for their workers to reconnect
  // and claim them (Hello.held) before they are re-placed with the next attempt; zero: two
  // leases.
  std::chrono::milliseconds claim_window{0};
  // Finished jobs (results, logs, traces) are kept this long after they end, then removed;
  // zero keeps them forever.
  std::chrono::milliseconds retention = std::chrono::hours(24 * 7);
  // Where cards' full output (beyond the result's 64 KiB) is kept; empty keeps none.
  std::filesystem::path log_dir;
};

class Coordinator {
 public:
  // Group commit: what was journaled is committed within kCommitLinger (at once at a job's end).
  static constexpr std::chrono::milliseconds kCommitLinger{2};
  // The result cache's entries are committed at most this often while jobs run (and at once
  // when a job ends).
  static constexpr std::chrono::milliseconds kCacheLinger{500};
  // After a restart the Lamport clock resumes this far above the last committed high-water mark,
  // above every time the previous run gave out after its last commit.
  static constexpr uint64_t kLamportRestartGap = uint64_t{1} << 32;

  Coordinator(asio::io_context& loop, TimerFactory& time, CoordinatorConfig config,
              JobStore& store);
  void Start();  // starts the lease timer
  // Metrics to update (nullptr: none, the default); set before Start, must outlive the
  // coordinator.
  void SetMetrics(CoordinatorMetrics* metrics) { metrics_ = metrics; }
  // Where workers put the cards' outputs: run-time matrix lists are read from it. Set before
  // Recover; without it, such a list cannot be read (the stacks waiting for it fail).
  void SetArtifacts(const ArtifactStore* artifacts) { artifacts_ = artifacts; }
  // The result cache (cache_entries.cc): its entries (null: the coordinator runs without one,
  // `unavailable` says why) and the artifact store its files are in (the jobs' own). Set before
  // Start.
  void SetResultCache(std::unique_ptr<ResultCache> entries, std::string unavailable,
                      ArtifactStore* store);
  // `hollerith cache ls|show` and `rm|clear`, for the caller's tenant.
  Status ListCache(const v1::ListCacheRequest& req, const std::string& identity,
                   v1::ListCacheResponse* resp);
  Status RemoveCache(const v1::RemoveCacheRequest& req, const std::string& identity,
                     v1::RemoveCacheResponse* resp);
  // Sets the gauges of state (jobs and cards by state, workers); from any thread but the owner's:
  // it takes the state (blocking) for the count.
  void RefreshMetrics();
  void Flush();  // commits what is journaled (at shutdown)
  // Rebuilds the jobs a previous run left in the store (replaying each one's journal), before
  // Start. Finished jobs keep their results, logs and traces; running ones go on: each placed
  // stack keeps running where it was if its worker reconnects and claims it within the claim
  // window (see reconcile.cc); the others are re-placed with the next attempt when it ends.
  void Recover(const RecoveredState& state, const SpecLimits& limits);

  // Runs `f` on the loop thread, owning the state.
  template <typename F>
  void Post(F f) {
    asio::post(loop_, [this, f = std::move(f)]() mutable {
      Owner owner(*this);
      f();
    });
  }
  // Runs `f` here and now, owning the state, if nobody owns it (and this thread does not already);
  // false otherwise, and `f` did not run. Never blocks: a gRPC thread must not wait on the loop.
  bool TryRunHere(const std::function<void()>& f);

  // The tenants (--tenants): weights and quotas. Replacing them (SIGHUP) re-tries the stacks
  // that wait for a quota. Takes the state (blocking): call from a thread that does not own it.
  void SetTenants(TenantTable tenants);
  const TenantTable& tenants() const { return tenants_; }
  void ListTenants(v1::ListTenantsResponse* resp);
  // What ListTenants says, without a clock tick (also for the metrics).
  void FillTenants(v1::ListTenantsResponse* resp);

  // Client side; errors carry a code and a message for people. Call while owning the state.
  // `identity` is the caller's name ("" for the cluster's shared token): the job's tenant.
  Status Submit(std::shared_ptr<const JobSpec> spec, const v1::SubmitJobRequest& req,
                v1::SubmitJobResponse* resp, const std::string& identity = "");
  // NOT_FOUND (as for a job that does not exist) unless `identity` may act for the job's tenant.
  Status CheckAccess(const std::string& job, const std::string& identity);
  // With `with_graph`, also the job's structure (FillJobGraph); without `with_results`, no result
  // document (the stacks' statuses alone).
  Status GetJob(const std::string& job, v1::JobStatus* out, bool with_graph = false,
                bool with_results = true);
  Status Cancel(const std::string& job, v1::CancelJobResponse* resp);
  // Removes a finished job from memory and the store; FAILED_PRECONDITION while it runs.
  Status Delete(const std::string& job, v1::DeleteJobResponse* resp);
  // The jobs `identity` may act for (every job for the shared token's "").
  void ListJobs(v1::ListJobsResponse* resp, const std::string& identity = "");
  // Every connected worker; of the stacks placed on each, only those of jobs `identity` may see.
  void ListWorkers(v1::ListWorkersResponse* resp, const std::string& identity = "");
  Status Watch(const std::string& job, uint64_t from_lamport,
               std::shared_ptr<JobEventOutbox> outbox);
  Status ReadLog(const v1::ReadLogRequest& req, std::shared_ptr<LogOutbox> outbox);
  // A worker uploaded one stream of a card's full output into `temp` (`complete`: all of it).
  void LogUploaded(const v1::LogUpload& header, const std::filesystem::path& temp, bool complete);
  // Where uploads for the job are written ("" when no full output is kept). Any thread.
  std::filesystem::path LogUploadDir(const std::string& job_id) const {
    return logs_.UploadDir(job_id);
  }
  Status RenderTrace(const std::string& job, std::string* json);
  LamportClock& clock();

  // Worker side. Call while owning the state.
  std::shared_ptr<WorkerLink> WorkerHello(const v1::Hello& hello, const std::string& peer,
                                          std::shared_ptr<WorkerOutbox> outbox);
  void WorkerMessage(const std::shared_ptr<WorkerLink>& worker, const v1::WorkerMessage& msg);
  void WorkerGone(const std::shared_ptr<WorkerLink>& worker, const std::string& why);

  std::chrono::milliseconds lease() const { return config_.heartbeat * config_.missed_heartbeats; }
  std::chrono::milliseconds claim_window() const {
    return config_.claim_window.count() > 0 ? config_.claim_window : 2 * lease();
  }
  // Stacks recovered as running that no worker has claimed yet (for tests and logs).
  size_t unclaimed_stacks() const { return unclaimed_.size(); }

 private:
  // Owns the state for its lifetime (blocking until it is free); marks this thread as the owner.
  class Owner {
   public:
    explicit Owner(Coordinator& c);
    ~Owner();
    Owner(const Owner&) = delete;
    Owner& operator=(const Owner&) = delete;

   private:
    std::unique_lock<std::mutex> lock_;
  };
  // A timer of `time_` whose callback runs owning the state.
  std::unique_ptr<Timer> OwnedTimer();
  static void CheckOwner();

  using SteadyTime = std::chrono::steady_clock::time_point;
  struct PendingPlacement {
    std::string job;
    uint32_t stack;
    uint32_t attempt;
    SteadyTime since;  // when the core asked for the placement (placement wait metric)
    int priority = 0;  // the job's: higher is tried first, equal ones in the order they came
  };
  using StackKey = std::pair<std::string, uint32_t>;  // (job id, stack)
  // Places the stack or says why it waits: kPlaced, kNoWorker (no connected worker can hold
  // it), kQuota (its tenant is at its quota); true also when it no longer needs placing.
  enum class PlaceResult { kPlaced, kNoWorker, kQuota };
  PlaceResult TryPlace(Job& job, uint32_t stack, uint32_t attempt, SteadyTime since);
  void AddPending(Job& job, PendingPlacement p, PlaceResult why);

  Job* Resolve(const std::string& job_or_name, Status* error);
  // Gives `input` to the job's core and journals it (the only way the core is fed, live).
  bool Input(Job& job, v1::CoreInput input);
  void ScheduleCommit();
  // `wait`: returns once durable (a job's end, shutdown); else the store writes it in the
  // background.
  void CommitNow(bool wait);
  // Carries out what the job's core decided (placements, messages to the workers holding the
  // stacks, the job's end), then tells the publisher and the log server that the job changed.
  void ApplyCoreActions(Job& job);
  // Reads the list a run-time matrix stack asked for and gives it to the job's core (an input).
  void ListFanOut(Job& job, const FanOutAction& action);
  // Adds one item to the next message for the worker holding `stack`, if any worker holds it.
  void SendToHolder(Job& job, uint32_t stack,
                    const std::function<void(v1::CoordinatorMessage&)>& add);
  // One message action of a core (assign, release, retry, skip) onto the holder's stream.
  void Send(Job& job, const CoreAction& action);
  // Counts `n` releases sent (a packed one is several) and their latency since the finish.
  void CountReleases(size_t n);
  // Applies a worker's card reports in the order they happened (Lamport order); `take` says, per
  // report's job and stack, whether it is this worker's to give (else it is dropped), and
  // `admit` (if given) may still refuse each one. The jobs that changed go into `touched`.
  void ApplyReports(WorkerLink& w,
                    const google::protobuf::RepeatedPtrField<v1::CardStarted>& started,
                    const google::protobuf::RepeatedPtrField<v1::CardFinished>& finished,
                    const std::function<Job*(const std::string& job, uint32_t stack)>& take,
                    std::set<Job*>& touched,
                    const std::function<bool(Job&, const v1::CoreInput&)>& admit = nullptr);
  // Reconciliation (reconcile.cc): the claims of a (re)connecting worker's hello, judged against
  // the record; `from_old` are the stacks its previous session held. Adds the drops to `welcome`.
  void Reconcile(const std::shared_ptr<WorkerLink>& w, const v1::Hello& hello,
                 const std::set<StackKey>& from_old, v1::CoordinatorMessage& welcome);
  // The claim window is over: every stack nobody claimed is re-placed with the next attempt.
  void ExpireClaims();
  // The latest Lamport time at which the record released each (stack, card, attempt), as of its
  // first `indexed` trace events.
  struct ReleaseIndex {
    size_t indexed = 0;
    std::map<std::tuple<uint32_t, uint32_t, uint32_t>, uint64_t> latest;
  };
  // Whether, while claims are open after a restart, the record released `card` for `attempt` at
  // `lamport` or later (reconcile.cc); `index` is brought up to date first.
  bool ReleasedAfter(const Job& job, CardRef card, uint32_t attempt, uint64_t lamport,
                     ReleaseIndex& index) const;
  // Places what waits: the stacks of tenants whose quota allows them again and, with `workers`
  // (the workers changed), the stacks no worker could hold.
  void RetryPending(bool workers);
  // Books a placed stack on its worker and tenant (Charge) or returns it (Discharge).
  void Charge(WorkerLink& w, Job& job, uint32_t stack);
  void Discharge(const StackKey& key);
  void RefreshTenantMetrics();  // tenant_status.cc
  WorkerLink* WorkerHolding(Job& job, uint32_t stack);
  void CheckLeases();
  // Removes finished jobs older than the retention; re-arms itself.
  void SweepRetention();
  void Forget(Job& job);
  // A worker's report that is not applied: logged once per session and `reason` (0 fenced,
  // 1 a stack it does not hold, 2 an unknown job), counted in the link.
  void Dropped(WorkerLink& w, const std::string& why, int reason);
  // The `_total` counters of card and job ends (no-ops without metrics).
  void CountCardEnd(Job& job, CardRef card);
  void CountJobEnd(Job& job, JobState state);

  asio::io_context& loop_;
  TimerFactory& time_;
  CoordinatorConfig config_;
  JobStore& store_;
  LamportClock clock_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  std::map<std::string, std::string> by_key_;
  std::map<std::string, std::shared_ptr<WorkerLink>> workers_;
  // Stacks waiting for a worker that can hold them (re-tried when workers change), and per tenant
  // those waiting for its quota (re-tried when its stacks end), each in priority order.
  std::deque<PendingPlacement> pending_;
  std::map<std::string, std::multimap<std::pair<int, uint64_t>, PendingPlacement>> over_quota_;
  uint64_t next_pending_ = 0;
  Placement placement_;
  TenantTable tenants_;
  std::map<std::string, TenantBooks> tenant_books_;
  struct ChargeRecord {
    uint64_t worker = 0;  // epoch of its link
    std::string tenant;
    Resources request;
  };
  std::map<StackKey, ChargeRecord, StackFirst> charges_;  // never walked in order
  std::set<StackKey> unclaimed_;  // recovered as placed and running, not claimed yet
  uint64_t next_epoch_ = 1;
  uint64_t next_job_ = 1;
  std::mutex state_mu_;  // held by whoever owns the state (see the top of this file)
  std::unique_ptr<Timer> lease_timer_;
  std::unique_ptr<Timer> commit_timer_;
  std::unique_ptr<Timer> retention_timer_;
  std::unique_ptr<Timer> claim_timer_;
  bool commit_armed_ = false;
  Status store_error_;  // the last failed commit; submissions are refused until one succeeds
  EventPublisher publisher_;
  LogServer logs_;
  CoordinatorMetrics* metrics_ = nullptr;
  const ArtifactStore* artifacts_ = nullptr;
  std::unique_ptr<ResultCache> cache_entries_;
  std::unique_ptr<CardCache> cache_;
  CacheStats cache_counted_;  // what the metrics counted of the cache's stats so far
  SteadyTime cache_flushed_{};
  std::unique_ptr<Timer> cache_timer_ = OwnedTimer();
  bool cache_armed_ = false;
  // Commits the result cache's pending entries: `now`, or once kCacheLinger has passed since the
  // last commit (arming a timer for it).
  void FlushCache(bool now);
  // The cache's side of a job's actions (cache_entries.cc): a lookup's hit goes into the
  // assignment that follows (`for_assign`) or to the stack's holder at once.
  void LookUpCache(Job& job, const CacheQueryAction& query, std::vector<CachedCard>& for_assign);
  // A card's finish was taken: a fresh success of a cacheable card is kept.
  void RecordCache(Job& job, CardRef card);
  void RefreshCacheMetrics();
  // While a worker's finish reports are applied: when they arrived (release latency metric).
  std::optional<SteadyTime> finish_arrived_;
};

}  // namespace hollerith::coordinator
