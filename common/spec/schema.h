// The job-spec schema: turns a DocTree into a JobSpec, checking keys, ids, commands, durations,
// output paths and references, and synthesising the combine stack. Cycles are checked separately
// (spec_cycles.h).
#pragma once

#include "common/spec/document.h"
#include "common/spec/job.h"

namespace hollerith {

// Throws SpecError at the first problem, in document order (references are resolved after all
// stacks are read, again in document order).
JobSpec ReadJobSpec(const DocTree& doc);

}  // namespace hollerith
