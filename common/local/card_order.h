// The orders `hollerith explore` runs a job in: sequences of a job's cards that respect its
// happens-before (stack order, `after`, `inputs`, the combine card last), each made by Kahn's
// algorithm with a rule choosing among the cards ready at each step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/spec/job.h"

namespace hollerith {

enum class OrderKind : uint8_t {
  kParallel,        // no sequence: `run --local` as usual, every ready card at once
  kSerial,          // one card at a time, the first ready in declaration order
  kStacksReversed,  // one card at a time, the ready card of the last-declared stack first
  kStackDelayed,  // one card at a time in declaration order, one stack's cards as late as they can
  kRandom,        // one card at a time, a ready card chosen by a seeded std::mt19937
};

struct OrderPlan {
  OrderKind kind = OrderKind::kParallel;
  std::string delayed_stack;  // kStackDelayed: the stack's id
  uint64_t seed = 0;          // kRandom
  // For people: "parallel", "serial", "stacks reversed", "stack B delayed", "random 3".
  std::string label;
};

// The `count` orders of an exploration: parallel, serial, stacks reversed, then (while there
// are orders to fill) stacks delayed (about half of the rest, chosen by `seed` among the job's
// stacks) and random orders seeded from `seed`. The same job, count and seed give the same plans.
std::vector<OrderPlan> ExplorePlans(const JobSpec& job, size_t count, uint64_t seed);

// The cards that run of `job` (a run-time matrix template's are not; its instances', once the
// job has them, are) in the plan's order: a topological order of happens-before. A dependency on
// a template's card counts as one on the card whose output lists its instances, and an
// instance's first card comes after that card too. Empty for kParallel.
std::vector<CardRef> CardSequence(const JobSpec& job, const OrderPlan& plan);

// True when `sequence` names every card that runs of `job` once and puts each after everything
// it must wait for (its predecessor in its stack, its `after` and `inputs` producers). For tests
// and for checking a sequence read from elsewhere (a trace).
bool IsTopologicalOrder(const JobSpec& job, const std::vector<CardRef>& sequence);

}  // namespace hollerith
