// One job as the coordinator holds it: its scheduler core (the job's state, clocks and trace) and
// why each unplaced stack waits. Owned by the Coordinator; the publisher, the log server and the
// status views read it while they own the coordinator's state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/cache/card_cache.h"
#include "common/core/result_document.h"
#include "common/core/scheduler_core.h"
#include "coordinator/core_input.h"
#include "hollerith.pb.h"

namespace hollerith::coordinator {

class Placement;

struct Job {
  std::string id;
  std::string key;  // idempotency key; empty when none was given
  int64_t submitted_wall_us = 0;
  InputTime input_time;  // the core's wall time, set per input
  std::unique_ptr<SchedulerCore> core;
  std::map<uint32_t, std::string> waiting;  // stack -> why it is not placed
  std::string tenant;                       // whose share and quota it counts against
  // Recovered after a restart: how many trace events its journal's replay made. Until the claim
  // window closes, releases after them were recorded anew, from what reconnecting workers
  // replayed (reconcile.cc); SIZE_MAX otherwise.
  size_t replayed_events = SIZE_MAX;
  // The coordinator's books of the workers (why a placed stack may wait there); may be null.
  const Placement* placement = nullptr;
  CacheMode cache_mode = CacheMode::kOn;
  CacheNotes cache_notes;  // what each cacheable card's lookup found (not kept over a restart)
  // Whose entries it uses and keeps: its tenant's.
  CacheScope cache_scope() const { return {tenant, id, core->job().name, cache_mode}; }
};

// Largest job whose status carries the full result document (bigger ones: counts only).
inline constexpr size_t kResultJsonCardLimit = 200000;

// Largest job whose status can carry its graph (JobStatus.graph, for the web view).
inline constexpr size_t kGraphCardLimit = 20000;

// How much of a job FillJobStatus says: state and counts; also every stack's progress; also the
// result document (every card's result: most of the work on a large job).
enum class StatusDetail { kSummary, kStacks, kStacksAndResults };
void FillJobStatus(const Job& job, StatusDetail detail, v1::JobStatus* out);
// The job's stacks and cards as StackDefs without env values (what the web view draws), if the
// job has at most kGraphCardLimit cards.
void FillJobGraph(const Job& job, v1::JobStatus* out);
// One stack's progress now, filled in place (events carry one each: no temporary per event).
void FillStackStatus(const Job& job, uint32_t stack, v1::StackStatus* out);

}  // namespace hollerith::coordinator
