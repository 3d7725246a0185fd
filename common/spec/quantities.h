// Quantities people write in specs and on command lines: durations ("30s"), sizes ("2GiB") and
// whole numbers, parsed with errors a person can act on, and printed back the same way. Part of
// the job model's library (hollerith_job), so that daemons which do not link the spec parser
// (a worker's --default-limits) read them exactly as a spec does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/spec/job.h"

namespace hollerith {

// `s` in single quotes for an error message: control bytes escaped, long strings shortened.
std::string QuoteForMessage(std::string_view s);

// Parses "500ms", "30s", "5m", "1h", "1.5s"; a bare number is rejected (units are required).
Result<Duration> ParseDuration(std::string_view text);
// "90s", "1500ms", "2h": the largest unit that divides it exactly.
std::string FormatDuration(Duration d);

// Parses a byte size: a whole number and a unit, B, KiB, MiB, GiB, TiB (powers of 1024) or KB,
// MB, GB, TB (powers of 1000), e.g. "2GiB", "512MiB", "100000B". Zero is rejected.
Result<uint64_t> ParseSize(std::string_view text);
// "2GiB", "1536KiB", "100B": the largest binary unit that divides it exactly.
std::string FormatSize(uint64_t bytes);

// A whole number from 1 to `max`.
Result<uint64_t> ParseCount(std::string_view text, uint64_t max);

}  // namespace hollerith
