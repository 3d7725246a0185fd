// The cluster page's JSON (GET /api/cluster), made from what the coordinator's API returns: its
// workers, the tenants' shares and quotas, and why waiting stacks wait. Pure functions; the shape
// is documented in docs/observability.md (web view).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "hollerith.pb.h"

namespace hollerith::web {

// A stack that is not placed, and why (the words of `hollerith status`).
struct WaitingStack {
  std::string job_id;
  std::string job_name;
  std::string stack;
  std::string reason;
};

// {"workers": [{"name", "labels": {k: v}, "slots", "running_cards", "stacks", "capacity",
// "placed" (what its placed stacks request; resources as text: "cpu=2,memory=4GiB"), "version",
// "peer",
// "connected_wall_us", "placed_stacks": [{"job_id", "job_name", "stack"}]}], "capacity",
// "tenants": [{"name", "weight", "share", "quota" (text, "" without one), "max_stacks",
// "placed", "in_use", "running_stacks", "waiting_stacks"}], "waiting": [{"job_id", "job_name",
// "stack", "reason"}], "coordinator_version"}
nlohmann::json ClusterJson(const std::vector<v1::WorkerInfo>& workers,
                           const std::string& coordinator_version,
                           const v1::ListTenantsResponse& tenants,
                           const std::vector<WaitingStack>& waiting);
// The stacks of `job` that wait, with their reasons.
std::vector<WaitingStack> WaitingStacks(const v1::JobStatus& job);

}  // namespace hollerith::web
