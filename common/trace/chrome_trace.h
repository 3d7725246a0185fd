// A job's trace as Chrome Trace Event JSON: opens in Perfetto / chrome://tracing as a timeline
// (clocks in each event's args) and is read back by `hollerith verify`.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

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

// Makes a run-time matrix stack's instances from the list a trace recorded (ExpandFanOut, which
// this family does not link: it reads no specs).
using FanOutExpander = std::function<Result<std::shared_ptr<const JobSpec>>(
    const JobSpec& job, uint32_t stack, std::string_view list)>;
struct TraceOfJob {
  Trace trace;
  std::shared_ptr<const JobSpec> job;  // with the run-time matrix stacks the trace recorded
};
// The same for a job with run-time matrix stacks: each `fan_out` event's list is expanded in the
// order the trace has them, so later events can name the instances.
Result<TraceOfJob> ReadChromeTraceFile(std::shared_ptr<const JobSpec> job, const std::string& path,
                                       const FanOutExpander& expand);
Result<TraceOfJob> ReadChromeTrace(std::shared_ptr<const JobSpec> job, std::istream& in,
                                   const FanOutExpander& expand);

}  // namespace hollerith
