// The job's result document, the same for `run --local --json` and the cluster's `--json`:
// {"job", "state", "reason", "cards": {"STACK.CARD": {"state", "exit_code", "stdout",
// "stdout_truncated", "attempts", "node", "duration_ms", "outputs": {"path": "sha256"}}}}
// (the combine card is keyed "combine"). stdout is bounded by kResultStdoutBound.
#pragma once

#include <nlohmann/json.hpp>

#include "common/core/scheduler_core.h"

namespace hollerith {

nlohmann::json ResultDocument(const SchedulerCore& core);
// One card's entry of the result document.
nlohmann::json ResultDocumentCard(const SchedulerCore& core, CardRef card);

}  // namespace hollerith
