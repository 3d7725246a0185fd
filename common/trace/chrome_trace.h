// A job's trace as Chrome Trace Event JSON: opens in Perfetto / chrome://tracing as a timeline
// (clocks in each event's args) and is read back by `hollerith verify`.
#pragma once

#include <iosfwd>
#include <string>

#include "common/base/status.h"
#include "common/core/trace.h"

namespace hollerith {

// Chrome Trace Event JSON. Cards are B/E slices (pid = node, tid = stack); other events are
// instants. Every event's args carry kind, stack, card, attempt, try, node, lamport and vc.
void WriteChromeTrace(const JobSpec& job, const Trace& trace, std::ostream& out);
Status WriteChromeTraceFile(const JobSpec& job, const Trace& trace, const std::string& path);
// Reads a trace written by WriteChromeTrace, resolving names against `job`.
Result<Trace> ReadChromeTrace(const JobSpec& job, std::istream& in);
Result<Trace> ReadChromeTraceFile(const JobSpec& job, const std::string& path);

}  // namespace hollerith
