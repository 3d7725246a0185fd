// The job's event history: every event with wall time, node, attempt, Lamport time and the stack's
// vector clock, as the scheduler core records it. Its file format (Chrome Trace Event JSON) and
// its check (`verify`) live in common/trace/.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/core/clock.h"
#include "common/spec/job.h"

namespace hollerith {

enum class EventKind : uint8_t {
  kJobSubmitted,
  kStackPlaced,
  kCardStarted,
  kCardFinished,  // succeeded
  kCardFailed,    // this try failed (a retry may follow)
  kCardRetry,     // the core decided to retry
  kCardSkipped,
  kRelease,  // dependency `card` released to `target`
  kStackLost,
  kJobFinished,
  kFanOut,      // run-time matrix stack `card.stack` got its list (detail; exit_code 1: the error)
  kCardCached,  // succeeded from the result cache, not run (detail: the job that produced it)
};

const char* EventKindName(EventKind kind);
bool ParseEventKind(const std::string& name, EventKind* kind);

struct TraceEvent {  // 80 bytes: a million-card job keeps two million of these
  EventKind kind = EventKind::kJobSubmitted;
  uint32_t node = 0;  // index into Trace::nodes
  CardRef card;       // the card (or the stack, for stack events); the released card for kRelease
  CardRef target;     // kRelease: the card that waited on `card`
  uint32_t attempt = 0;
  uint32_t try_no = 0;
  int exit_code = 0;
  uint32_t detail = 0;  // failure reason etc.: index into Trace's details, 0 (empty) for most
  int64_t wall_us = 0;
  uint64_t lamport = 0;
  VectorClock vc;
};
static_assert(sizeof(void*) != 8 || sizeof(TraceEvent) == 80);

class Trace {
 public:
  // The index of `node` in nodes(), added if new: a hash lookup, since a job placed across
  // 10,000 workers stamps every one of its events with one of 10,000 names.
  uint32_t NodeIndex(const std::string& node);
  // Stores a detail text for an event; 0 (no allocation) for an empty one.
  uint32_t Detail(std::string text);
  const std::string& detail(const TraceEvent& e) const { return details_[e.detail]; }
  const std::vector<std::string>& nodes() const { return nodes_; }
  void Add(TraceEvent event) { events_.push_back(std::move(event)); }
  // Room for `n` events: a growing vector of a million-card job's events would hold up to twice
  // what it needs, plus the old copy while it moves.
  void Reserve(size_t n) { events_.reserve(n); }
  const std::vector<TraceEvent>& events() const { return events_; }
  std::vector<TraceEvent>& mutable_events() { return events_; }

 private:
  std::vector<std::string> nodes_;
  std::unordered_map<std::string, uint32_t> node_index_;  // name -> index into nodes_
  std::vector<std::string> details_{std::string()};
  std::vector<TraceEvent> events_;
};

// Name of a stack in clocks and traces: its id, or "@combine" for the combine stack.
std::string StackDisplayName(const JobSpec& job, uint32_t stack);

}  // namespace hollerith
