// Serves ReadLog: card output, live while it is written and complete once the card ended.
//
// Live: output flows from a worker only while someone follows it. A follower of a running card
// (or of a whole job) makes the stack "watched": the coordinator sends OutputWatch{on} to the
// worker holding it (now, and with every later assignment of that stack), the worker sends the
// running card's output so far and then what it writes (OutputChunk, batched on the session
// stream), and OutputWatch{off} once nobody follows any more.
//
// Complete: a card's finish carries the first 64 KiB of each stream (the result document); a
// longer stream is uploaded in full by the worker right after the finish (UploadLog, off the path
// that releases dependents) into <log dir>/<hex job id>/<stack>.<card>.<stream>, kept with the
// job (removed by its retention or `hollerith delete`). A follower of a card whose upload is under
// way waits for it; an upload that will never come (its worker is gone) ends the wait.
//
// Runs while the caller owns the coordinator's state.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/base/status.h"
#include "coordinator/job.h"
#include "coordinator/outbox.h"

namespace hollerith::coordinator {

using LogOutbox = Outbox<v1::LogChunk>;

class LogServer {
 public:
  // Starts (on) or stops the live output of a stack's cards: sent to the worker holding it.
  using WatchFn = std::function<void(Job& job, uint32_t stack, bool on)>;

  // `dir`: where full outputs are kept; empty keeps none (only the 64 KiB of the result).
  LogServer(const LamportClock& clock, std::filesystem::path dir, WatchFn watch);

  // `card` is STACK.CARD, or empty for every card of the job (followed until the job ends).
  // NOT_FOUND for a card the job does not have; FAILED_PRECONDITION for one that has not
  // finished when not following. On an error nothing was sent.
  Status Read(Job& job, const std::string& card, bool follow, std::shared_ptr<LogOutbox> outbox);
  // Live output from the worker holding the card's stack.
  void Output(Job& job, const v1::OutputChunk& chunk);
  // The report of the card's finish was applied to the job's core.
  void CardFinished(Job& job, CardRef card);
  // Ends the followers of cards that have finished (all of them once the job ended).
  void JobChanged(Job& job);
  // Someone follows output of this stack's cards.
  bool Watched(const std::string& job_id, uint32_t stack) const;

  // Full outputs. The worker `worker` said `uploads` streams of `card` follow.
  void ExpectUploads(Job& job, CardRef card, const std::string& worker, uint32_t uploads);
  // One of them arrived in `temp` (complete, or not: then it is dropped); kept if it is of the
  // stack's current attempt.
  void Uploaded(Job& job, const v1::LogUpload& header, const std::filesystem::path& temp,
                bool complete);
  // The uploads this worker owed will not come.
  void WorkerGone(std::map<std::string, std::unique_ptr<Job>>& jobs, const std::string& worker);
  // Where an upload for `job_id` is written while it arrives ("" without a log dir).
  std::filesystem::path UploadDir(const std::string& job_id) const;
  // Removes the kept output of every job not in `kept` (a restart: jobs the store forgot).
  void RemoveOthers(const std::set<std::string>& kept);

  size_t waiters(const std::string& job_id) const;
  void Forget(const std::string& job_id);

 private:
  using CardKey = std::pair<uint32_t, uint32_t>;
  struct Progress {
    uint32_t attempt = 0;
    uint32_t try_no = 0;
    uint64_t sent[2] = {0, 0};  // bytes of stdout, stderr passed on
    bool any = false;           // something of this card was sent
  };
  struct Follower {
    std::shared_ptr<LogOutbox> outbox;
    std::optional<CardRef> card;  // nullopt: every card of the job
    std::map<CardKey, Progress> progress;
    std::set<CardKey> deferred;  // finished, their full output still on its way
    bool watching = false;       // counted in the watches
  };
  struct Pending {
    std::string worker;
    int remaining = 0;  // below zero: uploads that arrived before the finish report
  };

  std::filesystem::path PathOf(const std::string& job_id, CardRef card, bool err) const;
  bool UploadPending(const std::string& job_id, CardRef card) const;
  // Sends the rest of the card's output and its end; false (nothing sent) while its full output
  // is on its way. `quiet`: nothing at all for a card that said nothing.
  bool EndCard(const Job& job, Follower& f, CardRef card, bool quiet);
  void Push(Follower& f, const std::string& card, bool err, std::string_view data);
  // Sends what follows `sent` of one stream, from the kept file or the result's text.
  void SendRest(const Job& job, Follower& f, CardRef card, bool err, Progress& p);
  void Register(Job& job, std::shared_ptr<Follower> f);
  // Ends and drops the follower (or just drops it, if its client is gone).
  void Drop(Job& job, const std::shared_ptr<Follower>& f);
  // Drops the followers whose client went away, and ends those that are done.
  void Settle(Job& job);
  static constexpr uint32_t kWholeJob = UINT32_MAX;
  // Counts a follower of `stack` (kWholeJob: of every stack) in or out; with `notify`, tells the
  // workers: every stack of a new follower (on), each stack nobody follows any more (off).
  void SetWatch(Job& job, uint32_t stack, int delta, bool notify);

  const LamportClock& clock_;
  std::filesystem::path dir_;
  WatchFn watch_;
  std::map<std::string, std::vector<std::shared_ptr<Follower>>> followers_;  // by job id
  std::map<std::string, std::map<uint32_t, int>> stack_watches_;  // job -> stack -> followers
  std::map<std::string, int> job_watches_;                        // job -> whole-job followers
  std::map<std::string, std::map<CardKey, Pending>> uploads_;     // job -> card -> pending
};

}  // namespace hollerith::coordinator
