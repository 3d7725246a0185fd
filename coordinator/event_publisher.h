// Publishes jobs' events to their WatchJob streams. Each stream has its own cursor into the job's
// trace, so a slow reader holds back only its own stream (at most kWatcherQueuedBatches batches
// queued) and never the coordinator's memory. A running job's events go out at most every
// kPublishLinger, in one batch: a message per card event would cost the coordinator more in gRPC
// than running the card does. The job's end (and everything before it) goes out at once.
// Runs while the caller owns the coordinator's state; its timer must be one that takes it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/time_source.h"
#include "coordinator/job.h"
#include "coordinator/outbox.h"

namespace hollerith::coordinator {

using JobEventOutbox = Outbox<v1::JobEventBatch>;

class EventPublisher {
 public:
  static constexpr std::chrono::milliseconds kPublishLinger{5};
  // 16 were tried: a lagging stream wrote on while the state's owner was busy (a 100,000-stack
  // fan-out's client learnt of the job's end 125 ms after it instead of 186, medians of 12), but
  // a queued batch holds several times its wire size on its arena, and a 300,000-card job's peak
  // with one watcher rose by 20-60 MB. Not kept.
  static constexpr size_t kWatcherQueuedBatches = 2;
  static constexpr size_t kEventsPerBatch = 4096;
  // From this many events on, a batch is built without the stream's lock (Outbox::Push): building
  // 4,096 events takes milliseconds, and the gRPC thread finishing the stream's write waits for it.
  static constexpr size_t kEventsBuiltApart = 256;

  // `linger` paces running jobs' batches; `clock` stamps each batch.
  EventPublisher(std::unique_ptr<Timer> linger, const LamportClock& clock);

  // A new stream: the history after `from_lamport` now (paced by the stream), the rest as it
  // happens; closed once the job has ended and the stream has had every event.
  void Watch(const Job& job, uint64_t from_lamport, std::shared_ptr<JobEventOutbox> outbox);
  // The job's trace grew (or the job ended).
  void JobChanged(const Job& job);
  size_t watchers(const std::string& job_id) const;
  // The job is being removed: its streams end now.
  void Forget(const std::string& job_id);

 private:
  struct Watcher {
    std::shared_ptr<JobEventOutbox> outbox;
    size_t next = 0;             // next trace event to send
    uint64_t after_lamport = 0;  // resume point: events at or before it are not sent
  };
  struct Watched {
    const Job* job = nullptr;
    std::vector<Watcher> watchers;
    bool due = false;  // waits for the linger timer
  };

  void MarkDue(Watched& w);
  void PublishDue();
  void Publish(Watched& w);
  // Sends `w` what it has not had yet, as far as its queue allows; true once it has everything.
  bool Feed(const Job& job, Watcher& w);
  // Appends to `out` the watcher events for trace events [begin, end) after `after_lamport`,
  // made in place in the outgoing batch (on its arena). Each stack's status (its progress now)
  // rides on its last event in the range only: a 100,000-card fan-out would otherwise build and
  // send three identical statuses per card.
  void AppendWatchEvents(const Job& job, size_t begin, size_t end, uint64_t after_lamport,
                         google::protobuf::RepeatedPtrField<v1::JobEvent>& out) const;

  std::unique_ptr<Timer> linger_;
  const LamportClock& clock_;
  std::map<std::string, Watched> watched_;  // jobs with at least one stream
  std::vector<std::string> due_;            // ids of watched jobs with `due` set
  bool armed_ = false;
};

}  // namespace hollerith::coordinator
