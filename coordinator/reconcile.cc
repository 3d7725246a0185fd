// Reconciliation after a lost stream (a coordinator restart, a worker's stream that broke): a
// (re)connecting worker's hello claims the stacks it kept running (Hello.held) and replays the
// card events of those stacks that the coordinator may not have recorded. The coordinator keeps a
// claimed stack running under its attempt when the record agrees (same attempt, placed on that
// worker, held by it before), records each replayed event once (the core drops what it has), and
// tells the worker to drop every claim it rejects. After a restart, stacks nobody claims within
// the claim window are re-placed with the next attempt. Every decision that changes a job goes
// through Input, so a crash in the middle of it recovers like any other.
#include <spdlog/spdlog.h>

#include <map>

#include "coordinator/coordinator.h"
#include "proto/wire.h"

namespace hollerith::coordinator {
namespace {

// Rejected claims logged one by one per hello; the rest are counted in its summary line.
constexpr int kLoggedDrops = 8;

void AddDrop(v1::CoordinatorMessage& m, const std::string& job, uint32_t stack, uint32_t attempt,
             const std::string& why) {
  auto* d = m.add_drops();
  d->set_job_id(job);
  d->set_stack(stack);
  d->set_attempt(attempt);
  d->set_reason(why);
}

}  // namespace

void Coordinator::Reconcile(const std::shared_ptr<WorkerLink>& w, const v1::Hello& hello,
                            const std::set<StackKey>& from_old, v1::CoordinatorMessage& welcome) {
  int dropped = 0;
  auto log_drop = [&](const std::string& job, uint32_t stack, uint32_t attempt,
                      const std::string& why) {
    if (++dropped > kLoggedDrops) return;
    spdlog::warn("worker {} claims stack {} of job {} (attempt {}): rejected, {}; it must drop it",
                 w->name, stack, job, attempt, why);
  };
  // 1. Judge each claim against the record.
  std::map<StackKey, const v1::HeldStack*> kept;
  std::set<Job*> touched;
  for (const auto& h : hello.held()) {
    const StackKey key{h.job_id(), h.stack()};
    std::string why;
    auto it = jobs_.find(h.job_id());
    const SchedulerCore* core = it == jobs_.end() ? nullptr : it->second->core.get();
    if (!core) {
      why = "the job does not exist";
    } else if (h.stack() >= core->job().stacks.size()) {
      why = "the job has no such stack";
    } else if (core->state() != JobState::kRunning) {
      why = "the job is over";
    } else if (core->attempt(h.stack()) != h.attempt()) {
      why = "a stale attempt: the stack was re-placed with attempt " +
            std::to_string(core->attempt(h.stack()));
    } else if (core->node_of(h.stack()) != w->name) {
      why = core->node_of(h.stack()).empty() ? "the stack waits to be re-placed"
                                             : "the stack is placed on " + core->node_of(h.stack());
    } else {
      const bool complete =
          core->finished_cards(h.stack()) == core->job().stacks[h.stack()].cards.size();
      if (!unclaimed_.count(key) && !from_old.count(key) && !(h.ended() && complete)) {
        why = "no earlier session of this worker holds it";
      }
      for (const auto& from : h.released_from()) {
        const CardRef r{from.stack(), from.card()};
        if (!why.empty()) break;
        if (r.stack >= core->job().stacks.size() ||
            r.card >= core->job().stacks[r.stack].cards.size() ||
            core->record(r).state != CardState::kSucceeded) {
          why = "it was released by a card the coordinator has not recorded as done";
        }
      }
    }
    if (!why.empty()) {
      AddDrop(welcome, h.job_id(), h.stack(), h.attempt(), why);
      log_drop(h.job_id(), h.stack(), h.attempt(), why);
      // Taken from the previous session for this claim, yet not kept: lost with that session.
      if (from_old.count(key) && core && core->node_of(h.stack()) == w->name) {
        Input(*it->second, LostInput(h.stack(), "worker " + w->name + " lost its session"));
        touched.insert(it->second.get());
      }
      continue;
    }
    unclaimed_.erase(key);
    kept[key] = &h;
    if (!h.ended()) Charge(*w, *it->second, h.stack());
  }
  w->outbox->Push(std::move(welcome));  // first on the stream: whatever follows comes after it

  // 2. Stacks recovered as placed on this worker that it does not claim died with its old run.
  for (auto it = unclaimed_.begin(); it != unclaimed_.end();) {
    auto job = jobs_.find(it->first);
    if (job == jobs_.end() || job->second->core->node_of(it->second) != w->name) {
      ++it;
      continue;
    }
    Input(*job->second, LostInput(it->second, "worker " + w->name + " reconnected without it"));
    touched.insert(job->second.get());
    it = unclaimed_.erase(it);
  }

  // 3. The replayed events of the kept stacks: each continues the record, repeats it (dropped),
  //    or breaks it (events the record lacks came before: the claim cannot be trusted).
  std::set<StackKey> broken;
  size_t recorded = 0, duplicates = 0;
  std::map<const Job*, ReleaseIndex> releases;
  auto take = [&](const std::string& id, uint32_t stack) -> Job* {
    if (!kept.count({id, stack}) || broken.count({id, stack})) return nullptr;
    return jobs_.at(id).get();
  };
  auto admit = [&](Job& job, const v1::CoreInput& in) {
    const bool started = in.has_started();
    const uint32_t stack = started ? in.started().card().stack() : in.finished().card().stack();
    const uint32_t attempt = started ? in.started().attempt() : in.finished().attempt();
    const StackKey key{job.id, stack};
    if (attempt != kept.at(key)->attempt()) return false;  // an older run of the stack here
    const auto standing = started ? job.core->Classify(wire::FromProto(in.started(), w->name))
                                  : job.core->Classify(wire::FromProto(in.finished(), w->name));
    if (standing == SchedulerCore::Standing::kBreak ||
        (started && ReleasedAfter(job, {stack, in.started().card().card()}, attempt,
                                  in.started().lamport(), releases[&job]))) {
      broken.insert(key);
      return false;
    }
    ++(standing == SchedulerCore::Standing::kNext ? recorded : duplicates);
    return standing == SchedulerCore::Standing::kNext;
  };
  ApplyReports(*w, hello.started(), hello.finished(), take, touched, admit);

  // 4. A broken claim, or a stack that ended there while the record still misses some of its
  //    cards, is re-placed; the others are told again what they may have missed.
  size_t kept_running = 0;
  for (const auto& [key, h] : kept) {
    Job& job = *jobs_.at(key.first);
    const bool complete =
        job.core->finished_cards(key.second) == job.core->job().stacks[key.second].cards.size();
    if (!broken.count(key) && !(h->ended() && !complete)) {
      if (h->ended()) continue;
      ++kept_running;
      std::vector<CachedCard> unused;  // Resend asks no assignment's lookups
      for (const CoreAction& action : job.core->Resend(key.second)) {
        if (const auto* query = std::get_if<CacheQueryAction>(&action)) {
          LookUpCache(job, *query, unused);
        } else {
          Send(job, action);
        }
      }
      continue;
    }
    const std::string why = "its events do not continue what the coordinator recorded";
    log_drop(key.first, key.second, h->attempt(), why);
    Discharge(key);
    w->stacks.erase(key);
    w->outbox->Batch([&, &key = key, attempt = h->attempt()](v1::CoordinatorMessage& m) {
      AddDrop(m, key.first, key.second, attempt, why);
      m.set_lamport(clock_.now());
    });
    Input(job, LostInput(key.second, "worker " + w->name + "'s claim " + why,
                         /*coordinator_restart=*/true));
    touched.insert(&job);
  }
  for (Job* job : touched) ApplyCoreActions(*job);
  if (hello.held_size() > 0 || !touched.empty()) {
    spdlog::info(
        "worker {} claims {} stacks: {} keep running, {} rejected; {} card events recorded from "
        "its hello, {} already known",
        w->name, hello.held_size(), kept_running, dropped, recorded, duplicates);
  }
}

bool Coordinator::ReleasedAfter(const Job& job, CardRef card, uint32_t attempt, uint64_t lamport,
                                ReleaseIndex& index) const {
  // A start the worker made after a release an old coordinator sent and lost: the record's
  // release of the same dependency was made anew after a restart, later in Lamport time than
  // the start, so the ordering proof (finish < release < start) would not hold for it. The
  // release may have been made anew by any run since the lost one (the simulator found one made
  // by the run before last, which crashed too), so the whole record is searched, not only what
  // this run added.
  if (job.replayed_events == SIZE_MAX) return false;  // no restart, or the claims are closed
#ifdef HOLLERITH_PLANTED_BUG
  // The simulator's planted bug (tests/sim/planted/planted_bug_test.cc): such starts are kept.
  return false;
#endif
  // Each event is indexed once: the replayed events this claim applies may release anew too.
  const auto& events = job.core->trace().events();
  for (; index.indexed < events.size(); ++index.indexed) {
    const TraceEvent& e = events[index.indexed];
    if (e.kind != EventKind::kRelease) continue;
    uint64_t& latest = index.latest[{e.target.stack, e.target.card, e.attempt}];
    latest = std::max(latest, e.lamport);
  }
  auto it = index.latest.find({card.stack, card.card, attempt});
  return it != index.latest.end() && it->second >= lamport;
}

void Coordinator::ExpireClaims() {
  // The window is over: claims that come later are rejected anyway (their stacks re-placed).
  for (auto& [id, job] : jobs_) job->replayed_events = SIZE_MAX;
  if (unclaimed_.empty()) return;
  spdlog::warn(
      "{} stacks were not claimed within {} ms of the restart; re-placing them with the next "
      "attempt",
      unclaimed_.size(), claim_window().count());
  std::set<Job*> touched;
  for (const auto& [id, stack] : std::exchange(unclaimed_, {})) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second->core->state() != JobState::kRunning) continue;
    Input(*it->second, LostInput(stack, "nobody claimed it after the coordinator restarted",
                                 /*coordinator_restart=*/true));
    if (metrics_) metrics_->replacements->Increment();
    touched.insert(it->second.get());
  }
  for (Job* job : touched) ApplyCoreActions(*job);
}

}  // namespace hollerith::coordinator
