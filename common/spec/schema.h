// The job-spec schema: turns a DocTree into a JobSpec, checking keys, ids, commands, durations,
// output paths and references, and synthesising the combine stack. Cycles are checked separately
// (spec_cycles.h).
#pragma once

#include <string_view>
#include <vector>

#include "common/spec/document.h"
#include "common/spec/job.h"

namespace hollerith {

// Throws SpecError at the first problem, in document order (references are resolved after all
// stacks are read, again in document order).
JobSpec ReadJobSpec(const DocTree& doc);

// The keys the schema accepts at each level of a spec, in the order it lists them in errors; the
// combine card takes a subset of a card's. For references of the format (`hollerith help spec`).
struct SpecKeys {
  std::vector<std::string_view> job;
  std::vector<std::string_view> stack;
  std::vector<std::string_view> card;
  std::vector<std::string_view> combine;
};
const SpecKeys& AcceptedSpecKeys();

}  // namespace hollerith
