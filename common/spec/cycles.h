// Finds a dependency cycle among the cards of a job, over the happens-before edges: stack order
// (card k before card k+1), `after` entries and input producers (producer before consumer).
// Iterative depth-first search: a million cards in one stack do not grow the call stack.
#pragma once

#include <string>
#include <vector>

#include "common/spec/job.h"

namespace hollerith {

// Returns an empty vector when the job is acyclic. Otherwise one cycle in execution order with
// its first card repeated at the end: {A.sum, B.double, A.fetch, A.sum} reads "B.double waits on
// A.sum, A.fetch waits on B.double, A.sum waits on A.fetch". The search starts from cards in file
// order and follows "waits on" edges (stack predecessor first, then `after`, then inputs); the
// cycle is listed from the card at which the search closed it.
std::vector<CardRef> FindDependencyCycle(const JobSpec& job);

// "A.a -> B.b -> A.a"; a long cycle (say, through a million-card stack) is shortened in the middle.
std::string CyclePath(const JobSpec& job, const std::vector<CardRef>& cycle);

}  // namespace hollerith
