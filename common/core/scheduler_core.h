// The scheduler core (family common/core/: owns the job's state, its clocks and trace record; may
// use the job model and the messages; must not do I/O, start threads, or read a clock of its own:
// wall time comes from an injected TimeSource).
//
// The scheduler core: a pure, single-threaded state machine with no I/O. It tracks one job: which
// cards are pending, running, done; which stacks are placed where (with fencing attempts); it
// releases each cross-stack dependency the moment its card finishes, decides retries with
// exponential backoff, skips the dependents of a failed card while independent stacks go on, places
// the combine stack last, and records the job's trace. Events go in through the methods; what the
// wiring must do comes out of TakeActions(). The same class runs in `hollerith run --local` and in
// the coordinator.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/base/status.h"
#include "common/base/time_source.h"
#include "common/cache/cache_key.h"
#include "common/core/clock.h"
#include "common/core/messages.h"
#include "common/core/trace.h"
#include "common/spec/job.h"

namespace hollerith {

struct RetryPolicy {
  Duration base{200};  // delay before the first retry; doubles each time
  Duration max{10000};
};

enum class CardState : uint8_t { kPending, kRunning, kSucceeded, kFailed, kSkipped };
enum class JobState : uint8_t { kRunning, kSucceeded, kFailed, kCancelled };
const char* CardStateName(CardState s);
const char* JobStateName(JobState s);

// What a card said and left: kept apart from CardRecord, and only for cards that have any (a
// million-card job of built-ins has none), so a record stays small.
struct CardOutput {
  std::string stdout_text;  // at most kResultStdoutBound bytes
  bool stdout_truncated = false;
  std::string stderr_text;  // at most kResultStdoutBound bytes
  std::string error;
  OutputDigests outputs;
  std::string cached_from;  // a cache hit: the job whose run produced this result
};

// What the job remembers of a card: the result its dependents saw.
struct CardRecord {
  CardState state = CardState::kPending;
  uint8_t losses = 0;  // times its node was lost while it ran (or could run)
  uint32_t node = 0;   // index into trace().nodes()
  int exit_code = 0;
  uint32_t tries = 0;  // times started, over all attempts
  int64_t duration_ms = 0;
  VectorClock finish_vc;
  std::unique_ptr<CardOutput> output;  // null: no output, no error, no files

  const CardOutput& out() const { return output ? *output : kNoOutput; }
  CardOutput& mutable_out() {
    if (!output) output = std::make_unique<CardOutput>();
    return *output;
  }
  static const CardOutput kNoOutput;
};

// The wiring must find a node for the stack, then call StackPlaced.
struct PlaceStackAction {
  uint32_t stack = 0;
  uint32_t attempt = 0;
};
// The source card of run-time matrix stack `stack` succeeded: the wiring reads the list it wrote
// (its output `path`, stored as `digest`), expands it (ExpandFanOut, common/spec/fanout.h) and
// gives the result to FanOutListed.
struct FanOutAction {
  uint32_t stack = 0;
  std::string path;
  std::string digest;
};
// A cacheable card's key is known (the inputs of the cards up to it in its stack are published):
// the wiring looks it up in the result cache and, on a hit, tells the node holding the stack
// (CachedCard) before it carries out the next action: the stack's assignment when
// `for_assign` (the hit goes into AssignStackMsg::cached), else a CacheHitMsg sent before the
// release that follows. A miss needs nothing sent.
struct CacheQueryAction {
  CardRef card;
  uint32_t attempt = 0;
  bool for_assign = false;
  const CacheKeyParts* key = nullptr;  // the core's (cache_key(card)): valid while the core lives
};
struct JobFinishedAction {
  JobState state = JobState::kSucceeded;
  std::string reason;
};
using CoreAction = std::variant<PlaceStackAction, AssignStackMsg, ReleaseMsg, RetryMsg, SkipMsg,
                                FanOutAction, CacheQueryAction, JobFinishedAction>;

class SchedulerCore {
 public:
  // `time` stamps trace events with wall time (for people; no decision reads it).
  SchedulerCore(std::shared_ptr<const JobSpec> job, LamportClock& clock, const TimeSource& time,
                std::string self_node, RetryPolicy retry = {});

  // Events in. Reports from a stale attempt are dropped (the methods return false).
  void Start();
  bool StackPlaced(uint32_t stack, uint32_t attempt, const std::string& node);
  bool CardStarted(const CardStartedMsg& msg);
  bool CardFinished(const CardFinishedMsg& msg);
  // The node holding the stack is gone: re-place it from its first card with attempt+1. A card
  // that was running (or runnable: its start may not have been reported yet) each of the
  // kQuarantineLosses times its node was lost (a card that kills its worker) fails the job
  // instead: it is quarantined, not walked through every worker. A loss of kCoordinatorRestart
  // is nobody's fault and does not count.
  enum class LossCause : uint8_t { kNodeLost, kCoordinatorRestart };
  static constexpr uint8_t kQuarantineLosses = 3;
  void StackLost(uint32_t stack, const std::string& why, LossCause cause = LossCause::kNodeLost);
  void Cancel(const std::string& reason);
  // The list of run-time matrix stack `stack` was read (`list`, kept in the trace so that verify
  // can make the same stacks) and made `expanded`: the job with the instances (ExpandFanOut), or
  // why it could not, which fails the stacks that wait for the instances. The instances are
  // placed, and so are the stacks that waited for them and wait for no other. False if the
  // core did not ask for it (FanOutAction) or the job has ended.
  bool FanOutListed(uint32_t stack, const Result<std::shared_ptr<const JobSpec>>& expanded,
                    const std::string& list);
  // After a replay (a coordinator restart): asks again (FanOutAction) for each list whose card
  // succeeded but that was never given to FanOutListed.
  void AskForPendingLists();
  // After a restart (replaying a journal discards the actions): asks again for the placement of
  // every stack that was waiting for one (lost, or never placed) and is not over.
  void AskForPlacements();

  // Reconciliation after a lost stream (a coordinator restart): how a card event a node reports
  // again stands against what this core recorded of the stack's current attempt. Each stack's
  // events are totally ordered (cards in order, tries in order, a start before its finish), so
  // the core keeps the last one it took, and a report at or before it is a duplicate (dropped by
  // CardStarted/CardFinished too: the same finish twice is recorded once and releases once).
  enum class Standing : uint8_t {
    kDuplicate,  // recorded already
    kNext,       // continues the record: CardStarted/CardFinished will take it
    kBreak,      // a stale attempt, or a gap: events the record lacks came before it
  };
  Standing Classify(const CardStartedMsg& msg) const;
  Standing Classify(const CardFinishedMsg& msg) const;
  // What the node holding `stack` must be told again when it reclaims the stack after a lost
  // stream: a release for every cross-stack dependency already satisfied, the skip of its skipped
  // cards, the retry a card waits for. Nothing is traced (they were when first decided); the node
  // ignores what it already had.
  std::vector<CoreAction> Resend(uint32_t stack) const;

  // Actions out, in the order they must be carried out.
  std::vector<CoreAction> TakeActions() { return std::exchange(actions_, {}); }
  // Room for `more` actions at once: a burst (a job's 100,000 placements, a combine's 10,000
  // releases, the assignments of 100,000 placements) grows the vector once instead of moving
  // every action at each doubling.
  void ReserveActions(size_t more) {
    if (actions_.size() + more <= actions_.capacity()) return;
    actions_.reserve(std::max(actions_.size() + more, 2 * actions_.capacity()));
  }

  const JobSpec& job() const { return *job_; }
  std::shared_ptr<const JobSpec> job_ptr() const { return job_; }
  JobState state() const { return state_; }
  const std::string& reason() const { return reason_; }
  const CardRecord& record(CardRef r) const { return records_[index(r)]; }
  uint32_t attempt(uint32_t stack) const { return stacks_[stack].attempt; }
  const std::string& node_of(uint32_t stack) const { return stacks_[stack].node; }
  size_t finished_cards(uint32_t stack) const { return stacks_[stack].terminal; }
  struct StackCounts {
    size_t succeeded = 0, failed = 0, skipped = 0, running = 0;
  };
  // Kept up to date on every event, so progress never needs a scan over the stack's cards.
  const StackCounts& counts(uint32_t stack) const { return stacks_[stack].counts; }
  const Trace& trace() const { return trace_; }
  // The cache key of a cacheable card, once the inputs of the cards up to it are published;
  // null otherwise (not cacheable: `cache:` unset for it or for a card before it in its stack).
  const CacheKeyParts* cache_key(CardRef r) const {
    const auto& keys = stacks_[r.stack].cache_keys;
    return r.card < keys.size() ? &keys[r.card] : nullptr;
  }
  // The run-time matrix stacks whose instances `stack` waits for before it is placed (none
  // when it waits for nothing of the kind).
  std::vector<uint32_t> WaitsForFanOuts(uint32_t stack) const;
  uint64_t lamport() const { return clock_->now(); }
  // Replay (the coordinator's journal) rebuilds a core on a private clock, then hands it the shared
  // one; nothing else should need this.
  void RebindClock(LamportClock& clock) { clock_ = &clock; }

 private:
  struct StackState {
    uint32_t attempt = 1;
    std::string node;  // empty while not placed
    size_t terminal = 0;
    StackCounts counts;
    VectorClock known;      // what the core has learnt of this stack's clock
    uint64_t progress = 0;  // ProgressKey of the last card event taken in this attempt
    // Of its first cards, as far as they are known. Its room is reserved for every card at once:
    // CacheQueryActions point into it.
    std::vector<CacheKeyParts> cache_keys;
  };
  // Orders a stack's card events within one attempt: (card, try, start < finish).
  static uint64_t ProgressKey(uint32_t card, uint32_t try_no, bool finish) {
    return (uint64_t{card} << 32) | (uint64_t{try_no} << 1) | (finish ? 1 : 0);
  }
  Standing ClassifyEvent(CardRef r, uint32_t attempt, uint32_t try_no, bool finish) const;
  // Takes the event's place in the stack's order; false for a duplicate.
  bool Advance(CardRef r, uint32_t try_no, bool finish);

  size_t index(CardRef r) const { return offsets_[r.stack] + r.card; }
  void Emit(CoreAction a) { actions_.push_back(std::move(a)); }
  TraceEvent Stamp(EventKind kind, CardRef card, uint32_t attempt, uint64_t lamport,
                   const std::string& node);
  void SetTerminal(CardRef r, CardState s);
  void Release(CardRef from, CardRef to);
  // Computes the cache keys of the stack's cards that can have one now; emits a CacheQueryAction
  // for each when the stack is placed and `emit`.
  void ExtendCacheKeys(uint32_t stack, bool emit);
  // Whether any card of the job has `cache:` (else nothing here costs a thing).
  static bool AnyCacheable(const JobSpec& job);
  void FailPermanently(CardRef r, const std::string& reason);
  void SkipDependents(CardRef failed, const std::string& reason);
  // Skips `cards` (those not ended yet) and everything that waits on them.
  void SkipCards(const std::vector<CardRef>& cards, const std::string& reason);
  void SkipFrom(std::deque<CardRef> ended, std::vector<CardRef> to_visit,
                const std::string& reason);
  // The stacks that waited for template `stack`'s instances wait for them no more: placed, if
  // they wait for no other template.
  void ReleaseConsumers(uint32_t stack);
  // `source` succeeded: asks for the list of each template it makes (FanOutAction).
  void AskForLists(CardRef source);
  // Run-time matrix stacks: which stacks wait for which template's instances.
  void IndexFanOuts();
  // Template `stack` will make no instances (its source failed, or a card it waits on did): the
  // cards that wait for them are skipped with `reason`.
  void AbandonFanOut(uint32_t stack, std::vector<CardRef>& skip);
  bool IsOpenTemplate(uint32_t stack) const {
    return job_->stacks[stack].is_template() && !job_->stacks[stack].fanout->expanded &&
           !fanout_abandoned_[stack];
  }
  void MaybePlaceCombine();
  void MaybeFinish();

  std::shared_ptr<const JobSpec> job_;
  DependentsIndex dependents_;
  LamportClock* clock_;
  const TimeSource& time_;
  std::string self_node_;
  RetryPolicy retry_;
  std::vector<size_t> offsets_;
  std::vector<CardRecord> records_;
  std::vector<StackState> stacks_;
  size_t terminal_ = 0;
  size_t total_ = 0;
  size_t user_stacks_done_ = 0;
  size_t user_stacks_ = 0;  // stacks that are neither a template nor the combine stack
  bool combine_placed_ = false;
  // Run-time matrix stacks: templates still to make their instances, and for each stack the
  // number of templates whose instances it waits for (it is placed when none is left).
  size_t open_fanouts_ = 0;
  std::vector<uint32_t> waits_for_fanouts_;
  std::map<uint32_t, std::vector<uint32_t>> fanout_consumers_;  // template -> waiting stacks
  std::vector<bool> fanout_abandoned_;
  JobState state_ = JobState::kRunning;
  std::string reason_;
  bool any_cacheable_ = false;
  Trace trace_;
  std::vector<CoreAction> actions_;
};

}  // namespace hollerith
