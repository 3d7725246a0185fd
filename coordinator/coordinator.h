// The coordinator's state: jobs (one SchedulerCore each), connected workers, stacks waiting for
// placement, watchers. It has one owner at a time, never two: normally the event loop (gRPC
// reactors decode and validate, then Post() onto it), but a worker's message is applied at once
// by the gRPC thread that read it when the state is free (TryRunHere): on this VM each hand-off
// to the loop thread costs a wake-up of ~20 us on the path of every cross-node release.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/core/scheduler_core.h"
#include "coordinator/job_store.h"
#include "coordinator/outbox.h"
#include "coordinator/placement.h"
#include "hollerith.pb.h"

namespace hollerith::coordinator {

struct WorkerLink {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  uint32_t slots = 0;
  std::string version;
  std::string peer;
  uint64_t epoch = 0;
  std::chrono::steady_clock::time_point last_seen;
  std::set<std::pair<std::string, uint32_t>> stacks;  // (job id, stack) placed here, not ended
  std::shared_ptr<Outbox<v1::CoordinatorMessage>> outbox;
  bool draining = false;
  bool gone = false;
};

using JobEventOutbox = Outbox<v1::JobEventBatch>;
using LogOutbox = Outbox<v1::LogChunk>;

struct CoordinatorConfig {
  std::chrono::milliseconds heartbeat{1000};
  int missed_heartbeats = 5;  // lease = heartbeat * missed_heartbeats
  RetryPolicy retry;
};

class Coordinator {
 public:
  Coordinator(asio::io_context& loop, CoordinatorConfig config, JobStore& store);
  void Start();  // starts the lease timer

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

  // Client side. Errors are grpc::Status with a message for people.
  grpc::Status Submit(std::shared_ptr<const JobSpec> spec, const v1::SubmitJobRequest& req,
                      v1::SubmitJobResponse* resp);
  grpc::Status GetJob(const std::string& job, v1::JobStatus* out);
  grpc::Status Cancel(const std::string& job, v1::CancelJobResponse* resp);
  void ListJobs(v1::ListJobsResponse* resp);
  void ListWorkers(v1::ListWorkersResponse* resp);
  grpc::Status Watch(const std::string& job, uint64_t from_lamport,
                     std::shared_ptr<JobEventOutbox> outbox);
  grpc::Status ReadLog(const v1::ReadLogRequest& req, std::shared_ptr<LogOutbox> outbox);
  grpc::Status RenderTrace(const std::string& job, std::string* json);
  LamportClock& clock() { return clock_; }

  // Worker side.
  std::shared_ptr<WorkerLink> WorkerHello(const v1::Hello& hello, const std::string& peer,
                                          std::shared_ptr<Outbox<v1::CoordinatorMessage>> outbox);
  void WorkerMessage(const std::shared_ptr<WorkerLink>& worker, const v1::WorkerMessage& msg);
  void WorkerGone(const std::shared_ptr<WorkerLink>& worker, const std::string& why);

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

  // A WatchJob stream: its own cursor into the job's trace, so a slow reader holds back only its
  // own stream (at most kWatcherQueuedBatches batches queued) and never the coordinator's memory.
  struct Watcher {
    std::shared_ptr<JobEventOutbox> outbox;
    size_t next = 0;             // next trace event to send
    uint64_t after_lamport = 0;  // resume point: events at or before it are not sent
  };
  static constexpr size_t kWatcherQueuedBatches = 2;
  static constexpr size_t kEventsPerBatch = 4096;

  struct LogWaiter {
    CardRef card;
    std::shared_ptr<LogOutbox> outbox;
  };
  struct Job {
    std::string id;
    std::string key;
    int64_t submitted_wall_us = 0;
    std::unique_ptr<SchedulerCore> core;
    std::map<uint32_t, std::string> waiting;  // stack -> why it is not placed
    std::vector<Watcher> watchers;
    std::vector<LogWaiter> log_waiters;
    bool publish_due = false;  // events wait for the publish timer
  };
  struct PendingPlacement {
    std::string job;
    uint32_t stack;
    uint32_t attempt;
  };

  Job* Resolve(const std::string& job_or_name, grpc::Status* error);
  void Drain(Job& job);
  bool TryPlace(Job& job, uint32_t stack, uint32_t attempt);
  void RetryPending();
  WorkerLink* WorkerHolding(Job& job, uint32_t stack);
  // Watchers get a running job's events at most every kPublishLinger, in one batch: a message per
  // card event would cost the coordinator more in gRPC than running the card does. The job's end
  // (and everything before it) goes out at once.
  static constexpr std::chrono::milliseconds kPublishLinger{5};
  void SchedulePublish(Job& job);
  void MarkPublishDue(Job& job);
  // Sends `w` what it has not had yet, as far as its queue allows; true once it has everything.
  bool Feed(const Job& job, Watcher& w);
  void PublishDue();
  void Publish(Job& job);
  // Watcher events for trace events [begin, end) after `after_lamport`. Each stack's status (its
  // progress now) rides on its last event in the range only: a 100,000-card fan-out would
  // otherwise build and send three identical statuses per card.
  std::vector<v1::JobEvent> WatchEvents(const Job& job, size_t begin, size_t end,
                                        uint64_t after_lamport) const;
  void FillStatus(const Job& job, bool with_details, v1::JobStatus* out) const;
  // Fills `out` in place (events carry one each: no temporary and copy per event).
  void StackStatusOf(const Job& job, uint32_t stack, v1::StackStatus* out) const;
  void CheckLeases();
  void SendLog(const CardRecord& rec, LogOutbox& outbox);
  void AddEvent(JobEventOutbox& outbox, v1::JobEvent ev);

  asio::io_context& loop_;
  CoordinatorConfig config_;
  JobStore& store_;
  LamportClock clock_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  std::map<std::string, std::string> by_key_;
  std::map<std::string, size_t> name_counts_;
  std::map<std::string, std::shared_ptr<WorkerLink>> workers_;
  std::deque<PendingPlacement> pending_;
  uint64_t next_epoch_ = 1;
  uint64_t next_job_ = 1;
  std::mutex state_mu_;  // held by whoever owns the state (see the top of this file)
  asio::steady_timer lease_timer_;
  asio::steady_timer publish_timer_;
  bool publish_armed_ = false;
  std::vector<std::string> publish_due_;  // ids of jobs with publish_due set
};

}  // namespace hollerith::coordinator
