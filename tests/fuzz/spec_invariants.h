// What every spec the parser accepts must satisfy, checked by the spec fuzz targets: references
// in range and acyclic in the direction of execution (every dependency of a card is a card that
// exists), a combine stack only last. A violation aborts, which libFuzzer reports as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "common/spec/job.h"

namespace hollerith::fuzz {

inline void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "spec invariant violated: %s\n", what);
  std::abort();
}

inline void CheckAcceptedSpec(const JobSpec& job) {
  Require(!job.stacks.empty(), "an accepted spec has a stack");
  for (size_t s = 0; s < job.stacks.size(); ++s) {
    const StackSpec& stack = job.stacks[s];
    Require(!stack.cards.empty(), "every stack has a card");
    Require(!stack.is_combine || s + 1 == job.stacks.size(), "combine is the last stack");
    for (const CardSpec& card : stack.cards) {
      Require(!card.id.empty(), "every card has an id");
      const int kinds =
          !card.shell.empty() + !card.argv().empty() + (card.builtin != BuiltinKind::kNone);
      Require(kinds == 1, "a card runs exactly one of shell, argv, builtin");
      Require(card.retries >= 0, "retries are not negative");
      Require(card.timeout.count() >= 0, "timeouts are not negative");
      for (const CardRef& r : card.after) {
        Require(r.stack < job.stacks.size() && r.card < job.stacks[r.stack].cards.size(),
                "after references an existing card");
        // Within the stack only an earlier card: it ran before anyway; a later one is a cycle.
        Require(r.stack != s || r.card < static_cast<uint32_t>(&card - stack.cards.data()),
                "after references another stack or an earlier card of its own");
      }
      for (const InputSpec& in : card.inputs) {
        Require(in.from.stack < job.stacks.size() &&
                    in.from.card < job.stacks[in.from.stack].cards.size(),
                "an input's producer exists");
        Require(!in.path.empty() && !in.dest.empty(), "inputs name a path");
      }
    }
  }
  // Names and the reverse index must be computable for every card.
  DependentsIndex index(job);
  for (uint32_t s = 0; s < job.stacks.size(); ++s) {
    for (uint32_t c = 0; c < job.stacks[s].cards.size(); ++c) {
      Require(!job.card_name({s, c}).empty(), "every card has a name");
      (void)index.dependency_count({s, c});
    }
  }
}

}  // namespace hollerith::fuzz
