// What `hollerith quota` shows: each tenant's weight, quota, what its stacks hold and run, how many
// wait, and its weighted dominant share of the cluster (Coordinator::ListTenants).
#include <algorithm>

#include "coordinator/coordinator.h"
#include "coordinator/metrics.h"
#include "proto/wire.h"

namespace hollerith::coordinator {
namespace {

// max over kinds of used / capacity (0 when the cluster has none of a kind it uses: such a
// tenant cannot run anything of it anyway).
double DominantShare(const Resources& used, const Resources& capacity) {
  double share = 0;
  for (const std::string& kind : KindsOf(used, {})) {
    const uint64_t have = AmountOf(capacity, kind);
    if (have > 0) {
      share =
          std::max(share, static_cast<double>(AmountOf(used, kind)) / static_cast<double>(have));
    }
  }
  return share;
}

}  // namespace

void Coordinator::ListTenants(v1::ListTenantsResponse* resp) {
  CheckOwner();
  FillTenants(resp);
  resp->set_lamport(clock_.Tick());
}

void Coordinator::FillTenants(v1::ListTenantsResponse* resp) {
  struct View {
    Resources in_use;
    uint64_t running = 0;
    uint64_t waiting = 0;
  };
  std::map<std::string, View> views;
  for (const auto& [name, policy] : tenants_.named()) views[name];
  for (const auto& [name, books] : tenant_books_) views[name];
  for (const auto& [id, job] : jobs_) {
    if (job->core->state() != JobState::kRunning) continue;
    View& view = views[job->tenant];
    const JobSpec& spec = job->core->job();
    for (uint32_t s = 0; s < spec.stacks.size(); ++s) {
      if (job->core->counts(s).running == 0 || job->core->node_of(s).empty()) continue;
      view.in_use += spec.stacks[s].resources;
      ++view.running;
    }
  }
  for (const auto& p : pending_) {
    if (auto it = jobs_.find(p.job); it != jobs_.end()) ++views[it->second->tenant].waiting;
  }
  for (const auto& [tenant, queue] : over_quota_) views[tenant].waiting += queue.size();
  Resources capacity;
  for (const auto& [name, w] : workers_) capacity += w->capacity;
  for (const auto& [name, view] : views) {
    const TenantPolicy& policy = tenants_.Of(name);
    auto* t = resp->add_tenants();
    t->set_name(name);
    t->set_weight(policy.weight);
    wire::ToProto(policy.quota, t->mutable_quota());
    for (const auto& kind : policy.quota_kinds) t->add_quota_kinds(kind);
    t->set_max_stacks(policy.max_stacks);
    if (auto books = tenant_books_.find(name); books != tenant_books_.end()) {
      wire::ToProto(books->second.placed, t->mutable_placed());
      t->set_placed_stacks(books->second.stacks);
    }
    wire::ToProto(view.in_use, t->mutable_in_use());
    t->set_running_stacks(view.running);
    t->set_waiting_stacks(view.waiting);
    t->set_share(DominantShare(view.in_use, capacity) / std::max<uint32_t>(policy.weight, 1));
  }
  wire::ToProto(capacity, resp->mutable_capacity());
}

void Coordinator::RefreshTenantMetrics() {
  v1::ListTenantsResponse tenants;
  FillTenants(&tenants);
  const Resources capacity = wire::FromProto(tenants.capacity()).value();
  for (const auto& t : tenants.tenants()) {
    metrics_->tenant_waiting->Add({{"tenant", t.name()}})
        .Set(static_cast<double>(t.waiting_stacks()));
    metrics_->tenant_share->Add({{"tenant", t.name()}}).Set(t.share());
    const Resources in_use = wire::FromProto(t.in_use()).value();
    // Every kind the cluster has, so that a kind a tenant stops using reads 0, not its last value.
    for (const std::string& kind : KindsOf(in_use, capacity)) {
      const double amount = static_cast<double>(AmountOf(in_use, kind));
      metrics_->tenant_in_use->Add({{"tenant", t.name()}, {"resource", kind}})
          .Set(kind == "cpu" ? amount / kMilliCpu : amount);
    }
  }
}

}  // namespace hollerith::coordinator
