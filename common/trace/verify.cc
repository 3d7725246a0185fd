#include "common/trace/verify.h"

#include <map>
#include <tuple>
#include <unordered_map>

namespace hollerith {
namespace {

struct Position {
  uint64_t lamport;
  const std::string* node;
  bool operator<(const Position& o) const {
    return std::tie(lamport, *node) < std::tie(o.lamport, *o.node);
  }
};

}  // namespace

Result<VerifyReport> VerifyTrace(const JobSpec& job, const Trace& trace) {
  std::vector<size_t> offsets;
  size_t total = 0;
  for (const auto& s : job.stacks) {
    offsets.push_back(total);
    total += s.cards.size();
  }
  auto idx = [&](CardRef r) { return offsets[r.stack] + r.card; };
  // Successful finishes per card (one per attempt that completed it) and all starts.
  std::vector<std::vector<const TraceEvent*>> finishes(total), starts(total);
  std::unordered_map<uint64_t, const TraceEvent*> releases;  // (from, to) -> first release
  // (from, to, target attempt) -> its release: a re-placed stack gets each release again.
  std::map<std::pair<uint64_t, uint32_t>, const TraceEvent*> releases_by_attempt;
  auto pair_key = [&](CardRef from, CardRef to) {
    return (static_cast<uint64_t>(idx(from)) << 32) | static_cast<uint64_t>(idx(to));
  };
  for (const TraceEvent& e : trace.events()) {
    // A card taken from the result cache has a start and a finish like any other: the node
    // stamps both from what it received, so its edges are checked the same way.
    const bool finish = e.kind == EventKind::kCardFinished || e.kind == EventKind::kCardCached;
    const bool card_event =
        e.kind == EventKind::kCardStarted || finish || e.kind == EventKind::kRelease;
    if (card_event && (e.card.stack >= job.stacks.size() ||
                       e.card.card >= job.stacks[e.card.stack].cards.size())) {
      return Status::Error("trace names a card that is not in the spec");
    }
    if (e.kind == EventKind::kCardStarted) starts[idx(e.card)].push_back(&e);
    if (finish) finishes[idx(e.card)].push_back(&e);
    if (e.kind == EventKind::kRelease) {
      releases.try_emplace(pair_key(e.card, e.target), &e);
      releases_by_attempt.try_emplace({pair_key(e.card, e.target), e.attempt}, &e);
    }
  }
  const auto& nodes = trace.nodes();
  auto pos = [&](const TraceEvent* e) { return Position{e->lamport, &nodes.at(e->node)}; };
  auto describe = [&](const TraceEvent* e) {
    return std::string(EventKindName(e->kind)) + "@lamport " + std::to_string(e->lamport);
  };

  VerifyReport report;
  report.events = trace.events().size();
  for (uint32_t s = 0; s < job.stacks.size(); ++s) {
    for (uint32_t c = 0; c < job.stacks[s].cards.size(); ++c) {
      const CardRef v{s, c};
      for (const TraceEvent* start : starts[idx(v)]) {
        // Stack order: the previous card finished in the same attempt, before this start.
        if (c > 0) {
          const CardRef u{s, c - 1};
          const TraceEvent* fin = nullptr;
          for (const TraceEvent* f : finishes[idx(u)]) {
            if (f->attempt == start->attempt) fin = f;
          }
          const std::string edge = job.card_name(u) + " -> " + job.card_name(v);
          if (!fin) {
            return Status::Error("edge " + edge + " violated: " + job.card_name(v) +
                                 " started (attempt " + std::to_string(start->attempt) + ") but " +
                                 job.card_name(u) + " never finished in that attempt");
          }
          if (!fin->vc.HappenedBefore(start->vc)) {
            return Status::Error("edge " + edge + " violated: VC(finish " + job.card_name(u) +
                                 ") is not < VC(start " + job.card_name(v) + ")");
          }
          if (!(pos(fin) < pos(start))) {
            return Status::Error("edge " + edge + " violated: (Lamport, node) order puts " +
                                 describe(start) + " before " + describe(fin));
          }
          ++report.edges_checked;
        }
        // Cross-stack edges: released by the core after u finished, merged before v started.
        for (CardRef u : CrossStackDependencies(job, v)) {
          const std::string edge = job.card_name(u) + " -> " + job.card_name(v);
          if (finishes[idx(u)].empty()) {
            return Status::Error("edge " + edge + " violated: " + job.card_name(v) +
                                 " started but " + job.card_name(u) + " never finished");
          }
          // The release this start's attempt received (the first one, if it got none itself).
          const TraceEvent* release = nullptr;
          if (auto r = releases_by_attempt.find({pair_key(u, v), start->attempt});
              r != releases_by_attempt.end()) {
            release = r->second;
          } else if (auto first = releases.find(pair_key(u, v)); first != releases.end()) {
            release = first->second;
          }
          if (!release) {
            return Status::Error("edge " + edge + " violated: no release of " + job.card_name(u) +
                                 " to " + job.card_name(v) + " in the trace");
          }
          // The finish it carried: the one with its clock (a re-run of u's stack continues its
          // clock from the earlier attempts', so no two finishes share one).
          const TraceEvent* fin = nullptr;
          for (const TraceEvent* f : finishes[idx(u)]) {
            if (f->vc == release->vc) {
              fin = f;
              break;
            }
          }
          if (!fin) {
            return Status::Error("edge " + edge + " violated: the release of " + job.card_name(u) +
                                 " carries a clock no finish of it has");
          }
          if (!fin->vc.HappenedBefore(start->vc)) {
            return Status::Error("edge " + edge + " violated: VC(finish " + job.card_name(u) +
                                 ") is not < VC(start " + job.card_name(v) + ")");
          }
          if (!(pos(fin) < pos(release)) || !(pos(release) < pos(start))) {
            return Status::Error("edge " + edge + " violated: (Lamport, node) order does not put " +
                                 "finish < release < start");
          }
          ++report.edges_checked;
        }
      }
    }
  }
  return report;
}

}  // namespace hollerith
