#include "coordinator/web/cluster_json.h"

#include "common/spec/resources.h"
#include "proto/wire.h"

namespace hollerith::web {
namespace {

std::string Text(const v1::Resources& r) {
  auto resources = wire::FromProto(r);
  return resources.ok() ? FormatResources(*resources) : "";
}

nlohmann::json WorkerJson(const v1::WorkerInfo& w) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& kv : w.labels()) labels[kv.key()] = kv.value();
  nlohmann::json placed = nlohmann::json::array();
  for (const auto& p : w.placed_stacks()) {
    placed.push_back({{"job_id", p.job_id()}, {"job_name", p.job_name()}, {"stack", p.stack()}});
  }
  return {{"name", w.name()},
          {"labels", std::move(labels)},
          {"slots", w.slots()},
          {"running_cards", w.running_cards()},
          {"stacks", w.stacks()},
          {"capacity", Text(w.capacity())},
          {"placed", Text(w.placed())},
          {"version", w.version()},
          {"peer", w.peer()},
          {"connected_wall_us", w.connected_wall_us()},
          {"placed_stacks", std::move(placed)}};
}

nlohmann::json TenantJson(const v1::TenantInfo& t) {
  return {{"name", t.name()},
          {"weight", t.weight()},
          {"share", t.share()},
          {"quota", t.quota_kinds().empty() ? "" : Text(t.quota())},
          {"max_stacks", t.max_stacks()},
          {"placed", Text(t.placed())},
          {"in_use", Text(t.in_use())},
          {"running_stacks", t.running_stacks()},
          {"waiting_stacks", t.waiting_stacks()}};
}

}  // namespace

nlohmann::json ClusterJson(const std::vector<v1::WorkerInfo>& workers,
                           const std::string& coordinator_version,
                           const v1::ListTenantsResponse& tenants,
                           const std::vector<WaitingStack>& waiting) {
  nlohmann::json out = {{"workers", nlohmann::json::array()},
                        {"tenants", nlohmann::json::array()},
                        {"waiting", nlohmann::json::array()},
                        {"capacity", Text(tenants.capacity())},
                        {"coordinator_version", coordinator_version}};
  for (const auto& w : workers) out["workers"].push_back(WorkerJson(w));
  for (const auto& t : tenants.tenants()) out["tenants"].push_back(TenantJson(t));
  for (const auto& s : waiting) {
    out["waiting"].push_back(
        {{"job_id", s.job_id}, {"job_name", s.job_name}, {"stack", s.stack}, {"reason", s.reason}});
  }
  return out;
}

std::vector<WaitingStack> WaitingStacks(const v1::JobStatus& job) {
  std::vector<WaitingStack> out;
  for (const auto& s : job.stacks()) {
    if (s.waiting().empty() || s.state() == "running" || s.state() == "done") continue;
    out.push_back({job.job_id(), job.name(), s.name(), s.waiting()});
  }
  return out;
}

}  // namespace hollerith::web
