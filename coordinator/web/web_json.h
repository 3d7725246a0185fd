// The JSON the web page reads, made from what the coordinator's API returns. Pure functions: the
// shapes are documented here and in docs/observability.md (web view).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "hollerith.pb.h"

namespace hollerith::web {

// {"id", "name", "state", "reason", "cards_done", "cards_total", "submitted_wall_us"}
nlohmann::json JobSummaryJson(const v1::JobStatus& job);
// {"jobs": [summary...]}, newest first.
nlohmann::json JobListJson(const std::vector<v1::JobStatus>& jobs);
// The summary plus "stacks" (progress of each: name, state, node, done, total, is_combine,
// waiting), "graph" (null when the job is too large to draw; else stacks of cards: id, name
// "STACK.CARD", run, after ["STACK.CARD"], inputs [{from, path}]) and "cards" ({"STACK.CARD":
// {state, exit_code, node, attempts, duration_ms, stdout_truncated, error?}}: the result document
// without stdout, which the card's log endpoint serves).
nlohmann::json JobDetailJson(const v1::JobStatus& job);
// One event of the job's stream: {"lamport", "kind", "stack", "card", "node", "attempt",
// "exit_code", "detail", "wall_us", "job_state"?, "stack_status"?}.
nlohmann::json EventJson(const v1::JobEvent& event);
// {"workers": [{"name", "slots", "stacks", "version"}]}
nlohmann::json WorkerListJson(const std::vector<v1::WorkerInfo>& workers);

}  // namespace hollerith::web
