#include "common/runner/resource_pool.h"

#include <algorithm>
#include <asio/post.hpp>
#include <utility>

#include "common/base/check.h"

namespace hollerith {
namespace {

// One kind's fraction of the capacity (kinds the node has none of count for nothing: a request
// for them is never granted anyway).
double Fraction(uint64_t used, uint64_t capacity) {
  return capacity == 0 ? 0.0 : static_cast<double>(used) / static_cast<double>(capacity);
}

}  // namespace

ResourcePool::ResourcePool(asio::io_context& io, Resources capacity)
    : io_(io), capacity_(std::move(capacity)) {
  const uint64_t gpus = capacity_.Named(kGpuResource);
  HOLLERITH_CHECK(gpus <= kMaxGpus, "more gpus than a node can index");
  gpu_taken_.assign(static_cast<size_t>(gpus), false);
}

void ResourcePool::Acquire(const Resources& request, int priority, const std::string& tenant,
                           uint32_t weight, Granted granted, std::vector<int> previous_gpus) {
  Waiter waiter{next_ticket_++, request, std::move(previous_gpus), std::move(granted)};
  if (!capacity_.Holds(request)) {
    never_.push_back(std::move(waiter));
    return;
  }
  auto [it, added] = tenants_.try_emplace(tenant);
  it->second.weight = weight == 0 ? 1 : weight;
  if (request.empty()) {  // takes nothing from whoever waits
    Grant(tenant, std::move(waiter));
    return;
  }
  ++it->second.waiting;
  ++waiting_;
  levels_[priority][tenant].push_back(std::move(waiter));
  Pump();
}

void ResourcePool::Release(const ResourceGrant& grant) {
  in_use_ -= grant.request;
  for (int gpu : grant.gpus) {
    if (gpu >= 0 && static_cast<size_t>(gpu) < gpu_taken_.size()) {
      gpu_taken_[static_cast<size_t>(gpu)] = false;
    }
  }
  if (auto it = tenants_.find(grant.tenant); it != tenants_.end()) {
    it->second.used -= grant.request;
    ForgetIfIdle(grant.tenant);
  }
  Pump();
}

void ResourcePool::Pump() {
  while (!levels_.empty()) {
    Level& level = levels_.begin()->second;
    // The head: the tenant of this priority with the smallest weighted dominant share, and of
    // equal shares the one that asked first. Few tenants wait at once: a scan is enough.
    Level::iterator head = level.end();
    double head_share = 0;
    for (auto it = level.begin(); it != level.end(); ++it) {
      const double s = ShareOf(tenants_.find(it->first)->second);
      if (head == level.end() || s < head_share ||
          (s == head_share && it->second.front().ticket < head->second.front().ticket)) {
        head = it;
        head_share = s;
      }
    }
    Resources free = capacity_;
    free -= in_use_;
    if (!free.Holds(head->second.front().request)) return;  // the head waits; nobody passes it
    Waiter waiter = std::move(head->second.front());
    head->second.pop_front();
    const std::string tenant = head->first;
    if (head->second.empty()) level.erase(head);
    if (level.empty()) levels_.erase(levels_.begin());
    --waiting_;
    --tenants_.find(tenant)->second.waiting;
    Grant(tenant, std::move(waiter));
  }
}

void ResourcePool::Grant(const std::string& tenant, Waiter waiter) {
  ResourceGrant grant;
  grant.gpus = TakeGpus(waiter.request.Named(kGpuResource), waiter.previous_gpus);
  grant.request = std::move(waiter.request);
  grant.tenant = tenant;
  in_use_ += grant.request;
  tenants_.find(tenant)->second.used += grant.request;
  ForgetIfIdle(tenant);  // a request of nothing leaves nothing to remember
  asio::post(io_, [granted = std::move(waiter.granted), grant = std::move(grant)]() mutable {
    granted(std::move(grant));
  });
}

std::vector<int> ResourcePool::TakeGpus(uint64_t count, const std::vector<int>& previous) {
  std::vector<int> taken;
  auto take = [&](size_t i) {
    if (taken.size() < count && !gpu_taken_[i]) {
      gpu_taken_[i] = true;
      taken.push_back(static_cast<int>(i));
    }
  };
  for (int i : previous) {
    if (i >= 0 && static_cast<size_t>(i) < gpu_taken_.size()) take(static_cast<size_t>(i));
  }
  for (size_t i = 0; i < gpu_taken_.size() && taken.size() < count; ++i) take(i);
  std::sort(taken.begin(), taken.end());
  return taken;
}

double ResourcePool::ShareOf(const Tenant& t) const {
  double dominant = std::max(Fraction(t.used.cpu_milli, capacity_.cpu_milli),
                             Fraction(t.used.memory_bytes, capacity_.memory_bytes));
  for (const auto& [name, amount] : t.used.named) {
    dominant = std::max(dominant, Fraction(amount, capacity_.Named(name)));
  }
  return dominant / static_cast<double>(t.weight);
}

void ResourcePool::ForgetIfIdle(const std::string& tenant) {
  // A tenant that holds nothing and waits for nothing has a share of 0 when it comes back anyway.
  auto it = tenants_.find(tenant);
  if (it != tenants_.end() && it->second.waiting == 0 && it->second.used.empty()) {
    tenants_.erase(it);
  }
}

Resources ResourcePool::in_use(const std::string& tenant) const {
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? Resources{} : it->second.used;
}

double ResourcePool::share(const std::string& tenant) const {
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? 0.0 : ShareOf(it->second);
}

}  // namespace hollerith
