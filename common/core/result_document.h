// The job's result document, the same for `run --local --json` and the cluster's `--json`:
// {"job", "state", "reason", "cards": {"STACK.CARD": {"state", "exit_code", "stdout",
// "stdout_truncated", "attempts", "node", "duration_ms", "outputs": {"path": "sha256"}}}}
// (the combine card is keyed "combine"). stdout is bounded by kResultStdoutBound. A card taken
// from the result cache also has "cached_from" (the job whose run produced it), and a cacheable
// card "cache": what its lookup found ("hit: job J", "miss: command changed since job J", ...).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/core/scheduler_core.h"

namespace hollerith {

// What became of each cacheable card's cache lookup (the wiring keeps it: the core does not look).
using CacheNotes = std::map<CardRef, std::string>;

nlohmann::json ResultDocument(const SchedulerCore& core, const CacheNotes* notes = nullptr);
// One card's entry of the result document.
nlohmann::json ResultDocumentCard(const SchedulerCore& core, CardRef card,
                                  const CacheNotes* notes = nullptr);

}  // namespace hollerith
