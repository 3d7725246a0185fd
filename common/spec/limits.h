// Card limits as people write them: in a spec (`limits: {memory: 2GiB, cpu: 60s, files: 1024,
// processes: 256}`) and in a node's defaults (`--default-limits memory=4GiB,cpu=1h`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/spec/job.h"

namespace hollerith {

inline constexpr uint64_t kMaxLimitCount = 1u << 20;  // files, processes

enum class LimitKind { kMemory, kCpu, kFiles, kProcesses };

// The kind a key names ("memory", "cpu", "files", "processes"), or false.
bool LimitKindOf(std::string_view key, LimitKind* kind);
// Sets one limit of `limits` from its text ("2GiB", "60s", "1024"); the error names the key.
Status SetLimit(CardLimits& limits, LimitKind kind, std::string_view value);
// "memory=4GiB,cpu=1h,files=4096,processes=1024" (any subset; empty text is no limits).
Result<CardLimits> ParseLimitList(std::string_view text);
// The same form back, only the limits that are set ("" when none).
std::string FormatLimitList(const CardLimits& limits);
// `card`'s limits, each unset one taken from `defaults`.
CardLimits WithDefaults(const CardLimits& card, const CardLimits& defaults);

}  // namespace hollerith
