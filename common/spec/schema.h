// The job-spec schema: turns a DocTree into a JobSpec, checking keys, ids, commands, durations,
// output paths and references, and synthesising the combine stack. Cycles are checked separately
// (spec_cycles.h).
#pragma once

#include <cstddef>

#include "common/spec/document.h"
#include "common/spec/job.h"

namespace hollerith {

// Reads on past each problem (skipping the bad key, item or card) and, if there were any, throws
// them all as SpecErrors, keeping the `max_errors` first by position. Throws SpecError only when
// nothing can be read (the document is not a map).
JobSpec ReadJobSpec(const DocTree& doc, size_t max_errors);

}  // namespace hollerith
