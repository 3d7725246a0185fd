// Family common/trace/: owns the trace's file format (chrome_trace.h) and its check (verify.h).
// May use: core's trace record, the job model, base. Must not run or schedule anything.
//
// Checks that a trace proves the job ran in an order a local, one-card-at-a-time run could have
// produced: for every happens-before edge u -> v of the spec (stack order, `after`/`inputs` edges,
// every card -> combine) each start of v has VC(finish u) < VC(start v); every cross-stack edge
// went through a recorded release; and sorting by (Lamport, node) puts u's finish before v's start.
#pragma once

#include "common/base/status.h"
#include "common/core/trace.h"
#include "common/spec/job.h"

namespace hollerith {

struct VerifyReport {
  size_t events = 0;
  size_t edges_checked = 0;
};

// Ok with counts, or an error naming the first violated edge.
Result<VerifyReport> VerifyTrace(const JobSpec& job, const Trace& trace);

}  // namespace hollerith
