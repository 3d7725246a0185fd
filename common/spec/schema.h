// The job-spec schema: turns a DocTree into a JobSpec, checking keys, ids, commands, durations,
// output paths and references, and synthesising the combine stack. Cycles are checked separately
// (spec_cycles.h).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/spec/document.h"
#include "common/spec/job.h"

namespace hollerith {

// Reads on past each problem (skipping the bad key, item or card) and, if there were any, throws
// them all as SpecErrors, keeping the `max_errors` first by position. Throws SpecError only when
// nothing can be read (the document is not a map).
JobSpec ReadJobSpec(const DocTree& doc, size_t max_errors);

// The keys a spec may have at each level (the schema's, in the order it lists them in errors,
// then those expansion consumes: templates, matrix, uses, with); the combine card takes a subset
// of a card's. For references of the format (`hollerith help spec`).
struct SpecKeys {
  std::vector<std::string_view> job;
  std::vector<std::string_view> stack;
  std::vector<std::string_view> card;
  std::vector<std::string_view> combine;
  std::vector<std::string_view> template_keys;  // an entry of `templates:`
};
const SpecKeys& AcceptedSpecKeys();

}  // namespace hollerith
